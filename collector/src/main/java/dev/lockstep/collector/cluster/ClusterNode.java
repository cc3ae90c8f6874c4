package dev.lockstep.collector.cluster;

import com.google.protobuf.Timestamp;
import dev.lockstep.collector.Fleet;
import dev.lockstep.collector.config.ClusterConfig;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.core.Core;
import dev.lockstep.collector.core.Effect;
import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.evidence.EvidenceStore;
import dev.lockstep.collector.host.CoreDoor;
import dev.lockstep.collector.host.StoreState;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.collector.store.AuditLog;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.store.v1.AckedMark;
import dev.lockstep.proto.store.v1.ClusterInput;
import dev.lockstep.proto.store.v1.ClusterMember;
import dev.lockstep.proto.store.v1.ClusterReply;
import dev.lockstep.proto.v1.ClusterStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * One collector's membership in a cluster: its Kafka clients and what it keeps from the topics.
 * It owns, and closes in reverse order, the admin client, the idempotent producer gateways and
 * the operator API produce with, the Kafka Streams client that may run the core task, and three
 * readers: the small tables read whole (stops, acked marks, members), the replies to this
 * collector's requests, and the copy of the core's state, audit and evidence.
 *
 * <p>Invariant: whatever this collector tells an agent about its stop state, or answers an
 * operator, was committed by the core; it only ever acks events Kafka took.
 */
public final class ClusterNode implements CoreDoor, Fleet.Cluster, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ClusterNode.class.getName());
  private static final Duration HEARTBEAT = Duration.ofSeconds(2);
  /** The most a run's state takes in the core's changelog: 3/4 of a record, room to spare. */
  static final long MAX_RUN_BYTES = Topics.MAX_RECORD_BYTES * 3L / 4;

  private final ClusterConfig config;
  private final CollectorConfig collector;
  private final Topics topics;
  private final Clock clock;
  private final Consumer<String> progress;
  private final Deque<AutoCloseable> closers = new ArrayDeque<>();
  private final Map<String, CompletableFuture<ClusterReply>> pending = new ConcurrentHashMap<>();
  private final AckedMarks marks = new AckedMarks();
  private final StopFanout stops = new StopFanout();
  private final Members members;
  private final AtomicLong produced = new AtomicLong();
  private final Map<String, Long> coreLag = new ConcurrentHashMap<>();
  private final CoreBacklog backlog;
  private final Instant startedAt;
  private Properties client;
  private Admin admin;
  private KafkaProducer<String, byte[]> producer;
  private volatile KafkaStreams streams;
  private TopicReader tables;
  private TopicReader replies;
  private volatile TopicReader replica;
  private ClusterMetrics metrics;
  private ExecutorService waiters;
  private volatile boolean coreRunning;

  private volatile Supplier<List<String>> localAgents = List::of;
  private volatile String advertised = "";
  private volatile ClusterBridge bridge;
  private EventsProducer sink;
  private MarkPublisher ackedMarks;
  private boolean closed;

  private ClusterNode(ClusterConfig config, CollectorConfig collector, Clock clock,
      Consumer<String> progress) {
    this.config = config;
    this.collector = collector;
    this.topics = new Topics(config.topicPrefix());
    this.clock = clock;
    this.progress = progress;
    this.members = new Members(clock);
    this.startedAt = clock.instant();
    this.backlog = new CoreBacklog(config.maxCoreBacklog().toMillis());
  }

  /** What the node needs from the collector around it. */
  public record Parts(Core core, Store store, StoreState state, AuditLog audit,
      EvidenceStore evidence, CollectorMetrics metrics, Consumer<List<Effect>> coreEffects,
      Consumer<List<dev.lockstep.collector.core.Change>> copied) {}

  /**
   * Joins the cluster: creates missing topics, reads the stop and ack tables to their end, starts
   * the copy of the core's state and the Kafka Streams client that may run the core task. Fails
   * with one readable line when Kafka cannot be reached or the topics cannot be created.
   */
  public static ClusterNode start(ClusterConfig config, CollectorConfig collector, Parts parts,
      Clock clock, Consumer<String> progress) throws IOException {
    ClusterNode n = new ClusterNode(config, collector, clock, progress);
    try {
      n.startParts(parts);
      return n;
    } catch (IOException | RuntimeException e) {
      n.close();
      if (e instanceof KafkaException || e instanceof IOException) {
        // one readable line naming where Kafka was looked for (a TLS refusal says only "SSL
        // handshake failed")
        throw new IOException("cluster mode: Kafka at " + config.bootstrap() + ": " + e.getMessage(), e);
      }
      throw e;
    }
  }

  private void startParts(Parts parts) throws IOException {
    quietKafkaLogs();
    client = clientProperties(config);
    admin = Admin.create(withProps(client, Map.of(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000",
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000")));
    closers.push(() -> admin.close(Duration.ofSeconds(2)));
    topics.create(admin, config, collector.retention());

    metrics = new ClusterMetrics(parts.metrics().registry(), members::counts,
        () -> coreRunning ? 1 : 0, () -> Map.copyOf(coreLag),
        () -> replica == null ? 0 : replica.lag(), stops::sent,
        () -> streams == null ? "CREATED" : streams.state().name());
    Properties p = withProps(client, Map.of(
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true",
        ProducerConfig.LINGER_MS_CONFIG, "1",
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES),
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000",
        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000",
        ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000"));
    producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    closers.push(() -> producer.close(Duration.ofSeconds(5)));
    // the metadata of every topic it writes, now: else the first send to each waits for it
    for (String t : List.of(topics.events, topics.acked, topics.control, topics.members, topics.evidence)) {
      producer.partitionsFor(t);
    }
    ackedMarks = new MarkPublisher((agent, seq) -> producer.send(new ProducerRecord<>(topics.acked, agent,
            AckedMark.newBuilder().setSeq(seq).setCollectorId(config.collectorId()).build().toByteArray()),
        (md, e) -> {
          if (e != null) metrics.produceFailures.labelValues("acked").inc();
        }), () -> metrics.produceFailures.labelValues("acked").inc(), 50);
    closers.push(ackedMarks);

    // counted for LockstepClusterReaderFailing: the stop table, acked marks and state copy come in
    // through these readers, so one that keeps failing serves agents stale stop states
    Runnable readerFailed = () -> parts.metrics().internalErrors.labelValues("cluster_reader").inc();
    tables = new TopicReader("tables", client, List.of(topics.stops, topics.acked, topics.members),
        tp -> TopicReader.BEGINNING, this::tableRecords);
    closers.push(tables);
    tables.onFailure(readerFailed);
    tables.start();
    replies = new TopicReader("replies", client, List.of(topics.replies), tp -> TopicReader.END,
        this::replyRecords);
    closers.push(replies);
    replies.onFailure(readerFailed);
    replies.start();
    waiters = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "lockstep-cluster-wait");
      t.setDaemon(true);
      return t;
    });
    closers.push(waiters::shutdownNow);

    Replica copy = new Replica(topics, parts.store(), parts.state(), parts.audit(), parts.evidence(),
        config.collectorId(), clock, a -> {
          ClusterBridge b = bridge;
          if (b != null) b.copied(a.changes());
          parts.copied().accept(a.changes());
        });
    replica = new TopicReader("copy", client, copy.topicNames(), copy::start, copy);
    closers.push(replica);
    replica.onFailure(readerFailed);
    replica.start();
    try {
      if (!tables.awaitCaughtUp(Duration.ofSeconds(60))) {
        throw new IOException("cluster mode: could not read " + topics.stops + " and "
            + topics.acked + " within 60 s");
      }
      if (!replica.awaitCaughtUp(Duration.ofSeconds(120))) {
        progress.accept("WARNING: the copy of the cluster's state is still catching up ("
            + replica.lag() + " records behind); answers may lag until it has");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while joining the cluster");
    }

    // a run is one record of the state's changelog: kept well under the record limit
    parts.core().limitRunState(r -> dev.lockstep.collector.store.RocksRunStateStore.encode(r).length,
        MAX_RUN_BYTES);
    streams = CoreStreams.create(config, collector, topics, parts.core(), clock, new CoreProcessor.Host() {
      @Override
      public void effects(List<Effect> effects) {
        parts.coreEffects().accept(effects);
      }

      @Override
      public void running(boolean running) {
        coreRunning = running;
        progress.accept(running ? "this collector runs the core task now (decisions, incidents,"
            + " stop orders)" : "this collector no longer runs the core task");
      }

      @Override
      public void failed(String what, Throwable t) {
        parts.metrics().internalErrors.labelValues(what).inc();
      }

      @Override
      public void applied(int changes, double seconds) {
        parts.metrics().coreTransactions.labelValues("kafka").inc();
        parts.metrics().coreCommitSeconds.observe(seconds);
      }
    }, progress, client);
    closers.push(() -> streams.close(Duration.ofSeconds(10)));
    streams.start();
  }

  /** Starts the heartbeat, the stop resend and the lag measurement on {@code scheduler}. */
  public void schedule(ScheduledExecutorService scheduler, Supplier<List<String>> agents,
      String address) {
    this.localAgents = agents;
    this.advertised = config.advertise().isEmpty() ? address : config.advertise();
    scheduler.scheduleWithFixedDelay(guard(() -> heartbeat(false), "heartbeat"), 0,
        HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
    long resend = collector.stopResendInterval().toMillis();
    scheduler.scheduleWithFixedDelay(guard(stops::resendPending, "resend"), resend, resend,
        TimeUnit.MILLISECONDS);
    // its own thread: an Admin call waits up to 10 s for an unreachable broker, which must not
    // hold up the stop resend on the background thread; each second, so the gateways' hold on
    // routine events (CoreBacklog) follows the core closely
    java.util.concurrent.ScheduledExecutorService lag = java.util.concurrent.Executors
        .newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "lockstep-cluster-lag");
          t.setDaemon(true);
          return t;
        });
    closers.push(lag::shutdownNow);
    lag.scheduleWithFixedDelay(guard(this::measureLag, "lag"), 1, 1, TimeUnit.SECONDS);
  }

  /**
   * Why gateways should hold routine batches now (the core is more than
   * {@code cluster.max_core_backlog} behind on the events topic), or null.
   */
  String holdRoutine() {
    return backlog.holdRoutine(clock.millis());
  }

  private Runnable guard(Runnable r, String what) {
    return () -> {
      try {
        r.run();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "cluster " + what + ": " + e);
      }
    };
  }

  // ------------------------------------------------------------------ what the collector plugs in

  /**
   * The gateway's side of cluster mode: the listener for agent streams (Hellos, stop acks,
   * evidence) and, through {@link #sink()}, where validated batches go. Call once, before agents
   * connect; then {@link #attach}.
   */
  public dev.lockstep.collector.gateway.GatewayListener agents(
      dev.lockstep.collector.fleet.AgentDirectory directory,
      dev.lockstep.collector.evidence.EvidenceIntake intake, StoreState copy,
      CollectorMetrics collectorMetrics, dev.lockstep.collector.host.AckProgress acks) {
    ClusterBridge b = new ClusterBridge(this, directory, intake, copy, clock, progress, acks);
    sink = new EventsProducer(this, collectorMetrics, clock, b::ingested);
    intake.replication(this::replicateEvidence);
    bridge = b;
    return b;
  }

  /** Where the gateway stores validated batches: the events topic. */
  public dev.lockstep.collector.gateway.AgentGateway.BatchSink sink() {
    return sink;
  }

  /** The gateway and pins the listener answers agents with. */
  public void attach(dev.lockstep.collector.gateway.AgentGateway gateway,
      dev.lockstep.collector.host.Pins pins) {
    bridge.attach(gateway, pins);
  }

  private void replicateEvidence(String agentId, dev.lockstep.proto.v1.EvidenceChunk stored,
      Runnable then) {
    var record = dev.lockstep.proto.store.v1.ClusterEvidence.newBuilder().setAgentId(agentId)
        .setChunk(stored).setCollectorId(config.collectorId()).build();
    try {
      producer.send(new ProducerRecord<>(topics.evidence, stored.getIncidentId(), record.toByteArray()),
          (md, e) -> {
            if (e != null) {
              metrics.produceFailures.labelValues("evidence").inc();
              LOG.log(System.Logger.Level.WARNING, "evidence chunk of " + agentId + " kept only on"
                  + " this collector: Kafka did not take it (" + e.getMessage() + ")");
            }
            then.run();
          });
    } catch (KafkaException e) {
      metrics.produceFailures.labelValues("evidence").inc();
      then.run();
    }
  }

  /**
   * Audit entries this collector records (refused calls, operator failures) go to the audit
   * topic, so every collector's audit log shows them.
   */
  public dev.lockstep.security.AuditSink auditSink() {
    return entry -> {
      var e = AuditLog.entry(entry.at(), entry.who(), entry.role(), entry.action(), entry.target(),
          entry.remoteAddress(), AuditLog.result(entry), entry.detail());
      try {
        producer.send(new ProducerRecord<>(topics.audit, e.getAction(), e.toByteArray()));
      } catch (KafkaException ex) {
        LOG.log(System.Logger.Level.WARNING, "audit entry not sent to Kafka: " + ex.getMessage());
      }
    };
  }

  /** Delivers the core's alerts through {@code alerts} while this collector holds them. */
  public AutoCloseable deliverAlerts(dev.lockstep.collector.alert.Alerts alerts) {
    AlertsReader r = new AlertsReader(client, topics, alerts);
    r.start();
    return r;
  }

  /** Runs {@code task} once this collector's copy shows everything committed so far. */
  public void afterCopy(Runnable task) {
    waiters.execute(() -> {
      awaitCopy();
      task.run();
    });
  }

  // ------------------------------------------------------------------ tables

  private void tableRecords(List<ConsumerRecord<String, byte[]>> records) {
    for (ConsumerRecord<String, byte[]> r : records) {
      try {
        if (r.topic().equals(topics.stops)) {
          stops.applied(r.key(), r.value());
        } else if (r.topic().equals(topics.acked)) {
          if (r.key() != null && r.value() != null) marks.advance(r.key(), AckedMark.parseFrom(r.value()).getSeq());
        } else if (r.topic().equals(topics.members)) {
          members.applied(r.key(), r.value());
        }
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        LOG.log(System.Logger.Level.WARNING, "unreadable record on " + r.topic() + ": " + e.getMessage());
      }
    }
  }

  StopFanout stops() {
    return stops;
  }

  AckedMarks marks() {
    return marks;
  }

  /** Publishes {@code agentId}'s acked mark for the other collectors; never blocks. */
  void publishMark(String agentId, long seq) {
    ackedMarks.publish(agentId, seq);
  }

  String collectorId() {
    return config.collectorId();
  }

  Topics topics() {
    return topics;
  }

  KafkaProducer<String, byte[]> producer() {
    return producer;
  }

  ClusterMetrics metrics() {
    return metrics;
  }

  // ------------------------------------------------------------------ requests

  private void replyRecords(List<ConsumerRecord<String, byte[]>> records) {
    for (ConsumerRecord<String, byte[]> r : records) {
      if (!config.collectorId().equals(r.key())) continue;
      try {
        ClusterReply reply = ClusterReply.parseFrom(r.value());
        CompletableFuture<ClusterReply> f = pending.remove(reply.getRequestId());
        if (f != null) f.complete(reply);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        LOG.log(System.Logger.Level.WARNING, "unreadable reply: " + e.getMessage());
      }
    }
  }

  /** A control input on its way to the core: taken by Kafka, then answered by the core. */
  record Request(CompletableFuture<Void> taken, CompletableFuture<Object> answer) {}

  /**
   * Produces {@code in} for the core. {@code taken} completes once Kafka took it; {@code answer}
   * once the core's transaction committed (with its value, or exceptionally with its {@link
   * dev.lockstep.collector.core.Refusal}); with {@code readYourWrite} only after this collector's
   * copy of the state shows that transaction too.
   */
  Request request(Input in, String key, boolean readYourWrite) {
    byte[] r = new byte[8];
    ThreadLocalRandom.current().nextBytes(r);
    String id = config.collectorId() + "/" + HexFormat.of().formatHex(r);
    CompletableFuture<ClusterReply> reply = new CompletableFuture<>();
    pending.put(id, reply);
    CompletableFuture<Void> taken = new CompletableFuture<>();
    ClusterInput record = ClusterInputs.encode(in).setRequestId(id)
        .setCollectorId(config.collectorId()).build();
    try {
      producer.send(new ProducerRecord<>(topics.control, key, record.toByteArray()), (md, e) -> {
        if (e == null) {
          taken.complete(null);
        } else {
          metrics.produceFailures.labelValues("control").inc();
          taken.completeExceptionally(e);
          pending.remove(id);
          reply.completeExceptionally(new IllegalStateException(
              "Kafka did not take the request: " + e.getMessage()));
        }
      });
    } catch (KafkaException e) {
      pending.remove(id);
      taken.completeExceptionally(e);
      reply.completeExceptionally(new IllegalStateException("Kafka did not take the request: "
          + e.getMessage()));
    }
    CompletableFuture<Object> answer = reply.thenApplyAsync(rep -> {
      Object value = ClusterInputs.result(rep);
      if (readYourWrite) awaitCopy();
      return value;
    }, waiters);
    answer.whenComplete((v, e) -> pending.remove(id));
    return new Request(taken, answer);
  }

  /** Operator actions: answered once committed and visible in this collector's copy. */
  @Override
  public CompletableFuture<Object> submit(Input in) {
    return request(in, "operator", true).answer();
  }

  private void awaitCopy() {
    try {
      Map<TopicPartition, Long> target = replica.endOffsetsNow();
      target.keySet().removeIf(tp -> !tp.topic().equals(topics.changelog));
      if (!replica.awaitPositions(target, Duration.ofSeconds(10))) {
        LOG.log(System.Logger.Level.WARNING, "the copy of the core's state did not catch up within 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (KafkaException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot read the changelog's end offsets: " + e.getMessage());
    }
  }

  // ------------------------------------------------------------------ heartbeat, lag

  private void heartbeat(boolean stopping) {
    Instant now = clock.instant();
    ClusterMember m = ClusterMember.newBuilder().setCollectorId(config.collectorId())
        .setAddress(advertised).setStartedAt(ts(startedAt)).setHeartbeatAt(ts(now))
        .addAllAgentIds(localAgents.get()).setCore(coreRunning && !stopping)
        .setStopping(stopping).setEventsProduced(produced.get())
        .setVersion(dev.lockstep.collector.gateway.AgentGateway.VERSION).build();
    producer.send(new ProducerRecord<>(topics.members, config.collectorId(), m.toByteArray()));
  }

  private void measureLag() {
    try {
      ListConsumerGroupOffsetsResult r = admin.listConsumerGroupOffsets(topics.applicationId);
      Map<TopicPartition, OffsetAndMetadata> committed = r.partitionsToOffsetAndMetadata()
          .get(10, TimeUnit.SECONDS);
      Map<TopicPartition, OffsetSpec> ask = new java.util.HashMap<>();
      for (String t : List.of(topics.events, topics.control)) ask.put(new TopicPartition(t, 0), OffsetSpec.latest());
      var ends = admin.listOffsets(ask).all().get(10, TimeUnit.SECONDS);
      for (TopicPartition tp : ask.keySet()) {
        OffsetAndMetadata c = committed.get(tp);
        long end = ends.get(tp).offset();
        long at = c == null ? 0 : c.offset();
        coreLag.put(tp.topic(), Math.max(0, end - at));
        if (tp.topic().equals(topics.events)) backlog.measured(clock.millis(), at, end);
      }
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.log(System.Logger.Level.DEBUG, "lag: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  void produced(int events) {
    produced.addAndGet(events);
  }

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  // ------------------------------------------------------------------ Fleet.Cluster

  @Override
  public Optional<String> holder(String agentId) {
    return members.holder(agentId);
  }

  @Override
  public Map<String, String> connectedAgents() {
    return members.connectedAgents();
  }

  @Override
  public long ackedSeq(String agentId) {
    return marks.get(agentId);
  }

  @Override
  public ClusterStatus status() {
    return ClusterStatus.newBuilder().setCollectorId(config.collectorId())
        .addAllCollectors(members.view()).putAllCoreLag(coreLag).setReplicaLag(replica.lag())
        .setBootstrap(config.bootstrap()).build();
  }

  /** Whether this collector runs the core task now. */
  public boolean coreRunning() {
    return coreRunning;
  }

  // ------------------------------------------------------------------ set-up helpers

  static Properties clientProperties(ClusterConfig c) throws IOException {
    Properties p = new Properties();
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, c.bootstrap());
    p.put(CommonClientConfigs.CLIENT_ID_CONFIG, "lockstep-" + c.collectorId());
    p.put(ConsumerConfig.CLIENT_DNS_LOOKUP_CONFIG, "use_all_dns_ips");
    if (c.tls() != null) {
      p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL");
      p.put("ssl.truststore.type", "PEM");
      p.put("ssl.truststore.location", c.tls().ca().toString());
      if (c.tls().cert() != null) {
        p.put("ssl.keystore.type", "PEM");
        p.put("ssl.keystore.certificate.chain", Files.readString(c.tls().cert()));
        p.put("ssl.keystore.key", Files.readString(c.tls().key()));
      }
    }
    p.putAll(c.properties());
    return p;
  }

  static Properties withProps(Properties base, Map<String, String> more) {
    Properties p = new Properties();
    p.putAll(base);
    p.putAll(more);
    return p;
  }

  /** Kafka's clients log every configuration at INFO; only their warnings go to the log. */
  private static final java.util.logging.Logger KAFKA_LOG = java.util.logging.Logger.getLogger("org.apache.kafka");

  private static void quietKafkaLogs() {
    KAFKA_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    if (producer != null) {
      try {
        heartbeat(true);
        producer.flush();
      } catch (RuntimeException e) {
        // Kafka unreachable: the others see this collector DOWN after 10 s instead
      }
    }
    while (!closers.isEmpty()) {
      try {
        closers.pop().close();
      } catch (Exception e) {
        LOG.log(System.Logger.Level.WARNING, "cluster close: " + e);
      }
    }
  }

  static Path stateDir(CollectorConfig c) {
    return c.dataDir().resolve("streams");
  }
}
