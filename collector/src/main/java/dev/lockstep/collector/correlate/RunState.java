package dev.lockstep.collector.correlate;

import java.util.List;

/**
 * The correlator's state for one run_id. {@code deadlineMillis} is when a missing replica turns
 * the run into MISSING_REPLICA. Immutable; the correlator replaces it on every change.
 */
public record RunState(
    String runId,
    String workflow,
    long firstSeenMillis,
    long deadlineMillis,
    List<Replica> replicas,
    Verdict verdict,
    long decidedAtMillis,
    String category,
    String explanation,
    String incidentId) {

  public RunState {
    replicas = List.copyOf(replicas);
    category = category == null ? "" : category;
    explanation = explanation == null ? "" : explanation;
    incidentId = incidentId == null ? "" : incidentId;
  }

  /**
   * This state with no replica's step summaries (their run hashes stay, so a later replica is
   * still compared: a mismatch is still one, though its first divergent step is then unknown).
   */
  public RunState withoutSteps() {
    List<Replica> bare = new java.util.ArrayList<>(replicas.size());
    for (Replica r : replicas) {
      var m = r.summary();
      bare.add(new Replica(r.agentId(), r.role(), new dev.lockstep.golden.RunSummary(m.runId(),
          m.workflow(), m.role(), m.seed(), m.canonicalHash(), m.engineHash(), m.outputHash(),
          List.of()), r.path(), r.reportedAtMillis(), r.modifiedAtMillis()));
    }
    return new RunState(runId, workflow, firstSeenMillis, deadlineMillis, bare, verdict,
        decidedAtMillis, category, explanation, incidentId);
  }

  public RunState withIncident(String id) {
    return new RunState(runId, workflow, firstSeenMillis, deadlineMillis, replicas, verdict,
        decidedAtMillis, category, explanation, id);
  }
}
