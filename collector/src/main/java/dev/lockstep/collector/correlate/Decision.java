package dev.lockstep.collector.correlate;

import java.util.List;

/**
 * What the correlator concluded about a run, for the incident layer to act on. {@code category}
 * is a golden Category name (or MISSING_REPLICA), empty for a match; {@code firstStepIndex} is
 * -1 when no step diverges; {@code blamedHosts} is non-empty only after a majority vote;
 * {@code hosts} are the agents that reported the run.
 */
public record Decision(
    String runId,
    String workflow,
    Verdict verdict,
    String category,
    int firstStepIndex,
    String firstStepName,
    String explanation,
    List<String> hosts,
    List<String> blamedHosts,
    List<Replica> replicas,
    List<String> missingRoles) {

  public Decision {
    hosts = List.copyOf(hosts);
    blamedHosts = List.copyOf(blamedHosts);
    replicas = List.copyOf(replicas);
    missingRoles = List.copyOf(missingRoles);
  }

  public boolean mismatch() {
    return verdict != Verdict.MATCH && verdict != Verdict.PENDING;
  }
}
