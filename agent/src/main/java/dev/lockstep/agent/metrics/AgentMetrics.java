package dev.lockstep.agent.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The agent's Prometheus metrics, in a registry of its own (several agents may share a JVM in
 * tests), optionally served on a local port. Owns the HTTP server it starts.
 */
public final class AgentMetrics implements AutoCloseable {
  private final PrometheusRegistry registry = new PrometheusRegistry();

  public final Counter eventsSpooled = Counter.builder().name("lockstep_agent_events_spooled_total")
      .help("Events written to the durable spool, by kind").labelNames("kind").register(registry);
  public final Counter eventsSent = Counter.builder().name("lockstep_agent_events_sent_total")
      .help("Events sent to the collector (resends included)").register(registry);
  public final Counter eventsAcked = Counter.builder().name("lockstep_agent_events_acked_total")
      .help("Events the collector acknowledged as stored").register(registry);
  public final Counter eventsDropped = Counter.builder().name("lockstep_agent_events_dropped_total")
      .help("Events dropped or compacted away at the spool cap, by kind").labelNames("kind").register(registry);
  public final Counter intakeRefused = Counter.builder().name("lockstep_agent_spool_refused_total")
      .help("Golden/log batches held back at the source because the spool was full").register(registry);
  public final Gauge spoolBytes = Gauge.builder().name("lockstep_agent_spool_bytes")
      .help("Bytes in the spool's segment files").register(registry);
  public final Gauge spoolCapBytes = Gauge.builder().name("lockstep_agent_spool_cap_bytes")
      .help("Configured spool cap in bytes").register(registry);
  public final Gauge spoolPending = Gauge.builder().name("lockstep_agent_spool_pending_events")
      .help("Spooled events not yet acknowledged").register(registry);
  public final Gauge ackedSeq = Gauge.builder().name("lockstep_agent_acked_seq")
      .help("Highest seq acknowledged by the collector").register(registry);
  public final Counter reconnects = Counter.builder().name("lockstep_agent_reconnects_total")
      .help("Connection attempts after the first").register(registry);
  public final Counter backoffs = Counter.builder().name("lockstep_agent_backoffs_total")
      .help("Times the collector asked to hold events (its store is full); events stayed spooled")
      .register(registry);
  public final Gauge connected = Gauge.builder().name("lockstep_agent_connected")
      .help("1 while a stream to the collector is welcomed").register(registry);
  public final Gauge probeLevel = Gauge.builder().name("lockstep_agent_probe_level")
      .help("Last probe level: 0 ok, 1 warn, 2 critical").labelNames("probe", "target").register(registry);
  public final Gauge stopGeneration = Gauge.builder().name("lockstep_agent_stop_generation")
      .help("Generation of the stop state this agent enacted last (the collector's number)")
      .register(registry);
  public final Gauge stopped = Gauge.builder().name("lockstep_agent_stopped")
      .help("1 while the enacted state is STOPPED").register(registry);
  public final Counter hookFailures = Counter.builder().name("lockstep_agent_hook_failures_total")
      .help("Hooks that failed or timed out, by hook").labelNames("hook").register(registry);
  public final Counter goldenFiles = Counter.builder().name("lockstep_agent_golden_files_total")
      .help("Golden files reported, by result (ok, malformed)").labelNames("result").register(registry);
  public final Counter logMatches = Counter.builder().name("lockstep_agent_log_matches_total")
      .help("Log lines that matched a rule, by kind").labelNames("kind").register(registry);
  public final Counter errors = Counter.builder().name("lockstep_agent_errors_total")
      .help("Internal errors that were logged and survived, by component").labelNames("component").register(registry);
  public final Counter archivedFiles = Counter.builder().name("lockstep_agent_retention_archived_files_total")
      .help("Golden files archived and removed by retention").register(registry);

  private HTTPServer server;
  private ExecutorService serverExecutor;

  public PrometheusRegistry registry() {
    return registry;
  }

  /** Serves /metrics on bind:port (port 0 = off). Returns the bound port, or 0. */
  public int serve(String bind, int port) throws IOException {
    if (port == 0) {
      return 0;
    }
    serverExecutor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(64), r -> {
      Thread t = new Thread(r, "lockstep-metrics-http");
      t.setDaemon(true);
      return t;
    }, new ThreadPoolExecutor.DiscardPolicy());
    try {
      server = HTTPServer.builder().hostname(bind).port(port).registry(registry)
          .executorService(serverExecutor).buildAndStart();
    } catch (IOException e) {
      serverExecutor.shutdownNow();
      throw new IOException("cannot serve metrics on " + bind + ":" + port + " (metrics.port): "
          + e.getMessage(), e);
    }
    return server.getPort();
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
    if (serverExecutor != null) {
      serverExecutor.shutdownNow();
    }
  }
}
