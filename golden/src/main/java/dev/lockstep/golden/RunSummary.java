package dev.lockstep.golden;

import java.util.List;

/**
 * One replica of one run reduced to hashes: what an agent sends inline and what the collector
 * correlates. {@code seed} is null when the file has none. {@code canonicalHash} covers the whole
 * masked document; {@code engineHash} is the engine's own run hash (empty if absent).
 */
public record RunSummary(
    String runId,
    String workflow,
    String role,
    Long seed,
    String canonicalHash,
    String engineHash,
    String outputHash,
    List<StepSummary> steps) {

  /** Null strings become "" (and null steps an empty list), so comparisons never meet a null. */
  public RunSummary {
    runId = runId == null ? "" : runId;
    workflow = workflow == null ? "" : workflow;
    role = role == null ? "" : role;
    canonicalHash = canonicalHash == null ? "" : canonicalHash;
    engineHash = engineHash == null ? "" : engineHash;
    outputHash = outputHash == null ? "" : outputHash;
    steps = steps == null ? List.of() : List.copyOf(steps);
  }
}
