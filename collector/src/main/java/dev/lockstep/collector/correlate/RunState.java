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
   * This state with each replica's steps folded into one summary step ({@link StepDigest}): a
   * later replica, folded the same way, is still compared by every step hash; a mismatch then
   * names no single first step.
   */
  public RunState withStepsFolded() {
    List<Replica> folded = new java.util.ArrayList<>(replicas.size());
    for (Replica r : replicas) folded.add(r.withStepsFolded());
    return new RunState(runId, workflow, firstSeenMillis, deadlineMillis, folded, verdict,
        decidedAtMillis, category, explanation, incidentId);
  }

  /** Whether a replica's steps were folded (then every replica offered must be folded too). */
  public boolean stepsFolded() {
    for (Replica r : replicas) {
      if (StepDigest.folded(r.summary().steps())) return true;
    }
    return false;
  }

  public RunState withIncident(String id) {
    return new RunState(runId, workflow, firstSeenMillis, deadlineMillis, replicas, verdict,
        decidedAtMillis, category, explanation, id);
  }
}
