package dev.lockstep.golden;

import java.util.List;

/**
 * One replica of one run reduced to hashes: what an agent sends inline and what the collector
 * correlates. {@code seed} is the seed's 64 bits (an unsigned seed of 2^63 or more is negative
 * here, see {@link #seedText()}), null when the file has none. {@code canonicalHash} covers the
 * whole masked document; {@code engineHash} is the engine's own run hash (empty if absent).
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

  /**
   * The seed as an unsigned 64-bit decimal ("" when there is none): seeds are 64-bit values, so a
   * file's {@code -1} and {@code 18446744073709551615} are the same seed and both read
   * "18446744073709551615".
   */
  public String seedText() {
    return seed == null ? "" : Long.toUnsignedString(seed);
  }
}
