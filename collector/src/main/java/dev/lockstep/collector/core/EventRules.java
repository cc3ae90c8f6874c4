package dev.lockstep.collector.core;

import dev.lockstep.golden.ReportLimits;
import dev.lockstep.golden.RunSummary;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.LogMatch;
import dev.lockstep.proto.v1.StepSummary;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What an EventBatch must hold for the collector to store it (docs/protocol.md, "Events"). A
 * batch that breaks a rule is refused whole, before anything of it is stored or acked: an event
 * the core could not act on (no body, a golden report without run or role, a hash in another
 * form) would otherwise be acked and then silently do nothing. Pure: the gateway calls it before
 * the store, the core again on events stored before a rule existed.
 */
public final class EventRules {
  /** How every hash on the wire reads: "sha256:" and 64 lower-case hex digits. */
  private static final Pattern HASH = Pattern.compile("sha256:[0-9a-f]{64}");
  /**
   * Longest run_id, in characters (with the role and workflow in {@link ReportLimits}, which our
   * agent checks too; engine hashes are never refused: EventBounds digests long ones). A run id
   * goes into incidents, their titles, capture requests and every agent's Pins; without a bound one agent could make those frames
   * larger than agents accept (docs/protocol.md, section 11).
   */
  static final int MAX_RUN_ID = ReportLimits.MAX_RUN_ID;
  /** Longest golden file path, in UTF-8 bytes (Linux's PATH_MAX). */
  static final int MAX_PATH_BYTES = 4096;
  /** How much of a value, and of a path, a refusal shows: enough to recognise it. */
  static final int SHOWN = 80;
  static final int SHOWN_PATH = 256;

  private EventRules() {}

  /** Why {@code events} (one EventBatch) must be refused, or empty when it may be stored. */
  public static Optional<String> batchProblem(List<Event> events, int maxEvents) {
    if (events.size() > maxEvents) {
      return Optional.of("EventBatch holds " + events.size() + " events, the limit is " + maxEvents
          + " (Welcome.max_batch_events)");
    }
    long previous = 0;
    for (Event e : events) {
      if (e.getSeq() <= 0) {
        return Optional.of("event seq must be positive, got " + e.getSeq() + "; batch not stored");
      }
      if (e.getSeq() <= previous) {
        return Optional.of("EventBatch seqs must strictly increase, got " + e.getSeq() + " after "
            + previous + "; batch not stored");
      }
      previous = e.getSeq();
      Optional<String> p = problem(e);
      if (p.isPresent()) {
        return Optional.of("event seq " + e.getSeq() + ": " + p.get() + "; batch not stored");
      }
    }
    return Optional.empty();
  }

  /** Why one event's body cannot be acted on, or empty when it can. */
  public static Optional<String> problem(Event e) {
    return switch (e.getBodyCase()) {
      case GOLDEN -> golden(e.getGolden());
      case HEALTH -> health(e.getHealth());
      case LOG_MATCH -> e.getLogMatch().getKind() == LogMatch.Kind.KIND_UNSPECIFIED
          ? Optional.of("LogMatch.kind is KIND_UNSPECIFIED") : Optional.empty();
      case NOTICE -> e.getNotice().getKind() == AgentNotice.Kind.KIND_UNSPECIFIED
          ? Optional.of("AgentNotice.kind is KIND_UNSPECIFIED") : Optional.empty();
      case REMEDIATION -> remediation(e.getRemediation());
      case BODY_NOT_SET -> Optional.of("the event has no body (one of health, log_match, golden,"
          + " notice, remediation)");
    };
  }

  private static Optional<String> remediation(dev.lockstep.proto.v1.Remediation r) {
    if (r.getProcess().isBlank()) return Optional.of("Remediation.process is empty");
    if (r.getAction() == dev.lockstep.proto.v1.Remediation.Action.ACTION_UNSPECIFIED) {
      return Optional.of("Remediation.action is ACTION_UNSPECIFIED");
    }
    if (r.getOutcome() == dev.lockstep.proto.v1.Remediation.Outcome.OUTCOME_UNSPECIFIED) {
      return Optional.of("Remediation.outcome is OUTCOME_UNSPECIFIED");
    }
    return Optional.empty();
  }

  private static Optional<String> health(HealthSample h) {
    if (h.getProbe() == HealthSample.Probe.PROBE_UNSPECIFIED) {
      return Optional.of("HealthSample.probe is PROBE_UNSPECIFIED");
    }
    if (h.getLevel() == HealthSample.Level.LEVEL_UNSPECIFIED) {
      return Optional.of("HealthSample.level is LEVEL_UNSPECIFIED");
    }
    return Optional.empty();
  }

  private static Optional<String> golden(GoldenReport r) {
    String of = " (GoldenReport of " + (r.getPath().isEmpty() ? "no path"
        : StopRules.bound(r.getPath(), SHOWN_PATH)) + ")";
    // checked first, error or not: a bad golden file's run id and path reach incidents too
    Optional<String> tooLong = ReportLimits.over(r.getRunId(), r.getRole(), r.getWorkflow())
        .map(EventRules::tooLong)
        .or(() -> tooLongBytes("path", r.getPathBytes().size()))
        .or(() -> tooLongBytes("error.path", r.getError().getPathBytes().size()));
    if (tooLong.isPresent()) return Optional.of(tooLong.get() + of);
    if (r.hasError()) {
      return r.getError().getCode().isBlank()
          ? Optional.of("GoldenReport.error.code is empty" + of) : Optional.empty();
    }
    if (r.getRunId().isBlank()) {
      return Optional.of("GoldenReport.run_id is empty" + of + "; a report that cannot name its"
          + " run is sent with error.code MISSING_FIELD");
    }
    if (r.getRole().isBlank()) {
      return Optional.of("GoldenReport.role is empty" + of + "; a report that cannot name its"
          + " role is sent with error.code MISSING_FIELD");
    }
    Optional<String> bad = hash("canonical_hash", r.getCanonicalHash(), true)
        .or(() -> hash("output_hash", r.getOutputHash(), false));
    if (bad.isPresent()) return Optional.of(bad.get() + of);
    for (StepSummary s : r.getStepsList()) {
      String step = "steps[index " + s.getIndex() + "].";
      bad = hash(step + "canonical_hash", s.getCanonicalHash(), true)
          .or(() -> hash(step + "rng_hash", s.getRngHash(), false))
          .or(() -> hash(step + "response_hash", s.getResponseHash(), false));
      if (bad.isPresent()) return Optional.of(bad.get() + of);
    }
    return Optional.empty();
  }

  /** Shows the start of the value only: the refusal is logged and sent back to the agent. */
  private static String tooLong(ReportLimits.Over o) {
    return "GoldenReport." + o.field() + " is " + o.value().length() + " characters, the limit is "
        + o.limit() + " (docs/protocol.md, section 11): '" + StopRules.bound(o.value(), SHOWN) + "'";
  }

  /** The report as the golden library's summary: what the core correlates. */
  static RunSummary summary(GoldenReport r) {
    List<dev.lockstep.golden.StepSummary> steps = new ArrayList<>(r.getStepsCount());
    for (StepSummary s : r.getStepsList()) {
      steps.add(new dev.lockstep.golden.StepSummary(s.getIndex(), s.getName(), s.getKind(),
          s.getExternal(), s.getCanonicalHash(), s.getEngineHash(), s.getRngHash(),
          s.getResponseHash()));
    }
    return new RunSummary(r.getRunId(), r.getWorkflow(), r.getRole(),
        r.getHasSeed() ? r.getSeed() : null, r.getCanonicalHash(), r.getEngineHash(),
        r.getOutputHash(), steps);
  }

  private static Optional<String> tooLongBytes(String field, int bytes) {
    if (bytes <= MAX_PATH_BYTES) return Optional.empty();
    return Optional.of("GoldenReport." + field + " is " + bytes + " bytes, the limit is "
        + MAX_PATH_BYTES + " (docs/protocol.md, section 11)");
  }

  /**
   * The log match as the core takes it: a run_id over {@link #MAX_RUN_ID} is not taken as a run
   * (the agent found it in a log line with a regex; refusing the batch would hold back a
   * MISMATCH_COUNT and every event after it, while it can be acted on without a run).
   */
  static LogMatch logMatch(LogMatch m) {
    return m.getRunId().length() <= MAX_RUN_ID ? m : m.toBuilder().clearRunId().build();
  }

  private static Optional<String> hash(String field, String value, boolean required) {
    if (value.isEmpty() && !required) return Optional.empty();
    if (HASH.matcher(value).matches()) return Optional.empty();
    return Optional.of("GoldenReport." + field + " must be \"sha256:\" and 64 lower-case hex"
        + " digits (docs/golden-format.md), got '" + StopRules.bound(value, SHOWN) + "'");
  }
}
