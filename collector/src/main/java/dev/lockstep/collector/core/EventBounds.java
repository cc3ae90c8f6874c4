package dev.lockstep.collector.core;

import dev.lockstep.golden.ReportLimits;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.GoldenError;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.LogMatch;
import dev.lockstep.proto.v1.StepSummary;
import java.util.List;

/**
 * The descriptive text of log matches, health samples, notices and golden reports (step names
 * and kinds, a bad file's error), cut to what the collector keeps, and a golden report's engine
 * hashes over their limit replaced by their digest: these go into incidents, run state, the agent
 * directory, the store and every `lockstep status`, and were as long as an agent made them. They
 * are cut, never refused: a refused batch is resent until it is taken, so it would hold back every
 * later event of its agent, and our own agent sends such values (a 64 KiB
 * log line, a crash summary joining five of them); a log match must stop the fleet whatever its
 * line holds. A cut value ends with a marker naming its length, and is never longer than its
 * limit, so cutting again (the core does, on events stored before these limits) changes nothing.
 * Limits in docs/protocol.md, section 11. Pure.
 */
public final class EventBounds {
  /** Paths and probe targets (a disk path, a log path, a process name): Linux's PATH_MAX. */
  static final int MAX_PATH = 4096;
  /** A log line, each context line, a notice or golden error message, a staleness snapshot's text. */
  static final int MAX_LINE = 4096;
  /** Short names: a rule, a component, an exit assessment, a step's kind, a golden error's code. */
  static final int MAX_NAME = 256;
  /** A step's name, shown in incidents as the first divergent step. */
  static final int MAX_STEP_NAME = 1024;
  /** One-line summaries and reasons an operator reads. */
  static final int MAX_SUMMARY = 1024;
  /** A regex capture group. */
  static final int MAX_CAPTURE = 1024;
  /** At most this many capture groups, context lines (the agent sends 5) and evidence lines. */
  static final int MAX_CAPTURES = 16;
  static final int MAX_CONTEXT_LINES = 5;
  static final int MAX_EVIDENCE_LINES = 5;
  /** The /proc snapshot of a stale process (the agent sends at most 4 KiB). */
  static final int MAX_SNAPSHOT = 16 * 1024;

  private EventBounds() {}

  /** {@code e} with every descriptive text within its limit ({@code e} itself when all are). */
  public static Event cut(Event e) {
    return switch (e.getBodyCase()) {
      case LOG_MATCH -> {
        LogMatch m = logMatch(e.getLogMatch());
        yield m == e.getLogMatch() ? e : e.toBuilder().setLogMatch(m).build();
      }
      case HEALTH -> {
        HealthSample h = health(e.getHealth());
        yield h == e.getHealth() ? e : e.toBuilder().setHealth(h).build();
      }
      case NOTICE -> {
        AgentNotice n = e.getNotice();
        yield fits(n.getMessage(), MAX_LINE) ? e : e.toBuilder()
            .setNotice(n.toBuilder().setMessage(text(n.getMessage(), MAX_LINE))).build();
      }
      case GOLDEN -> {
        GoldenReport g = golden(e.getGolden());
        yield g == e.getGolden() ? e : e.toBuilder().setGolden(g).build();
      }
      default -> e;
    };
  }

  /** The events of one batch, each cut. */
  public static List<Event> cut(List<Event> events) {
    List<Event> out = null;
    for (int i = 0; i < events.size(); i++) {
      Event c = cut(events.get(i));
      if (c != events.get(i) && out == null) out = new java.util.ArrayList<>(events);
      if (out != null) out.set(i, c);
    }
    return out == null ? events : out;
  }

  private static LogMatch logMatch(LogMatch m) {
    LogMatch e = EventRules.logMatch(m);
    if (fits(e.getPath(), MAX_PATH) && fits(e.getRule(), MAX_NAME) && fits(e.getLine(), MAX_LINE)
        && fit(e.getCapturesList(), MAX_CAPTURES, MAX_CAPTURE)
        && fit(e.getContextList(), MAX_CONTEXT_LINES, MAX_LINE)) {
      return e;
    }
    return e.toBuilder().setPath(text(e.getPath(), MAX_PATH)).setRule(text(e.getRule(), MAX_NAME))
        .setLine(text(e.getLine(), MAX_LINE))
        // the first groups (the count is usually the first), the lines nearest the match
        .clearCaptures().addAllCaptures(lines(e.getCapturesList(), true, MAX_CAPTURES, MAX_CAPTURE))
        .clearContext().addAllContext(lines(e.getContextList(), false, MAX_CONTEXT_LINES, MAX_LINE))
        .build();
  }

  /**
   * Step names and kinds are only shown (the classifier compares hashes, and the agent took
   * {@code external} from the kind already); a bad golden file's code and message are shown too.
   * Engine hashes are compared, so one over its limit is replaced by a digest that keeps equality
   * (ReportLimits.engineHash), never cut or refused. Its identifiers name the run and its stops,
   * so EventRules refuses those over their limits.
   */
  private static GoldenReport golden(GoldenReport r) {
    GoldenError err = r.getError();
    boolean stepsFit = r.getStepsList().stream().allMatch(st -> fits(st.getName(), MAX_STEP_NAME)
        && fits(st.getKind(), MAX_NAME) && fits(st.getEngineHash(), ReportLimits.MAX_ENGINE_HASH));
    if (stepsFit && fits(err.getCode(), MAX_NAME) && fits(err.getMessage(), MAX_LINE)
        && fits(r.getEngineHash(), ReportLimits.MAX_ENGINE_HASH)) {
      return r;
    }
    GoldenReport.Builder b = r.toBuilder().setEngineHash(ReportLimits.engineHash(r.getEngineHash()));
    if (r.hasError()) {
      b.setError(err.toBuilder().setCode(text(err.getCode(), MAX_NAME))
          .setMessage(text(err.getMessage(), MAX_LINE)));
    }
    for (int i = 0; i < b.getStepsCount(); i++) {
      StepSummary st = b.getSteps(i);
      if (!fits(st.getName(), MAX_STEP_NAME) || !fits(st.getKind(), MAX_NAME)
          || !fits(st.getEngineHash(), ReportLimits.MAX_ENGINE_HASH)) {
        b.setSteps(i, st.toBuilder().setName(text(st.getName(), MAX_STEP_NAME))
            .setKind(text(st.getKind(), MAX_NAME))
            .setEngineHash(ReportLimits.engineHash(st.getEngineHash())));
      }
    }
    return b.build();
  }

  private static HealthSample health(HealthSample h) {
    var p = h.getProcess();
    var c = h.getComponent();
    if (fits(h.getTarget(), MAX_PATH) && fits(h.getSummary(), MAX_SUMMARY)
        && fits(p.getExitAssessment(), MAX_NAME)
        && fit(p.getEvidenceLinesList(), MAX_EVIDENCE_LINES, MAX_LINE)
        && fits(h.getDisk().getPath(), MAX_PATH) && fits(h.getStaleness().getPath(), MAX_PATH)
        && fits(h.getStaleness().getProcessSnapshot(), MAX_SNAPSHOT)
        && fits(c.getName(), MAX_NAME) && fits(c.getReason(), MAX_SUMMARY)) {
      return h;
    }
    HealthSample.Builder b = h.toBuilder().setTarget(text(h.getTarget(), MAX_PATH))
        .setSummary(text(h.getSummary(), MAX_SUMMARY));
    if (h.hasProcess()) {
      b.setProcess(p.toBuilder().setExitAssessment(text(p.getExitAssessment(), MAX_NAME))
          .clearEvidenceLines()
          .addAllEvidenceLines(lines(p.getEvidenceLinesList(), false, MAX_EVIDENCE_LINES, MAX_LINE)));
    }
    if (h.hasDisk()) b.setDisk(h.getDisk().toBuilder().setPath(text(h.getDisk().getPath(), MAX_PATH)));
    if (h.hasStaleness()) {
      b.setStaleness(h.getStaleness().toBuilder().setPath(text(h.getStaleness().getPath(), MAX_PATH))
          .setProcessSnapshot(text(h.getStaleness().getProcessSnapshot(), MAX_SNAPSHOT)));
    }
    if (h.hasComponent()) {
      b.setComponent(c.toBuilder().setName(text(c.getName(), MAX_NAME))
          .setReason(text(c.getReason(), MAX_SUMMARY)));
    }
    return b.build();
  }

  private static boolean fits(String s, int maxChars) {
    return s.length() <= maxChars;
  }

  private static boolean fit(List<String> lines, int maxLines, int maxChars) {
    if (lines.size() > maxLines) return false;
    for (String s : lines) {
      if (!fits(s, maxChars)) return false;
    }
    return true;
  }

  /** At most {@code maxLines} of {@code lines}, the first ones or the last ones, each cut. */
  private static List<String> lines(List<String> lines, boolean first, int maxLines, int maxChars) {
    List<String> kept = lines.size() <= maxLines ? lines
        : first ? lines.subList(0, maxLines) : lines.subList(lines.size() - maxLines, lines.size());
    return kept.stream().map(s -> text(s, maxChars)).toList();
  }

  /**
   * {@code s} whole when it fits, else its start and a marker with its length, {@code maxChars}
   * characters in all (never splitting a surrogate pair).
   */
  public static String text(String s, int maxChars) {
    if (s.length() <= maxChars) return s;
    String marker = "… [cut: " + s.length() + " characters]";
    int keep = Math.max(0, maxChars - marker.length());
    if (keep > 0 && Character.isHighSurrogate(s.charAt(keep - 1))) keep--;
    return s.substring(0, keep) + marker;
  }
}
