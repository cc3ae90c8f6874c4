package dev.lockstep.agent.metrics;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The agent's metrics, in Prometheus text format 0.0.4, optionally served on a local port. A
 * registry of its own (several agents may share a JVM in tests), a few dozen series, one thread
 * for the endpoint: the agent does without a metrics library's classes and threads. Owns the
 * server it starts.
 */
public final class AgentMetrics implements AutoCloseable {
  private final List<Family> families = new CopyOnWriteArrayList<>();
  private final List<Callback> callbacks = new CopyOnWriteArrayList<>();

  public final Counter eventsSpooled = counter("lockstep_agent_events_spooled_total",
      "Events written to the durable spool, by kind", "kind");
  public final Counter eventsSent = counter("lockstep_agent_events_sent_total",
      "Events sent to the collector (resends included)");
  public final Counter eventsAcked = counter("lockstep_agent_events_acked_total",
      "Events the collector acknowledged as stored");
  public final Counter eventsDropped = counter("lockstep_agent_events_dropped_total",
      "Events dropped or compacted away at the spool cap, or lost to a corrupt spool record, by kind", "kind");
  public final Counter spoolCorrupt = counter("lockstep_agent_spool_corrupt_records_total",
      "Spool records that failed their checksum and were skipped (their events are lost, each with a notice)");
  public final Counter intakeRefused = counter("lockstep_agent_spool_refused_total",
      "Golden/log batches held back at the source because the spool was full");
  public final Gauge spoolBytes = gauge("lockstep_agent_spool_bytes", "Bytes in the spool's segment files");
  public final Gauge spoolCapBytes = gauge("lockstep_agent_spool_cap_bytes", "Configured spool cap in bytes");
  public final Gauge spoolPending = gauge("lockstep_agent_spool_pending_events",
      "Spooled events not yet acknowledged");
  public final Gauge ackedSeq = gauge("lockstep_agent_acked_seq", "Highest seq acknowledged by the collector");
  public final Counter reconnects = counter("lockstep_agent_reconnects_total", "Connection attempts after the first");
  public final Counter backoffs = counter("lockstep_agent_backoffs_total",
      "Times the collector asked to hold events (its store is full); events stayed spooled");
  public final Gauge connected = gauge("lockstep_agent_connected", "1 while a stream to the collector is welcomed");
  public final Gauge probeLevel = gauge("lockstep_agent_probe_level",
      "Last probe level: 0 ok, 1 warn, 2 critical", "probe", "target");
  public final Gauge stopGeneration = gauge("lockstep_agent_stop_generation",
      "Generation of the stop state this agent enacted last (the collector's number)");
  public final Gauge stopped = gauge("lockstep_agent_stopped", "1 while the enacted state is STOPPED");
  public final Counter hookFailures = counter("lockstep_agent_hook_failures_total",
      "Hooks that failed or timed out, by hook", "hook");
  public final Counter goldenFiles = counter("lockstep_agent_golden_files_total",
      "Golden files reported, by result (ok, malformed)", "result");
  public final Counter logMatches = counter("lockstep_agent_log_matches_total", "Log lines that matched a rule, by kind",
      "kind");
  public final Counter errors = counter("lockstep_agent_errors_total",
      "Internal errors that were logged and survived, by component", "component");
  public final Counter archivedFiles = counter("lockstep_agent_retention_archived_files_total",
      "Golden files archived and removed by retention");
  public final Gauge componentStatus = gauge("lockstep_agent_component_status",
      "State of each agent component: 0 running, 1 degraded, 2 failed", "component");
  public final Gauge goldenBacklog = gauge("lockstep_agent_golden_backlog_files",
      "Golden files found and not yet reported (settling, being read, or waiting for spool room)");
  public final Gauge goldenDirs = gauge("lockstep_agent_golden_dirs",
      "Golden directories watched, by mode (inotify, polling, failing)", "mode");
  public final Gauge logFiles = gauge("lockstep_agent_log_files", "Log files being tailed (open file handles)");
  private MetricsServer server;

  /** A gauge whose series a callback produces at each scrape. */
  private record Callback(String name, String help, String[] labelNames, Consumer<SampleSink> producer) {}

  /** Receives the series of a callback gauge. */
  public interface SampleSink {
    void sample(double value, String... labelValues);
  }

  private Counter counter(String name, String help, String... labels) {
    Counter c = new Counter(name, help, labels);
    families.add(c);
    return c;
  }

  private Gauge gauge(String name, String help, String... labels) {
    Gauge g = new Gauge(name, help, labels);
    families.add(g);
    return g;
  }

  /** Adds a gauge whose series {@code producer} writes at each scrape (it must not block). */
  public void gaugeCallback(String name, String help, String[] labelNames, Consumer<SampleSink> producer) {
    callbacks.add(new Callback(name, help, labelNames.clone(), producer));
  }

  /** Every series in Prometheus text format 0.0.4, families in name order. */
  public String scrape() {
    record Block(String name, String text) {}
    List<Block> blocks = new ArrayList<>();
    for (Family f : families) {
      List<Map.Entry<List<String>, Double>> samples = f.samples();
      if (samples.isEmpty()) {
        continue;
      }
      StringBuilder b = header(f.name, f.help, f.type);
      for (Map.Entry<List<String>, Double> s : samples) {
        line(b, f.name, f.labelNames, s.getKey().toArray(String[]::new), s.getValue());
      }
      blocks.add(new Block(f.name, b.toString()));
    }
    for (Callback c : callbacks) {
      StringBuilder b = header(c.name(), c.help(), "gauge");
      int[] n = {0};
      try {
        c.producer().accept((value, labels) -> {
          line(b, c.name(), c.labelNames(), labels, value);
          n[0]++;
        });
      } catch (RuntimeException e) {
        errors.labelValues("metrics").inc();
      }
      if (n[0] > 0) {
        blocks.add(new Block(c.name(), b.toString()));
      }
    }
    blocks.sort(Comparator.comparing(Block::name));
    StringBuilder out = new StringBuilder(4096);
    blocks.forEach(b -> out.append(b.text()));
    return out.toString();
  }

  private static StringBuilder header(String name, String help, String type) {
    StringBuilder b = new StringBuilder(256);
    b.append("# HELP ").append(name).append(' ').append(help.replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
    b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    return b;
  }

  private static void line(StringBuilder b, String name, String[] labelNames, String[] labelValues, double value) {
    b.append(name);
    if (labelNames.length > 0) {
      b.append('{');
      for (int i = 0; i < labelNames.length; i++) {
        if (i > 0) {
          b.append(',');
        }
        String v = i < labelValues.length ? labelValues[i] : "";
        b.append(labelNames[i]).append("=\"")
            .append(v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")).append('"');
      }
      b.append('}');
    }
    b.append(' ').append(format(value)).append('\n');
  }

  static String format(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    return Double.toString(v);
  }

  /** Serves /metrics on bind:port (port 0 = off). Returns the bound port, or 0. */
  public int serve(String bind, int port) throws IOException {
    if (port == 0) {
      return 0;
    }
    try {
      server = new MetricsServer(bind, port, this::scrape);
    } catch (IOException e) {
      throw new IOException("cannot serve metrics on " + bind + ":" + port + " (metrics.port): " + e.getMessage(), e);
    }
    return server.port();
  }

  @Override
  public void close() {
    if (server != null) {
      try {
        server.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
