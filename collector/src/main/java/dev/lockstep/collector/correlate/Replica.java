package dev.lockstep.collector.correlate;

import dev.lockstep.golden.RunSummary;

/**
 * One replica of a run as an agent reported it: which agent (host), which role, the golden
 * summary, the file path on that host, when the collector took it and the file's modification
 * time as the agent reported it (0: not reported; runs stored before it was kept).
 */
public record Replica(String agentId, String role, RunSummary summary, String path,
    long reportedAtMillis, long modifiedAtMillis) {
  public Replica(String agentId, String role, RunSummary summary, String path, long reportedAtMillis) {
    this(agentId, role, summary, path, reportedAtMillis, 0);
  }

  /** This replica with its steps folded into one ({@link StepDigest}). */
  public Replica withStepsFolded() {
    RunSummary m = summary;
    return new Replica(agentId, role, new RunSummary(m.runId(), m.workflow(), m.role(), m.seed(),
        m.canonicalHash(), m.engineHash(), m.outputHash(), StepDigest.fold(m.steps())), path,
        reportedAtMillis, modifiedAtMillis);
  }
}
