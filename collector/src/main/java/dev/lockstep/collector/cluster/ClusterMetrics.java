package dev.lockstep.collector.cluster;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/** Cluster mode's metrics, in the collector's registry (bound to live state at start-up). */
final class ClusterMetrics {
  final Counter produceFailures;
  final Histogram produceSeconds;

  ClusterMetrics(PrometheusRegistry registry, Supplier<Map<String, Long>> collectors,
      LongSupplier coreRunning, Supplier<Map<String, Long>> coreLag, LongSupplier replicaLag,
      LongSupplier stopsSent, Supplier<String> streamsState) {
    produceFailures = Counter.builder().name("lockstep_cluster_produce_failures")
        .help("Records Kafka did not take (events answered with a Backoff), by topic")
        .labelNames("topic").register(registry);
    produceSeconds = Histogram.builder().name("lockstep_cluster_produce_seconds")
        .help("Time from producing an agent's batch to Kafka's acknowledgement (acks=all)")
        .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5)
        .register(registry);
    GaugeWithCallback.builder().name("lockstep_cluster_collectors")
        .help("Collectors of this fleet by state (UP, DOWN: no heartbeat for 10 s, STOPPED)")
        .labelNames("state")
        .callback(cb -> collectors.get().forEach((k, v) -> cb.call(v, k))).register(registry);
    GaugeWithCallback.builder().name("lockstep_cluster_core_running")
        .help("1 while this collector runs the core task (decisions, incidents, orders)")
        .callback(cb -> cb.call(coreRunning.getAsLong())).register(registry);
    GaugeWithCallback.builder().name("lockstep_cluster_core_lag_records")
        .help("Records on the core's input topics it has not processed yet")
        .labelNames("topic")
        .callback(cb -> coreLag.get().forEach((k, v) -> cb.call(v, k))).register(registry);
    GaugeWithCallback.builder().name("lockstep_cluster_replica_lag_records")
        .help("Records of the core's state, audit and evidence this collector has not copied yet")
        .callback(cb -> cb.call(replicaLag.getAsLong())).register(registry);
    CounterWithCallback.builder().name("lockstep_cluster_stop_commands_sent")
        .help("StopCommands this collector sent to its agents (changes and resends)")
        .callback(cb -> cb.call(stopsSent.getAsLong())).register(registry);
    GaugeWithCallback.builder().name("lockstep_cluster_streams_state")
        .help("1 for the current state of this collector's Kafka Streams client")
        .labelNames("state")
        .callback(cb -> {
          String now = streamsState.get();
          for (String s : new String[] {"CREATED", "REBALANCING", "RUNNING", "PENDING_SHUTDOWN",
              "NOT_RUNNING", "PENDING_ERROR", "ERROR"}) {
            cb.call(s.equals(now) ? 1 : 0, s);
          }
        }).register(registry);
  }
}
