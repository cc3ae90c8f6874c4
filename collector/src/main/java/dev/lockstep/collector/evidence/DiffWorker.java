package dev.lockstep.collector.evidence;

import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.incident.Incidents;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.golden.DiffReport;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.GoldenDiff;
import dev.lockstep.golden.GoldenDocument;
import dev.lockstep.golden.GoldenParseException;
import dev.lockstep.proto.v1.Difference;
import dev.lockstep.proto.v1.EvidenceInfo;
import dev.lockstep.proto.v1.Incident;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.function.Consumer;

/**
 * Parses and diffs an incident's stored golden documents (up to 64 MiB each) on its own thread,
 * never on the core thread, so a big diff cannot delay a stop. The report is stored with the
 * evidence; what it concludes goes to the core as an input.
 */
public final class DiffWorker implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(DiffWorker.class.getName());
  private static final int MAX_ROWS = 50;

  private final Incidents incidents;
  private final EvidenceStore evidence;
  private final GoldenConfig golden;
  private final Consumer<Input> core;
  private final CollectorMetrics metrics;
  private final ThreadPoolExecutor executor;

  public DiffWorker(Incidents incidents, EvidenceStore evidence, GoldenConfig golden,
      Consumer<Input> core, CollectorMetrics metrics, ThreadPoolExecutor executor) {
    this.incidents = incidents;
    this.evidence = evidence;
    this.golden = golden;
    this.core = core;
    this.metrics = metrics;
    this.executor = executor;
  }

  /** Diffs the incident's documents soon (when two of its run are stored). */
  public void submit(String incidentId) {
    try {
      executor.execute(() -> {
        try {
          diff(incidentId);
        } catch (RuntimeException | OutOfMemoryError e) {
          metrics.internalErrors.labelValues("golden").inc();
          LOG.log(System.Logger.Level.WARNING, "golden diff failed for " + incidentId + ": " + e);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      metrics.internalErrors.labelValues("diff_queue_full").inc();
    }
  }

  private void diff(String incidentId) {
    Optional<Incident> inc = incidents.get(incidentId);
    if (inc.isEmpty() || inc.get().getRunIdsCount() == 0) return;
    String runId = inc.get().getRunIds(0);
    Map<String, GoldenDocument> byRole = new LinkedHashMap<>();
    Map<String, String> agentOfRole = new HashMap<>();
    for (EvidenceInfo info : evidence.list(incidentId)) {
      if (!"golden".equals(info.getKind()) || info.getTruncated()) continue;
      byte[] bytes = evidence.read(incidentId, info.getAgentId(), info.getName());
      try {
        GoldenDocument doc = Golden.parse(bytes, info.getAgentId() + "/" + info.getName(), golden);
        if (!runId.equals(doc.summary().runId())) continue;
        String role = doc.summary().role() == null ? info.getName() : doc.summary().role();
        byRole.putIfAbsent(role, doc);
        agentOfRole.putIfAbsent(role, info.getAgentId());
      } catch (GoldenParseException e) {
        LOG.log(System.Logger.Level.WARNING, "evidence of " + incidentId + " unparseable: " + e.getMessage());
      }
    }
    if (byRole.size() < 2) return;
    String aRole = byRole.containsKey("primary") ? "primary" : byRole.keySet().iterator().next();
    String bRole = null;
    List<String> blamed = inc.get().getBlamedAgentIdsList();
    for (String role : byRole.keySet()) {
      if (role.equals(aRole)) continue;
      if (bRole == null || (!blamed.isEmpty() && blamed.contains(agentOfRole.get(role)))) bRole = role;
    }
    DiffReport report = GoldenDiff.diff(byRole.get(aRole), byRole.get(bRole), golden);
    evidence.putDiff(incidentId, report.toJson());
    List<Difference> rows = new ArrayList<>();
    for (dev.lockstep.golden.Difference d : report.differences()) {
      if (rows.size() >= MAX_ROWS) break;
      rows.add(Difference.newBuilder().setPath(d.path()).setKind(d.kind().name())
          .setA(bound(d.a())).setB(bound(d.b())).setVolatile(d.volatileField()).build());
    }
    core.accept(new Input.DiffComputed(incidentId, new Input.DiffResult(
        report.category() == null ? "" : report.category().name(),
        report.firstDivergentStep() == null ? -1 : report.firstDivergentStep().index(),
        report.firstDivergentStep() == null || report.firstDivergentStep().name() == null ? ""
            : report.firstDivergentStep().name(),
        report.explanation() == null ? "" : report.explanation(), rows, aRole + " vs " + bRole,
        report.differences().size())));
  }

  private static String bound(String s) {
    if (s == null) return "";
    return s.length() > 4096 ? s.substring(0, 4096) + "…" : s;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
