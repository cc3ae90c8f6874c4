package dev.lockstep.collector.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The collector's Prometheus metrics, in their own registry (several collectors may share a JVM
 * in tests). Gauges read live state through suppliers bound at start-up.
 */
public final class CollectorMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();

  public final Counter eventsIngested = Counter.builder().name("lockstep_ingest_events")
      .help("Events written to the store (duplicates excluded)").register(registry);
  public final Counter duplicatesDropped = Counter.builder().name("lockstep_ingest_duplicates")
      .help("Events dropped as (agent, seq) duplicates").register(registry);
  public final Counter batchesIngested = Counter.builder().name("lockstep_ingest_batches")
      .help("Event batches written, one RocksDB WriteBatch each").register(registry);
  public final Histogram batchWriteSeconds = Histogram.builder()
      .name("lockstep_ingest_batch_write_seconds").help("Time to write one batch durably")
      .classicUpperBounds(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)
      .register(registry);
  public final Histogram correlationLagSeconds = Histogram.builder()
      .name("lockstep_correlation_lag_seconds")
      .help("Time from a run's first replica to its decision")
      .classicUpperBounds(0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900).register(registry);
  public final Histogram stopDecisionSeconds = Histogram.builder()
      .name("lockstep_stop_decision_seconds")
      .help("Time from storing the event that decided a stop to its stop frames queued to every"
          + " connected agent")
      .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5).register(registry);
  public final Histogram stopFanoutSeconds = Histogram.builder()
      .name("lockstep_stop_fanout_seconds")
      .help("Time to queue a new stop state to every connected agent")
      .classicUpperBounds(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1).register(registry);
  public final Counter runsDecided = Counter.builder().name("lockstep_runs_decided")
      .help("Runs decided by verdict").labelNames("verdict").register(registry);
  public final Counter rejectedFrames = Counter.builder().name("lockstep_gateway_rejected_frames")
      .help("Agent streams closed for a bad frame, by reason").labelNames("reason")
      .register(registry);
  public final Counter alertDeliveries = Counter.builder().name("lockstep_alert_deliveries")
      .help("Alert delivery attempts by sink and result").labelNames("sink", "result")
      .register(registry);
  public final Counter evidenceBytes = Counter.builder().name("lockstep_evidence_bytes")
      .help("Evidence bytes stored").register(registry);
  public final Counter internalErrors = Counter.builder().name("lockstep_internal_errors")
      .help("Unexpected errors, logged once and survived").labelNames("component")
      .register(registry);

  public final Counter stopAcksRefused = Counter.builder().name("lockstep_stop_acks_refused")
      .help("Stop acks that did not match the agent's desired (generation, mode); not counted")
      .register(registry);
  public final Counter stopAcksCoalesced = Counter.builder().name("lockstep_stop_acks_coalesced")
      .help("Stop acks replaced by a newer ack of the same stream before they were taken")
      .register(registry);
  public final Counter coreTransactions = Counter.builder().name("lockstep_core_transactions")
      .help("Core transactions committed, by durability").labelNames("sync").register(registry);
  public final Histogram coreCommitSeconds = Histogram.builder()
      .name("lockstep_core_commit_seconds").help("Time to commit one core transaction")
      .classicUpperBounds(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)
      .register(registry);

  public final Counter retentionPasses = Counter.builder().name("lockstep_retention_passes")
      .help("Retention passes run (off the core thread)").register(registry);
  public final Histogram retentionSeconds = Histogram.builder()
      .name("lockstep_retention_pass_seconds").help("Time one retention pass took")
      .classicUpperBounds(0.01, 0.1, 0.5, 1, 5, 30, 120).register(registry);

  public final Counter refusedCalls = Counter.builder().name("lockstep_refused_calls")
      .help("Calls refused by role or identity checks, by action").labelNames("action")
      .register(registry);

  private volatile LongSupplier streams = () -> 0;
  private volatile LongSupplier readAheadBytes = () -> 0;
  private volatile LongSupplier auditDropped = () -> 0;
  private volatile LongSupplier ordersActive = () -> 0;
  private volatile LongSupplier coreQueueDecisive = () -> 0;
  private volatile LongSupplier coreLagMillis = () -> 0;
  private volatile Supplier<dev.lockstep.collector.store.StoreSpace.Health> store = () -> null;
  private volatile LongSupplier coreQueueEvents = () -> 0;
  private volatile LongSupplier coreQueueControl = () -> 0;
  private volatile LongSupplier outboxDepth = () -> 0;
  private volatile LongSupplier pendingRuns = () -> 0;
  private volatile Supplier<Map<List<String>, Long>> incidents = Map::of;
  private volatile Supplier<Map<String, Long>> confirmations = Map::of;
  private volatile dev.lockstep.console.ConsoleServer.Stats console;

  public CollectorMetrics() {
    GaugeWithCallback.builder().name("lockstep_gateway_streams_connected")
        .help("Agent streams connected now")
        .callback(cb -> cb.call(streams.getAsLong())).register(registry);
    GaugeWithCallback.builder().name("lockstep_gateway_read_ahead_bytes")
        .help("Bytes of agent frames received and waiting for their stream's turn (read ahead so"
            + " that a frame that can stop the fleet is not stuck behind routine ones)")
        .callback(cb -> cb.call(readAheadBytes.getAsLong())).register(registry);
    io.prometheus.metrics.core.metrics.CounterWithCallback.builder()
        .name("lockstep_audit_refusals_dropped")
        .help("Refused attempts not written to the audit log (rate limit)")
        .callback(cb -> cb.call(auditDropped.getAsLong())).register(registry);
    GaugeWithCallback.builder().name("lockstep_store_free_bytes")
        .help("Bytes the collector's store can still use (file system or cap, minus unflushed memtables)")
        .callback(cb -> {
          var h = store.get();
          if (h != null) cb.call(Math.min(h.freeBytes(), Long.MAX_VALUE / 2));
        }).register(registry);
    GaugeWithCallback.builder().name("lockstep_store_state")
        .help("The collector store's state: 1 for the current one of OK, LOW, FLOOD, FAILED")
        .labelNames("state")
        .callback(cb -> {
          var h = store.get();
          for (var st : dev.lockstep.collector.store.StoreSpace.State.values()) {
            cb.call(h != null && h.state() == st ? 1 : 0, st.name());
          }
        }).register(registry);
    GaugeWithCallback.builder().name("lockstep_store_held_writes")
        .help("Transactions held in memory because the store refused them (written on recovery)")
        .callback(cb -> {
          var h = store.get();
          cb.call(h == null ? 0 : h.pendingWrites());
        }).register(registry);
    GaugeWithCallback.builder().name("lockstep_core_lag_seconds")
        .help("How far behind the store the core's routine processing is (0: keeping up)")
        .callback(cb -> cb.call(coreLagMillis.getAsLong() / 1000.0)).register(registry);
    GaugeWithCallback.builder().name("lockstep_stop_orders_active")
        .help("Stop orders in force (removed only by an operator's resume)")
        .callback(cb -> cb.call(ordersActive.getAsLong())).register(registry);
    GaugeWithCallback.builder().name("lockstep_core_queue")
        .help("Work waiting for the core thread: decisive events (golden reports, mismatch log"
            + " lines), routine events, control inputs (operator calls, hellos, acks)")
        .labelNames("kind")
        .callback(cb -> {
          cb.call(coreQueueDecisive.getAsLong(), "decisive");
          cb.call(coreQueueEvents.getAsLong(), "events");
          cb.call(coreQueueControl.getAsLong(), "control");
        }).register(registry);
    GaugeWithCallback.builder().name("lockstep_alert_outbox_depth")
        .help("Alerts waiting for delivery").callback(cb -> cb.call(outboxDepth.getAsLong()))
        .register(registry);
    GaugeWithCallback.builder().name("lockstep_runs_pending")
        .help("Runs waiting for replicas").callback(cb -> cb.call(pendingRuns.getAsLong()))
        .register(registry);
    GaugeWithCallback.builder().name("lockstep_incidents")
        .help("Incidents by severity and state").labelNames("severity", "state")
        .callback(cb -> incidents.get().forEach((k, v) -> cb.call(v, k.get(0), k.get(1))))
        .register(registry);
    io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("lockstep_console_requests")
        .help("Requests the web console answered (console: in collector.yaml), and those it refused"
            + " before any API call (no usable client certificate, missing token)")
        .labelNames("result")
        .callback(cb -> {
          var c = console;
          if (c != null) {
            cb.call(c.requests() - c.refused(), "admitted");
            cb.call(c.refused(), "refused");
          }
        }).register(registry);
    io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("lockstep_console_api_failures")
        .help("Operator API calls from the web console that ended with an error (role refusals included)")
        .callback(cb -> {
          var c = console;
          if (c != null) cb.call(c.apiFailures());
        }).register(registry);
    GaugeWithCallback.builder().name("lockstep_console_event_streams")
        .help("Live views open on the web console (one watch stream each)")
        .callback(cb -> {
          var c = console;
          cb.call(c == null ? 0 : c.streams());
        }).register(registry);
    GaugeWithCallback.builder().name("lockstep_stop_agents")
        .help("Agents by how they answered their desired stop state: CONFIRMED, FAILED, PENDING, OFFLINE").labelNames("status")
        .callback(cb -> confirmations.get().forEach((k, v) -> cb.call(v, k)))
        .register(registry);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  public void bindReadAhead(LongSupplier bytes) {
    readAheadBytes = bytes;
  }

  public void bindStreams(LongSupplier s) {
    streams = s;
  }

  public void bindAuditDropped(LongSupplier s) {
    auditDropped = s;
  }

  public void bindOrdersActive(LongSupplier s) {
    ordersActive = s;
  }

  public void bindStore(Supplier<dev.lockstep.collector.store.StoreSpace.Health> s) {
    store = s;
  }

  public void bindCoreLag(LongSupplier millis) {
    coreLagMillis = millis;
  }

  public void bindCoreQueue(LongSupplier decisive, LongSupplier events, LongSupplier control) {
    coreQueueDecisive = decisive;
    coreQueueEvents = events;
    coreQueueControl = control;
  }

  public void bindOutboxDepth(LongSupplier s) {
    outboxDepth = s;
  }

  public void bindPendingRuns(LongSupplier s) {
    pendingRuns = s;
  }

  /** Keys are [severity, state]. */
  public void bindIncidents(Supplier<Map<List<String>, Long>> s) {
    incidents = s;
  }

  public void bindConfirmations(Supplier<Map<String, Long>> s) {
    confirmations = s;
  }

  public void bindConsole(dev.lockstep.console.ConsoleServer.Stats s) {
    console = s;
  }

  /** Serves /metrics on {@code host:port}; port 0 picks a free one. */
  public HTTPServer serve(String host, int port) throws IOException {
    return HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart();
  }
}
