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
import dev.lockstep.golden.SideBySide;
import dev.lockstep.proto.v1.Difference;
import dev.lockstep.proto.v1.EvidenceInfo;
import dev.lockstep.proto.v1.Incident;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.function.Consumer;

/**
 * Parses and diffs an incident's stored golden documents (up to 64 MiB each) on its own thread,
 * never on the core thread, so a big diff cannot delay a stop. The report, and the two documents
 * drawn side by side for the console, are stored with the evidence; what it concludes goes to the
 * core as an input.
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
    } catch (RejectedExecutionException e) {
      metrics.internalErrors.labelValues("diff_queue_full").inc();
    }
  }

  /**
   * The incident's documents side by side, drawn now on the diff thread and stored (for an
   * incident diffed before side-by-side views were stored); empty when there are no two
   * documents of its run.
   */
  public CompletableFuture<Optional<String>> sideBySide(String incidentId) {
    CompletableFuture<Optional<String>> result = new CompletableFuture<>();
    try {
      executor.execute(() -> {
        try {
          Optional<String> stored = evidence.sideBySide(incidentId);
          if (stored.isPresent()) {
            result.complete(stored);
            return;
          }
          Optional<Pair> pair = load(incidentId);
          if (pair.isEmpty()) {
            result.complete(Optional.empty());
            return;
          }
          String json = GoldenDiff.diffSideBySide(pair.get().a(), pair.get().b(), golden,
              SideBySide.Limits.DEFAULT).sideBySide().toJson();
          evidence.putSideBySide(incidentId, json);
          result.complete(Optional.of(json));
        } catch (RuntimeException | OutOfMemoryError e) {
          metrics.internalErrors.labelValues("golden").inc();
          result.completeExceptionally(e);
        }
      });
    } catch (RejectedExecutionException e) {
      metrics.internalErrors.labelValues("diff_queue_full").inc();
      result.completeExceptionally(new IllegalStateException("diff queue full, try again"));
    }
    return result;
  }

  /** The two documents to compare: primary (or the first role) against the blamed or another role. */
  private record Pair(GoldenDocument a, GoldenDocument b, String aRole, String bRole) {}

  private void diff(String incidentId) {
    Optional<Incident> inc = incidents.get(incidentId);
    Optional<Pair> pair = load(incidentId);
    if (inc.isEmpty() || pair.isEmpty()) return;
    GoldenDiff.Compared compared = GoldenDiff.diffSideBySide(pair.get().a(), pair.get().b(), golden,
        SideBySide.Limits.DEFAULT);
    DiffReport report = compared.report();
    evidence.putDiff(incidentId, report.toJson());
    evidence.putSideBySide(incidentId, compared.sideBySide().toJson());
    String aRole = pair.get().aRole();
    String bRole = pair.get().bRole();
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

  private Optional<Pair> load(String incidentId) {
    Optional<Incident> inc = incidents.get(incidentId);
    if (inc.isEmpty() || inc.get().getRunIdsCount() == 0) return Optional.empty();
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
    if (byRole.size() < 2) return Optional.empty();
    String aRole = byRole.containsKey("primary") ? "primary" : byRole.keySet().iterator().next();
    String bRole = null;
    List<String> blamed = inc.get().getBlamedAgentIdsList();
    for (String role : byRole.keySet()) {
      if (role.equals(aRole)) continue;
      if (bRole == null || (!blamed.isEmpty() && blamed.contains(agentOfRole.get(role)))) bRole = role;
    }
    return Optional.of(new Pair(byRole.get(aRole), byRole.get(bRole), aRole, bRole));
  }

  private static String bound(String s) {
    if (s == null) return "";
    return s.length() > 4096 ? s.substring(0, 4096) + "…" : s;
  }

  @Override
  public void close() throws InterruptedException {
    // waits for the task under way: it writes to the store, which is closed after this
    executor.shutdownNow();
    if (!executor.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
      LOG.log(System.Logger.Level.ERROR, "the diff worker did not stop within 10 s");
    }
  }
}
