package dev.lockstep.golden;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The longest identifiers and engine hashes of a {@link RunSummary} a collector keeps of a
 * GoldenReport (docs/protocol.md, section 11). Here because both sides apply them. Identifiers
 * over their limits are refused: the run id, role and workflow name the run and the stops that
 * cover it, so cutting them could merge runs or miss a stop; the agent reports such a file as a
 * bad golden file (STRING_TOO_LONG) instead of sending a report the collector refuses (a refused
 * batch is resent until it is taken, holding back every later event of its agent). Engine hashes
 * are never refused, or that run would never be compared (its other replica would time out as
 * MISSING_REPLICA): one over its limit is replaced by a digest of it ({@link #engineHash}), which
 * keeps what the classifier needs, equality. Step names and kinds are only shown, never compared:
 * the collector cuts those.
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
   * Longest engine hash, of the run or of a step, kept as the engine wrote it: room for any
   * digest's text ("sha512:" and 128 hex digits is 135 characters). A longer one is kept as
   * {@link #ENGINE_HASH_DIGEST} and the SHA-256 of it.
   */
  public static final int MAX_ENGINE_HASH = 256;
  /**
   * The prefix of an engine hash that stands for a longer one, then the SHA-256 of that one's
   * UTF-8 bytes in 64 lower-case hex digits. Not an engine's own prefix ("sha256:"), so a digest
   * reads equal only to the digest of the same text.
   */
  public static final String ENGINE_HASH_DIGEST = "digest-sha256:";

  private ReportLimits() {}

  /**
   * A value over its limit: the field as a GoldenReport names it ("run_id", "workflow"), the
   * value and the limit, in characters.
   */
  public record Over(String field, String value, int limit) {
    /** "run_id of 304 characters (at most 256)": without the value, which may be huge. */
    public String describe() {
      return field + " of " + value.length() + " characters (at most " + limit + ")";
    }
  }

  /**
   * The first identifier of {@code s} over its limit, in the order of the fields; empty if none.
   * Engine hashes are never over: {@link #engineHash} keeps a long one as its digest.
   */
  public static Optional<Over> over(RunSummary s) {
    return over(s.runId(), s.role(), s.workflow());
  }

  /** As {@link #over(RunSummary)}, for a report's identifiers (no summary of its steps built). */
  public static Optional<Over> over(String runId, String role, String workflow) {
    return over("run_id", runId, MAX_RUN_ID)
        .or(() -> over("role", role, MAX_ROLE))
        .or(() -> over("workflow", workflow, MAX_WORKFLOW));
  }

  /**
   * {@code engineHash} when it is at most {@link #MAX_ENGINE_HASH} characters, else
   * {@link #ENGINE_HASH_DIGEST} and the SHA-256 of its UTF-8 bytes (78 characters): equal long
   * hashes give equal digests, different ones different digests, so the classifier compares them
   * as it did the long ones. Applying it again changes nothing, so the agent (before sending) and
   * the collector (before storing, and on reports stored before) give the same value.
   */
  public static String engineHash(String engineHash) {
    if (engineHash.length() <= MAX_ENGINE_HASH) {
      return engineHash;
    }
    byte[] b = engineHash.getBytes(StandardCharsets.UTF_8);
    return "digest-" + Hashes.of(b, 0, b.length); // ENGINE_HASH_DIGEST and the hex digits
  }

  private static Optional<Over> over(String field, String value, int limit) {
    return value.length() <= limit ? Optional.empty() : Optional.of(new Over(field, value, limit));
  }
}
