package dev.lockstep.golden;

import java.util.Optional;

/**
 * The longest identifiers and engine hashes of a {@link RunSummary} a collector takes in a
 * GoldenReport (docs/protocol.md, section 11). Here because both sides apply them: the collector
 * refuses a report over them, and the agent reports such a file as a bad golden file
 * (STRING_TOO_LONG) instead, so it never sends a report the collector refuses (a refused batch is
 * resent until it is taken, holding back every later event of its agent). Refused, never cut:
 * the run id, role and workflow name the run and the stops that cover it, and the engine hashes
 * are compared (two hashes cut to the same start would read equal and hide a VOLATILE_LEAK).
 * Step names and kinds are only shown, never compared: the collector cuts those instead.
 */
public final class ReportLimits {
  /**
   * Longest run_id and role, in characters. A run id goes into incidents, their titles, capture
   * requests and every agent's Pins.
   */
  public static final int MAX_RUN_ID = 256;
  public static final int MAX_ROLE = 256;
  /** Longest workflow: the longest a stop scope may name, so every reported one can be stopped. */
  public static final int MAX_WORKFLOW = 512;
  /**
   * Longest engine hash, of the run or of a step: the engine's own text, passed through, so room
   * for any digest's ("sha512:" and 128 hex digits is 135 characters).
   */
  public static final int MAX_ENGINE_HASH = 256;

  private ReportLimits() {}

  /**
   * A value over its limit: the field as a GoldenReport names it ("run_id",
   * "steps[index 3].engine_hash"), the value and the limit, in characters.
   */
  public record Over(String field, String value, int limit) {
    /** "run_id of 304 characters (at most 256)": without the value, which may be huge. */
    public String describe() {
      return field + " of " + value.length() + " characters (at most " + limit + ")";
    }
  }

  /** The first value of {@code s} over its limit, in the order of the fields; empty if none. */
  public static Optional<Over> over(RunSummary s) {
    Optional<Over> o = over("run_id", s.runId(), MAX_RUN_ID)
        .or(() -> over("role", s.role(), MAX_ROLE))
        .or(() -> over("workflow", s.workflow(), MAX_WORKFLOW))
        .or(() -> over("engine_hash", s.engineHash(), MAX_ENGINE_HASH));
    if (o.isPresent()) {
      return o;
    }
    for (StepSummary st : s.steps()) {
      if (st.engineHash().length() > MAX_ENGINE_HASH) {
        return over("steps[index " + st.index() + "].engine_hash", st.engineHash(), MAX_ENGINE_HASH);
      }
    }
    return Optional.empty();
  }

  private static Optional<Over> over(String field, String value, int limit) {
    return value.length() <= limit ? Optional.empty() : Optional.of(new Over(field, value, limit));
  }
}
