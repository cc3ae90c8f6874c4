package dev.lockstep.collector.cluster;

import dev.lockstep.collector.config.ClusterConfig;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.core.Core;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams side of cluster mode: the topology (events and control in, the core
 * processor with its state store, stops, replies, audit and alerts out) and the client every
 * collector runs, so whichever collector is alive can run the core task. Exactly-once v2: input
 * offsets, state changelog and outputs commit in one Kafka transaction; one standby keeps a warm
 * copy of the state on another collector so a failover does not replay the whole changelog.
 */
final class CoreStreams {
  private static final System.Logger LOG = System.getLogger(CoreStreams.class.getName());

  private CoreStreams() {}

  static Topology topology(Topics t, ClusterConfig c, org.apache.kafka.streams.processor.api.ProcessorSupplier<String, byte[], String, byte[]> core) {
    Topology top = new Topology();
    top.addSource("events-in", new StringDeserializer(), new ByteArrayDeserializer(), t.events);
    top.addSource("control-in", new StringDeserializer(), new ByteArrayDeserializer(), t.control);
    top.addProcessor(CoreProcessor.NAME, core, "events-in", "control-in");
    top.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(Topics.STORE),
            Serdes.String(), Serdes.ByteArray()).withCachingDisabled()
        .withLoggingEnabled(Map.of("min.insync.replicas", Integer.toString(c.minInsyncReplicas()),
            "max.message.bytes", Integer.toString(Topics.MAX_RECORD_BYTES))), CoreProcessor.NAME);
    top.addSink(CoreProcessor.STOPS_OUT, t.stops, new StringSerializer(), new ByteArraySerializer(),
        CoreProcessor.NAME);
    top.addSink(CoreProcessor.REPLIES_OUT, t.replies, new StringSerializer(),
        new ByteArraySerializer(), CoreProcessor.NAME);
    top.addSink(CoreProcessor.AUDIT_OUT, t.audit, new StringSerializer(), new ByteArraySerializer(),
        CoreProcessor.NAME);
    top.addSink(CoreProcessor.ALERTS_OUT, t.alerts, new StringSerializer(),
        new ByteArraySerializer(), CoreProcessor.NAME);
    return top;
  }

  static Properties properties(ClusterConfig c, CollectorConfig collector, Topics t,
      Properties client) {
    Properties p = new Properties();
    p.putAll(client);
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, t.applicationId);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    p.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, c.standbyReplicas());
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, c.replicationFactor());
    p.put(StreamsConfig.topicPrefix("min.insync.replicas"), Integer.toString(c.minInsyncReplicas()));
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, c.commitInterval().toMillis());
    p.put(StreamsConfig.STATE_DIR_CONFIG, ClusterNode.stateDir(collector).toString());
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    // events and control inputs need no time alignment: process whatever has arrived
    p.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, -1L);
    // a collector that dies is noticed within 6 s, and its zombie transaction aborted soon after
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1500);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG),
        Topics.MAX_RECORD_BYTES);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), 5000);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), Topics.MAX_RECORD_BYTES);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 0);
    p.put(StreamsConfig.CLIENT_ID_CONFIG, "lockstep-" + c.collectorId() + "-streams");
    return p;
  }

  /**
   * What a failure of the core's stream thread does: it is counted as the core failing
   * (internal_errors{component="core"}, alert LockstepCollectorCoreFailed), logged with its
   * trace, and the thread replaced. A failure that comes back on every retry (a record Kafka
   * refuses) stops every decision, and the replaced thread looked healthy again each time.
   */
  static org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler threadFailed(
      CoreProcessor.Host host, Consumer<String> progress) {
    return e -> {
      host.failed("core", e);
      LOG.log(System.Logger.Level.ERROR, "the core's stream thread failed; replacing it", e);
      progress.accept("ERROR: the core's stream thread failed (" + e + "); replacing it");
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    };
  }

  static KafkaStreams create(ClusterConfig c, CollectorConfig collector, Topics t, Core core,
      Clock clock, CoreProcessor.Host host, Consumer<String> progress, Properties client) {
    Duration sweep = Duration.ofMillis(Math.max(50, Math.min(1000,
        collector.correlation().window().toMillis() / 10)));
    Topology top = topology(t, c, () -> new CoreProcessor(core, t, clock, host, sweep,
        collector.retention()));
    KafkaStreams streams = new KafkaStreams(top, properties(c, collector, t, client));
    streams.setUncaughtExceptionHandler(threadFailed(host, progress));
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.PENDING_ERROR) {
        progress.accept("ERROR: Kafka Streams client " + before + " -> " + now);
      }
    });
    return streams;
  }
}
