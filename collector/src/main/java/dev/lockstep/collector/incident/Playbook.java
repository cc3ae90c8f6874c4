package dev.lockstep.collector.incident;

import dev.lockstep.collector.correlate.Decision;
import dev.lockstep.collector.correlate.Verdict;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.LogMatch;
import dev.lockstep.proto.v1.Severity;
import java.util.List;
import java.util.Optional;

/**
 * The playbook's quick-reference table as code: which report opens which incident at which
 * severity.
 *
 * <pre>
 * mismatch (classified, or a log "N mismatches")   P0  (auto-stop per policy, evidence capture)
 * missing replica after the correlation window     P1  (category MISSING_REPLICA, no auto-stop)
 * one role reported twice, different hashes        P0  (category REPLICA_CONFLICT, auto-stop)
 * one role claimed by two agents, same hash         P2  (category REPLICA_CONFLICT)
 * shadow process died (PROCESS CRITICAL)           P1
 * disk full (DISK CRITICAL / WARN)                 P1 / WARNING
 * stale log (LOG_STALENESS CRITICAL / WARN)        P2 / WARNING
 * bad golden file (GoldenReport.error)             P2  BAD_GOLDEN
 * agent trouble (events dropped, hook failed,      P2  AGENT_DEGRADED
 *   spool record corrupt, fatal error, component
 *   failed; a degraded component is a WARNING)
 * webhook failures (alert delivery keeps failing)  P3
 * </pre>
 */
public final class Playbook {
  private Playbook() {}

  public static Optional<Raise> fromDecision(Decision d) {
    if (d.verdict() == Verdict.MATCH || d.verdict() == Verdict.PENDING) return Optional.empty();
    if (d.verdict() == Verdict.MISSING_REPLICA) {
      return Optional.of(new Raise(IncidentKind.MISMATCH, Severity.P1, "MISSING_REPLICA",
          d.workflow(), -1, "", List.of(), List.of(d.runId()), d.hosts(), "",
          "missing replica of " + d.workflow() + " run " + d.runId() + ": "
              + String.join(", ", d.missingRoles()),
          d.explanation(), String.join(",", d.missingRoles())));
    }
    if (d.verdict() == Verdict.REPLICA_CONFLICT) return Optional.of(conflict(d));
    String blamed = d.blamedHosts().isEmpty() ? "" : String.join(",", d.blamedHosts());
    String where = d.firstStepIndex() >= 0
        ? " at step " + d.firstStepIndex() + (d.firstStepName().isEmpty() ? "" : " (" + d.firstStepName() + ")")
        : "";
    String title = "mismatch " + d.category() + " in " + d.workflow() + " run " + d.runId() + where
        + (blamed.isEmpty() ? "" : ", blamed host " + blamed);
    return Optional.of(new Raise(IncidentKind.MISMATCH, Severity.P0, d.category(),
        d.workflow(), d.firstStepIndex(), d.firstStepName(), List.of(), List.of(d.runId()),
        d.hosts(), blamed, title, d.explanation(), blamed));
  }

  private static Raise conflict(Decision d) {
    boolean differ = d.replicas().stream().map(r -> r.summary().canonicalHash()).distinct().count() > 1;
    String role = d.replicas().isEmpty() ? "" : d.replicas().get(0).role();
    String title = "replica conflict in " + d.workflow() + " run " + d.runId() + ": role " + role
        + (differ ? " reported twice with different hashes" : " claimed by "
            + String.join(" and ", d.hosts()));
    return new Raise(IncidentKind.MISMATCH, differ ? Severity.P0 : Severity.P2, "REPLICA_CONFLICT",
        d.workflow(), -1, "", List.of(), List.of(d.runId()), d.hosts(), "", title, d.explanation(),
        d.runId() + "/" + role);
  }

  public static Optional<Raise> fromHealth(String agentId, HealthSample s) {
    HealthSample.Level level = s.getLevel();
    if (level != HealthSample.Level.WARN && level != HealthSample.Level.CRITICAL) {
      return Optional.empty();
    }
    boolean critical = level == HealthSample.Level.CRITICAL;
    String summary = s.getSummary().isEmpty() ? s.getProbe() + " " + s.getTarget() + " " + level
        : s.getSummary();
    return switch (s.getProbe()) {
      case PROCESS -> critical
          ? Optional.of(raise(IncidentKind.PROCESS_DIED, Severity.P1, agentId, s.getTarget(),
              "process " + s.getTarget() + " not running on " + agentId, summary
                  + (s.getProcess().getExitAssessment().isEmpty() ? ""
                  : " (exit " + s.getProcess().getExitAssessment() + ")")))
          : Optional.empty();
      case DISK -> Optional.of(raise(IncidentKind.DISK_FULL, critical ? Severity.P1 : Severity.WARNING,
          agentId, s.getTarget(), (critical ? "disk full: " : "disk filling: ") + s.getTarget()
              + " on " + agentId, summary));
      case LOG_STALENESS -> Optional.of(raise(IncidentKind.STALE_LOG,
          critical ? Severity.P2 : Severity.WARNING, agentId, s.getTarget(),
          "log " + s.getTarget() + " stale on " + agentId
              + (s.hasStaleness() ? " (" + s.getStaleness().getStaleSeconds() + " s)" : ""),
          summary));
      // the agent's own parts: a failed one (blind for golden files, say) pages, a degraded
      // one (one directory failing, polling instead of inotify) is noted
      case COMPONENT -> Optional.of(raise(IncidentKind.AGENT_DEGRADED, critical ? Severity.P2 : Severity.WARNING,
          agentId, "component:" + s.getTarget(), "agent component " + s.getTarget() + " "
              + (critical ? "failed" : "degraded") + " on " + agentId, summary));
      default -> Optional.empty();
    };
  }

  /** A log line reporting mismatches; {@code linkedIncident} is the golden incident of its run. */
  public static Optional<Raise> fromLogMatch(String agentId, LogMatch m,
      String linkedIncident) {
    if (m.getKind() != LogMatch.Kind.MISMATCH_COUNT || m.getCount() <= 0) return Optional.empty();
    String run = m.getRunId();
    String explanation = "log " + m.getPath() + ":" + m.getLineNumber() + ": " + m.getLine()
        + (linkedIncident.isEmpty() ? "" : " (golden evidence in " + linkedIncident + ")");
    return Optional.of(new Raise(IncidentKind.MISMATCH, Severity.P0, "LOG_MISMATCH", "",
        -1, "", List.of(), run.isEmpty() ? List.of() : List.of(run), List.of(agentId), "",
        "log reports " + m.getCount() + " mismatches on " + agentId + (run.isEmpty() ? ""
            : " (run " + run + ")"), explanation, agentId + ":" + m.getPath()));
  }

  public static Raise badGolden(String agentId, GoldenReport r) {
    String code = r.getError().getCode();
    String where = r.getError().getPath().isEmpty() ? r.getPath() : r.getError().getPath();
    String position = r.getError().getLine() > 0
        ? ":" + r.getError().getLine() + ":" + r.getError().getColumn() : "";
    return new Raise(IncidentKind.BAD_GOLDEN, Severity.P2, code, r.getWorkflow(), -1,
        "", List.of(), r.getRunId().isEmpty() ? List.of() : List.of(r.getRunId()),
        List.of(agentId), "", "bad golden file on " + agentId + ": " + where + position + " ["
            + code + "]", r.getError().getMessage(), agentId);
  }

  public static Optional<Raise> fromNotice(String agentId, AgentNotice n) {
    return switch (n.getKind()) {
      case EVENTS_DROPPED, HOOK_FAILED, FAILSAFE_STOP, SPOOL_CORRUPT, FATAL_ERROR -> Optional.of(new Raise(
          IncidentKind.AGENT_DEGRADED, Severity.P2, n.getKind().name(), "", -1, "", List.of(),
          List.of(), List.of(agentId), "", "agent " + agentId + ": " + n.getKind()
              + (n.getCount() > 0 ? " (" + n.getCount() + ")" : ""), n.getMessage(), agentId));
      default -> Optional.empty();
    };
  }

  public static Raise webhookFailure(String sink, String detail) {
    return new Raise(IncidentKind.WEBHOOK_FAILURE, Severity.P3, "", "", -1, "",
        List.of(), List.of(), List.of(), "", "alert delivery to " + sink + " keeps failing",
        detail + "; alerts stay queued in the outbox and are written to the local alert log", sink);
  }

  /** The signature of the PROCESS_DIED incident of {@code process} on {@code agentId}. */
  public static String processDiedSignature(String agentId, String process) {
    return raise(IncidentKind.PROCESS_DIED, Severity.P1, agentId, process, "", "").signature();
  }

  /** The signature of the STALE_LOG incident of {@code logPath} on {@code agentId}. */
  public static String staleLogSignature(String agentId, String logPath) {
    return raise(IncidentKind.STALE_LOG, Severity.P2, agentId, logPath, "", "").signature();
  }

  private static Raise raise(IncidentKind kind, Severity sev, String agentId,
      String target, String title, String explanation) {
    return new Raise(kind, sev, "", "", -1, "", List.of(), List.of(), List.of(agentId),
        "", title, explanation, agentId + ":" + target);
  }
}
