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

  public RunState withIncident(String id) {
    return new RunState(runId, workflow, firstSeenMillis, deadlineMillis, replicas, verdict,
        decidedAtMillis, category, explanation, id);
  }
}
