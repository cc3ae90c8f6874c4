package dev.lockstep.collector;

import dev.lockstep.collector.alert.Alerts;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.core.Core;
import dev.lockstep.collector.core.CoreConfig;
import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.correlate.CorrelationPolicy;
import dev.lockstep.collector.evidence.DiffWorker;
import dev.lockstep.collector.evidence.EvidenceIntake;
import dev.lockstep.collector.evidence.EvidenceStore;
import dev.lockstep.collector.fleet.AgentDirectory;
import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.collector.host.CoreHost;
import dev.lockstep.collector.host.EffectRunner;
import dev.lockstep.collector.host.GatewayBridge;
import dev.lockstep.collector.host.Pins;
import dev.lockstep.collector.host.StoreState;
import dev.lockstep.collector.incident.Incidents;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.collector.operator.OperatorService;
import dev.lockstep.collector.operator.WatchHub;
import dev.lockstep.collector.store.AuditLog;
import dev.lockstep.collector.store.RocksRunStateStore;
import dev.lockstep.collector.store.Store;
import dev.lockstep.collector.store.StoreSpace;
import dev.lockstep.security.Authorizer;
import dev.lockstep.security.CertificateExpiry;
import dev.lockstep.security.IdentityInterceptor;
import dev.lockstep.security.RefusalRateLimit;
import dev.lockstep.security.RevocationList;
import dev.lockstep.security.SecuritySetupException;
import dev.lockstep.security.Tls;
import dev.lockstep.security.TlsFiles;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A running collector: one gRPC port serving AgentGateway, Operator, health and reflection; the
 * RocksDB store under {@code data_dir/db}; the core thread; alert delivery; optional /metrics.
 * {@link #close()} stops them in reverse start order: server, executors, RocksDB last.
 */
public final class Collector implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Collector.class.getName());

  final Deque<AutoCloseable> closers = new ArrayDeque<>();
  private final CollectorConfig config;
  private final dev.lockstep.collector.config.ClusterConfig cluster;
  dev.lockstep.collector.cluster.ClusterNode node;
  private Server server;
  HTTPServer metricsServer;
  Fleet fleet;
  /** The embedded core's host (null in cluster mode). */
  CoreHost coreHost;
  CollectorMetrics metrics;
  private HealthStatusManager health;
  private StoreSpace space;
  Store store;
  /** Evidence chunks, beside {@link #store} (see startParts). */
  Store evidenceDb;
  AgentGateway gateway;
  private dev.lockstep.collector.console.ConsoleHost console;
  private volatile boolean closed;
  /**
   * The stop path's JIT warm-up after start-up ({@code -Dlockstep.collector.warmUpAgents=0} turns
   * it off): made-up agents, and stop/resume rounds; see {@code StopPathWarmUp}.
   */
  static final int WARM_UP_AGENTS = 1_000;
  static final int WARM_UP_ROUNDS = 6;

  private volatile Consumer<Throwable> onFatal = t -> { };

  /**
   * What to do once the collector can no longer decide (its core thread died): the command line
   * exits non-zero so that the service manager restarts it, and the restart replays from the
   * store. Health is NOT_SERVING before this runs.
   */
  public void onFatal(Consumer<Throwable> action) {
    onFatal = action;
  }

  private void coreDied(Throwable t, Consumer<String> progress) {
    HealthStatusManager h = health;
    if (h != null) {
      for (String service : HEALTH_NAMES) {
        h.setStatus(service, HealthCheckResponse.ServingStatus.NOT_SERVING);
      }
    }
    LOG.log(System.Logger.Level.ERROR, "the core thread died: no mismatch is decided and no stop"
        + " issued until the collector restarts", t);
    progress.accept("FATAL: the core thread died (" + t + "): no mismatch is decided and no stop"
        + " issued until the collector restarts");
    onFatal.accept(t);
  }

  private Collector(CollectorConfig config, dev.lockstep.collector.config.ClusterConfig cluster) {
    this.config = config;
    this.cluster = cluster;
  }

  /** Starts a collector; progress lines go to stdout. */
  public static Collector start(CollectorConfig config, Clock clock) throws IOException {
    return start(config, clock, line -> System.out.println("[collector] " + line));
  }

  /** Starts a collector, reporting progress lines (listening, connects, incidents, stops) to {@code progress}. */
  public static Collector start(CollectorConfig config, Clock clock, Consumer<String> progress)
      throws IOException {
    return start(config, null, clock, progress);
  }

  /**
   * Starts a collector in cluster mode when {@code cluster} is set (several collectors serve one
   * fleet through Kafka), embedded otherwise.
   */
  public static Collector start(CollectorConfig config,
      dev.lockstep.collector.config.ClusterConfig cluster, Clock clock, Consumer<String> progress)
      throws IOException {
    Collector c = new Collector(config, cluster);
    try {
      c.startParts(clock, progress);
      return c;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /**
   * Moves evidence an earlier version kept in DATA_DIR/db into DATA_DIR/evidence, once, when the
   * disk has room for a second copy (the old files go only as compaction removes them). Never
   * fails the start: evidence left behind moves on a later start.
   */
  private void moveEvidence(Consumer<String> progress) {
    if (!EvidenceStore.hasEvidence(store)) return;
    long bytes = EvidenceStore.movable(store);
    long free = StoreSpace.roomFor(store, config.dataDir());
    long needed = 2 * bytes + config.storage().highFreeBytes();
    if (free < needed) {
      progress.accept("evidence in " + config.dataDir().resolve("db") + " (" + (bytes >> 20)
          + " MiB) not moved to " + config.dataDir().resolve("evidence") + ": needs "
          + (needed >> 20) + " MiB free, " + (free >> 20) + " MiB free; it is not listed until a"
          + " later start moves it");
      return;
    }
    progress.accept("moving " + (bytes >> 20) + " MiB of evidence from "
        + config.dataDir().resolve("db") + " to " + config.dataDir().resolve("evidence"));
    try {
      int moved = EvidenceStore.moveFrom(store, evidenceDb);
      progress.accept("moved " + moved + " evidence records");
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "moving evidence failed (tried again on the next start): " + e, e);
      progress.accept("moving evidence failed (tried again on the next start): " + e.getMessage());
    }
  }

  private void startParts(Clock clock, Consumer<String> progress) throws IOException {
    if (!config.insecure() && !config.tls().complete()) {
      throw new IOException(CollectorMain.missingTls(config.tls()));
    }
    Files.createDirectories(config.dataDir());
    metrics = new CollectorMetrics();
    store = Store.open(config.dataDir().resolve("db"), config.storage().syncWrites(),
        config.storage().blockCacheBytes(), config.storage().writeBufferBytes(),
        config.storage().maxSpaceBytes());
    closers.push(store);
    RocksRunStateStore runs = new RocksRunStateStore(store);
    AuditLog audit = new AuditLog(store, clock);
    Incidents incidents = new Incidents(store);
    StoreState state = new StoreState(store, runs, incidents, audit);
    AgentDirectory agents = new AgentDirectory(store);
    // Evidence in a RocksDB of its own: bulk chunk writes (memtable switches, write stalls, WAL
    // bytes an fsync must flush) never hold up the commit of a stop decision.
    // Half the main store's memtable budget: both are charged to the one block cache.
    evidenceDb = Store.openBeside(config.dataDir().resolve("evidence"), store,
        config.storage().writeBufferBytes() / 2);
    closers.push(evidenceDb);
    moveEvidence(progress);
    EvidenceStore evidence = new EvidenceStore(evidenceDb, config.evidence().maxBytesPerIncident());
    WatchHub watch = new WatchHub();
    Core core = new Core(coreConfig(config), new SecureRandom());

    // Everything slow and not a decision: watch status, pins, evidence, diffs, housekeeping.
    ScheduledExecutorService background = Executors.newScheduledThreadPool(1, named("lockstep-background"));
    closers.push(() -> shutdown(background));
    ScheduledExecutorService evidenceWorker =
        Executors.newSingleThreadScheduledExecutor(routine(named("lockstep-evidence")));
    ThreadPoolExecutor diffs = new ThreadPoolExecutor(1, 1, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(100), routine(named("lockstep-diff")));
    Fleet[] fleetRef = new Fleet[1];
    if (cluster != null) {
      new ClusterMode(this, cluster, clock, progress).start(core, state, audit, agents, evidence,
          watch, background, evidenceWorker, diffs);
      return;
    }
    // Stop orders of transactions the store refuses outlive a restart (see HeldJournal); closed
    // after the core, once held transactions were given a last chance to be written.
    int journaled = state.journal(config.dataDir().resolve("held-stop-orders.journal"), clock.instant());
    if (journaled > 0) {
      progress.accept("committed " + journaled + " stop order change(s) held when the store"
          + " refused writes before the last shutdown");
    }
    closers.push(state::closeJournal);
    closers.push(() -> {
      int left = state.heldCount() == 0 ? 0 : state.flushHeld();
      if (left > 0) {
        LOG.log(System.Logger.Level.ERROR, left + " transaction(s) the store refused are dropped at"
            + " shutdown: their stop orders are in held-stop-orders.journal and are committed at the"
            + " next start; the rest is re-derived (events replayed, acks re-sent by the agents)");
        progress.accept("shutting down with " + left + " transaction(s) the store refused: stop"
            + " orders kept in held-stop-orders.journal, the rest re-derived at the next start");
      }
    });
    EffectRunner effects = new EffectRunner(agents, metrics,
        e -> fleetRef[0].publish(e), () -> fleetRef[0].publishStopStatus(), progress, clock,
        background, evidenceWorker);
    CoreHost host = new CoreHost(core, state, store, clock, effects, new CoreHost.Monitor() {
      @Override
      public void committed(int changes, boolean sync, double seconds) {
        metrics.coreTransactions.labelValues(sync ? "fsync" : "wal").inc();
        metrics.coreCommitSeconds.observe(seconds);
      }

      @Override
      public void queueDepth(int controlItems, int events) {
      }

      @Override
      public void failed(String what, Throwable t) {
        metrics.internalErrors.labelValues(what).inc();
        StoreSpace sp = space;
        if (sp != null && t instanceof Store.StoreException) sp.writeFailed(t);
      }

      @Override
      public void decided(double seconds) {
        metrics.stopDecisionSeconds.observe(seconds);
      }

      @Override
      public void died(Throwable t) {
        coreDied(t, progress);
      }

      @Override
      public void spilled(boolean on) {
        progress.accept(on ? "core behind ingest: routine events are read back from the store"
            + " (decisive ones and stops are not affected)" : "core caught up with ingest");
      }
    }, CORE_QUEUE_EVENTS);
    coreHost = host;
    closers.push(host);
    fleet = new Fleet(config, clock, host, state, store, agents, evidence, audit, watch);
    fleetRef[0] = fleet;
    Alerts alerts = new Alerts(config, store, clock, metrics,
        (sink, detail) -> host.submit(new Input.SinkFailing(sink, detail)));
    closers.push(alerts);
    state.alerts(alerts);
    EvidenceIntake intake = new EvidenceIntake(evidence, state::capture, host::submit, metrics,
        clock, config.evidence().maxBytesTotal(), config.evidence().maxBytesPerSecondPerAgent(),
        evidenceWorker);
    closers.push(intake);
    DiffWorker diffWorker = new DiffWorker(incidents, evidence, config.golden(), host::submit,
        metrics, diffs);
    closers.push(diffWorker);
    GatewayBridge bridge = new GatewayBridge(host, agents, intake, fleet::publish, clock, progress,
        new dev.lockstep.collector.host.AckProgress(progress, background));

    // Ingest threads mostly wait on fsync; more writers share each fsync (RocksDB group commit).
    int threads = Math.max(8, 2 * Runtime.getRuntime().availableProcessors());
    ThreadPoolExecutor ingest = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(20_000), routine(named("lockstep-ingest")));
    closers.push(() -> shutdown(ingest));
    gateway = new AgentGateway(store, bridge, ingest, metrics, clock, config.limits());
    gateway.urgentPool(urgentPool(closers));
    bridge.attach(gateway);
    effects.attach(gateway, new Pins(incidents, runs, gateway, background), diffWorker, evidence);
    fleet.attach(gateway, alerts);
    space = new StoreSpace(store, config.dataDir(), config.storage().highFreeBytes(),
        config.storage().floodFreeBytes(), config.storage().reserveBytes(), state::heldCount,
        health -> {
          progress.accept("store " + health.state() + (health.detail().isEmpty() ? " ("
              + (health.freeBytes() >> 20) + " MiB free)" : ": " + health.detail()));
          host.submit(new Input.StoreSpace(health.state().name(), health.freeBytes(), health.detail()));
        });
    space.counting(evidenceDb);
    intake.room(space::takesRoutine);
    state.space(space);
    gateway.space(space);
    fleet.space(space);
    space.check();
    host.warmUp();
    dev.lockstep.collector.alert.Alerts.warmUp(dev.lockstep.proto.v1.Incident.newBuilder()
        .setId("INC-000000").setTitle("warm-up").build());
    try {
      int replayed = host.replay();
      if (replayed > 0) progress.accept("re-processed " + replayed + " stored events not yet processed");
    } catch (RuntimeException e) {
      throw new IOException("replay of stored events failed: " + e.getMessage(), e);
    }
    host.start();
    int warmUpAgents = Integer.getInteger("lockstep.collector.warmUpAgents", WARM_UP_AGENTS);
    if (warmUpAgents > 0) {
      dev.lockstep.collector.host.StopPathWarmUp warmUp = dev.lockstep.collector.host.StopPathWarmUp
          .start(config.dataDir().resolve("warm-up"), coreConfig(config), clock, warmUpAgents,
              WARM_UP_ROUNDS);
      closers.push(warmUp);
      warmUp.done().whenComplete((line, e) -> {
        if (e == null) {
          progress.accept(line);
        } else if (!closed) {
          metrics.internalErrors.labelValues("warm_up").inc();
          LOG.log(System.Logger.Level.WARNING, "stop path warm-up failed (the first stops may be"
              + " slower, nothing else is affected): " + e, e);
        }
      });
    }

    serve(audit, clock, progress, diffWorker);

    metrics.bindStore(space::health);
    metrics.bindCoreLag(host::lagMillis);
    metrics.bindCoreQueue(() -> host.depth()[1], () -> host.depth()[2], () -> host.depth()[0]);
    serveMetrics(state, alerts);

    long sweepMillis = Math.max(50, Math.min(1000, config.correlation().window().toMillis() / 10));
    background.scheduleWithFixedDelay(guard(() -> host.submit(new Input.Sweep()), "sweep"),
        sweepMillis, sweepMillis, TimeUnit.MILLISECONDS);
    long resend = config.stopResendInterval().toMillis();
    background.scheduleWithFixedDelay(guard(fleet::resendPending, "resend"), resend, resend,
        TimeUnit.MILLISECONDS);
    background.scheduleWithFixedDelay(guard(host::checkpoint, "checkpoint"), 1000, 1000,
        TimeUnit.MILLISECONDS);
    StoreSpace sp = space;
    background.scheduleWithFixedDelay(guard(() -> {
      sp.check();
      if (state.heldCount() > 0 && sp.writable()) host.runOnCore(state::flushHeld);
    }, "store space"), 1000, 1000, TimeUnit.MILLISECONDS);
    background.scheduleWithFixedDelay(guard(fleet::refreshAlerts, "alert refresh"), 1, 1, TimeUnit.HOURS);
    long retainMillis = config.retention().interval().toMillis();
    background.scheduleWithFixedDelay(guard(() -> {
      long t0 = System.nanoTime();
      fleet.retain();
      metrics.retentionPasses.inc();
      metrics.retentionSeconds.observe((System.nanoTime() - t0) / 1e9);
    }, "retention"), Math.min(60_000, retainMillis), retainMillis, TimeUnit.MILLISECONDS);
    progress.accept("listening on " + config.listenHost() + ":" + port() + " ("
        + (config.insecure() ? "PLAINTEXT, --insecure" : "mTLS") + ", data dir "
        + config.dataDir() + ", stop policy " + config.stopPolicy().name().toLowerCase()
        + (metricsServer != null ? ", metrics on :" + metricsServer.getPort() : "")
        + (console != null ? ", console on " + console.url() : "") + ")");
  }

  /**
   * The gRPC server: identities (mTLS or --insecure), roles, AgentGateway, Operator, health and
   * reflection. Refused attempts and operator actions are audited through {@code base}.
   */
  void serve(dev.lockstep.security.AuditSink base, Clock clock, Consumer<String> progress,
      DiffWorker diffWorker) throws IOException {
    // Refusals (bad certificates, wrong roles, forged agent ids) are rate-limited so a flood
    // cannot fill the audit column family; operator actions always pass.
    RefusalRateLimit auditSink = new RefusalRateLimit(base, 100, Duration.ofMinutes(1), clock);
    metrics.bindAuditDropped(auditSink::dropped);
    Authorizer authorizer = new Authorizer(auditSink, clock);
    gateway.authorize(authorizer);
    IdentityInterceptor identities;
    ServerCredentials credentials;
    RevocationList crl = RevocationList.NONE;
    ScheduledExecutorService reloader = null;
    if (config.insecure()) {
      String warning = Tls.insecureWarning("lockstep-collector");
      System.err.println(warning);
      progress.accept(warning);
      identities = IdentityInterceptor.insecure();
      credentials = InsecureServerCredentials.create();
    } else {
      ScheduledExecutorService tlsReloader =
          Executors.newSingleThreadScheduledExecutor(named("lockstep-tls-reload"));
      reloader = tlsReloader;
      closers.push(() -> shutdown(tlsReloader));
      try {
        crl = config.tls().crl() == null ? RevocationList.NONE
            : RevocationList.load(config.tls().crl(), config.tls().ca());
        // A client certificate is optional in the handshake so that health checks (and
        // reflection) work without one; AgentGateway and Operator refuse a call without one
        // (IdentityInterceptor: UNAUTHENTICATED, audited). A bad certificate that IS presented is
        // still refused in the handshake.
        credentials = Tls.serverCredentials(
            new TlsFiles(config.tls().ca(), config.tls().cert(), config.tls().key()), crl,
            tlsReloader, Duration.ofMinutes(1), auditSink, clock, Tls.ClientCertificate.OPTIONAL);
      } catch (SecuritySetupException e) {
        throw new IOException(e.getMessage(), e);
      }
      CertificateExpiry.register(metrics.registry(), config.tls().ca(), config.tls().cert());
      identities = IdentityInterceptor.mtls(auditSink, clock);
    }
    health = new HealthStatusManager();
    OperatorService operator = new OperatorService(fleet, metrics, authorizer, diffWorker);
    InetSocketAddress address = new InetSocketAddress(config.listenHost(), config.listenPort());
    server = NettyServerBuilder.forAddress(address, credentials)
        .maxInboundMessageSize(AgentGateway.TRANSPORT_MAX_BYTES)
        .permitKeepAliveTime(20, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION)
        .addStreamTracerFactory(gateway.tracer())
        .addService(ServerInterceptors.intercept(gateway.service(), identities))
        .addService(ServerInterceptors.intercept(operator, identities))
        .maxConnectionAge(config.limits().maxConnectionAge().toSeconds(), TimeUnit.SECONDS)
        .maxConnectionAgeGrace(30, TimeUnit.SECONDS)
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .addService(reflectionV1Alpha())
        .build();
    try {
      server.start();
    } catch (IOException e) {
      throw new IOException("cannot listen on " + config.listenHost() + ":" + config.listenPort()
          + ": " + e.getMessage(), e);
    }
    closers.push(this::stopServer);
    for (String service : HEALTH_NAMES) {
      health.setStatus(service, HealthCheckResponse.ServingStatus.SERVING);
    }
    if (config.console().enabled()) {
      if (config.insecure()) {
        throw new IOException("console.enabled needs mTLS (browsers are identified by their client"
            + " certificates); with --insecure use `lockstep console --insecure` instead");
      }
      console = dev.lockstep.collector.console.ConsoleHost.start(config, operator, auditSink, crl, reloader,
          clock, progress);
      closers.push(console);
      metrics.bindConsole(console.stats());
    }

  }

  /** Metrics read from the fleet's read models, then /metrics itself when configured. */
  void serveMetrics(StoreState state, Alerts alerts) throws IOException {
    metrics.bindStreams(gateway::connected);
    metrics.bindOrdersActive(() -> state.activeOrders().size());
    metrics.bindOutboxDepth(alerts::depth);
    metrics.bindPendingRuns(() -> state.runs().pending().size());
    metrics.bindIncidents(state.incidents()::counts);
    metrics.bindConfirmations(() -> {
      Map<String, Long> m = new LinkedHashMap<>();
      for (String s : new String[] {"CONFIRMED", "FAILED", "PENDING", "OFFLINE"}) m.put(s, 0L);
      fleet.stopStatus().getAgentsList().forEach(a -> m.merge(a.getStatus(), 1L, Long::sum));
      return m;
    });
    if (config.metricsPort() > 0) {
      metricsServer = metrics.serve(config.listenHost(), config.metricsPort());
      HTTPServer ms = metricsServer;
      closers.push(ms::close);
    }
  }

  Runnable guard(Runnable r, String what) {
    return () -> {
      try {
        r.run();
      } catch (RuntimeException | Error e) {
        metrics.internalErrors.labelValues(what).inc();
        LOG.log(System.Logger.Level.ERROR, what + ": " + e, e);
      }
    };
  }

  /** The names health answers for: the whole server ("") and each Lockstep service. */
  static final java.util.List<String> HEALTH_NAMES = java.util.List.of("",
      dev.lockstep.proto.v1.AgentGatewayGrpc.SERVICE_NAME, dev.lockstep.proto.v1.OperatorGrpc.SERVICE_NAME);

  /** grpc.reflection.v1alpha, which older clients (grpcurl before 1.9, grpc_cli) still ask for. */
  @SuppressWarnings("deprecation")
  private static io.grpc.BindableService reflectionV1Alpha() {
    return io.grpc.protobuf.services.ProtoReflectionService.newInstance();
  }

  /**
   * Calls one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: gRPC
   * clients queue calls beyond it, the transport refuses streams a client opens beyond it). Agents
   * and operators share the port: an agent needs one stream (the gateway lets a connection carry
   * only a few), but {@code lockstep console} carries every browser's calls over its one
   * connection, up to 32 live views and 48 API calls at once.
   */
  static final int MAX_CALLS_PER_CONNECTION = 100;

  /** Event batches' events the core queue holds before streams wait (backpressure). */
  static final int CORE_QUEUE_EVENTS = 20_000;

  static CoreConfig coreConfig(CollectorConfig config) {
    Map<String, CorrelationPolicy.Expected> per = new LinkedHashMap<>();
    config.correlation().workflows().forEach((k, v) ->
        per.put(k, new CorrelationPolicy.Expected(v.roles(), v.count())));
    CorrelationPolicy policy = new CorrelationPolicy(config.correlation().window(),
        new CorrelationPolicy.Expected(config.correlation().defaults().roles(),
            config.correlation().defaults().count()), per);
    return new CoreConfig(CoreConfig.StopPolicy.valueOf(config.stopPolicy().name()), policy,
        config.evidence().maxBytesPerIncident(), config.evidence().logTailLines());
  }

  static java.util.concurrent.ThreadFactory named(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Threads of routine work (batches of routine events, evidence, diffs) at the lowest Java
   * priority: where the JVM maps priorities to the OS ({@code -XX:ThreadPriorityPolicy=1}, as
   * collector/jvm.options sets), the kernel favours the core, the urgent ingest threads and the
   * transport when the CPU is short, so a stop decision is not slowed by the ingest it outranks.
   * Elsewhere a no-op.
   */
  static java.util.concurrent.ThreadFactory routine(java.util.concurrent.ThreadFactory f) {
    return r -> {
      Thread t = f.newThread(r);
      t.setPriority(Thread.MIN_PRIORITY);
      return t;
    };
  }

  /**
   * Threads of their own for frames that can stop the fleet and for stop acks: they never wait
   * in the ingest queue behind other streams' routine batches. Two, so one slow fsync does not
   * hold the other.
   */
  static ThreadPoolExecutor urgentPool(Deque<AutoCloseable> closers) {
    ThreadPoolExecutor urgent = new ThreadPoolExecutor(2, 2, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(20_000), named("lockstep-urgent"));
    closers.push(() -> shutdown(urgent));
    return urgent;
  }

  static void shutdown(ExecutorService e) throws InterruptedException {
    e.shutdown();
    if (!e.awaitTermination(5, TimeUnit.SECONDS)) {
      e.shutdownNow();
      e.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private void stopServer() throws InterruptedException {
    health.enterTerminalState();
    gateway.closeAll();
    server.shutdown();
    if (!server.awaitTermination(3, TimeUnit.SECONDS)) {
      server.shutdownNow();
      server.awaitTermination(3, TimeUnit.SECONDS);
    }
  }

  /** The bound gRPC port (useful with port 0). */
  public int port() {
    return server.getPort();
  }

  /** The web console's bound HTTPS port, or 0 when the console is off. */
  public int consolePort() {
    return console == null ? 0 : console.port();
  }

  /** The bound /metrics port, or 0 when metrics are off. */
  public int metricsPort() {
    return metricsServer == null ? 0 : metricsServer.getPort();
  }

  public CollectorConfig config() {
    return config;
  }

  /** The fleet view (for in-process tests and tools). */
  public Fleet fleet() {
    return fleet;
  }

  public CollectorMetrics metrics() {
    return metrics;
  }

  /** The RocksDB store (for tests and tools: space caps, fault injection). */
  public Store store() {
    return store;
  }

  /** The evidence store (DATA_DIR/evidence), beside {@link #store()}. */
  public Store evidenceStore() {
    return evidenceDb;
  }

  /** The store's space watch (for tests and tools). */
  public StoreSpace space() {
    return space;
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    while (!closers.isEmpty()) {
      AutoCloseable c = closers.pop();
      try {
        c.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        LOG.log(System.Logger.Level.WARNING, "close: " + e);
      }
    }
  }

}
