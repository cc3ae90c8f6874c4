package dev.lockstep.cli.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Timestamp;
import dev.lockstep.proto.v1.AuditEntry;
import dev.lockstep.proto.v1.AuditList;
import dev.lockstep.proto.v1.DiffRequest;
import dev.lockstep.proto.v1.DiffResponse;
import dev.lockstep.proto.v1.EvidenceInfo;
import dev.lockstep.proto.v1.FleetStatus;
import dev.lockstep.proto.v1.GetIncidentRequest;
import dev.lockstep.proto.v1.GetRunRequest;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentNote;
import dev.lockstep.proto.v1.ListAuditRequest;
import dev.lockstep.proto.v1.Replica;
import dev.lockstep.proto.v1.Run;
import dev.lockstep.proto.v1.StatusRequest;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopStatusRequest;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.AgentStopStatus;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The post-incident report ({@code lockstep incident report}, and {@code report.md} in an
 * evidence export): built from the incident, its runs, its golden diff, the audit log (every
 * decision, stop confirmation, capture and operator action is audited with its time) and the
 * current stop and fleet status; one JSON tree, rendered to Markdown.
 *
 * <p>Times: <em>detected</em> is when the collector opened the incident; <em>time to detect</em>
 * runs from the newest golden file of the incident's first run (its modification time, as the
 * agent reported it) — the moment both sides existed — to detection; the others run from
 * detection.
 */
final class IncidentReport {
  static final String FORMAT = "lockstep.incident-report/v1";
  /** How far before the incident the audit log is read (an operator's stop can precede it). */
  static final Duration AUDIT_LEAD = Duration.ofMinutes(5);
  static final int AUDIT_PAGE = 10_000;
  static final int MAX_AUDIT_ENTRIES = 1_000_000;
  static final int TOP_DIFFERENCES = 10;
  static final int MAX_RUNS = 20;

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private IncidentReport() {}

  /** Where the report is written: alone, or inside an evidence export (archived there). */
  record Archive(String where, int artifacts, long bytes) {}

  static ObjectNode build(Session session, String id, Clock clock, Archive archive) {
    Incident incident = session.operator().getIncident(GetIncidentRequest.newBuilder().setId(id).build());
    ObjectNode r = MAPPER.createObjectNode();
    r.put("format", FORMAT);
    r.put("generated_at", Instant.now(clock).truncatedTo(ChronoUnit.MILLIS).toString());
    r.put("collector", session.connection().address().toString());
    ObjectNode inc = r.putObject("incident");
    inc.put("id", incident.getId());
    inc.put("title", incident.getTitle());
    inc.put("kind", incident.getKind().name());
    inc.put("severity", incident.getSeverity().name());
    inc.put("state", incident.getState().name());
    inc.put("workflow", incident.getWorkflow());
    inc.put("count", incident.getCount());
    putTime(inc, "first_seen", incident.getFirstSeen());
    putTime(inc, "last_seen", incident.getLastSeen());
    strings(inc.putArray("run_ids"), incident.getRunIdsList());
    inc.put("stop_order_id", incident.getStopOrderId());

    List<String> warnings = new ArrayList<>();
    List<AuditEntry> audit = audit(session, incident, warnings);
    String order = incident.getStopOrderId();

    // ---- timeline
    ArrayNode timeline = r.putArray("timeline");
    Instant detected = null;
    Instant stopIssued = null;
    Instant resolved = null;
    Instant resumed = null;
    List<Instant> confirmations = new ArrayList<>();
    Set<String> confirmedAgents = new LinkedHashSet<>();
    ArrayNode remediation = MAPPER.createArrayNode();
    for (AuditEntry e : audit) {
      String event = event(e, incident.getId(), order);
      if (event == null) continue;
      Instant at = instant(e.getAt());
      ObjectNode t = timeline.addObject();
      t.put("at", at.toString());
      t.put("event", event);
      t.put("who", e.getWho());
      t.put("action", e.getAction());
      t.put("target", e.getTarget());
      t.put("detail", e.getDetail());
      switch (event) {
        case "detected" -> detected = detected == null ? at : detected;
        case "stop issued" -> stopIssued = stopIssued == null ? at : stopIssued;
        case "confirmed stopped" -> {
          confirmations.add(at);
          confirmedAgents.add(e.getTarget());
        }
        case "resumed" -> resumed = resumed == null ? at : resumed;
        case "resolved" -> resolved = at;
        case "remediation" -> remediation.add(t.deepCopy());
        default -> { }
      }
    }
    if (detected == null && incident.hasFirstSeen()) {
      detected = instant(incident.getFirstSeen());
      warnings.add("the audit log no longer holds the incident's opening (retention?): detection time from the incident");
    }

    // ---- runs, diff
    List<Run> runs = runs(session, incident, warnings);
    ArrayNode runArray = r.putArray("runs");
    Instant lastGolden = null;
    for (Run run : runs) {
      ObjectNode rn = runArray.addObject();
      rn.put("run_id", run.getRunId());
      rn.put("verdict", run.getVerdict());
      rn.put("category", run.getCategory());
      putTime(rn, "decided_at", run.getDecidedAt());
      ArrayNode reps = rn.putArray("replicas");
      for (Replica rep : run.getReplicasList()) {
        ObjectNode o = reps.addObject();
        o.put("agent_id", rep.getAgentId());
        o.put("role", rep.getRole());
        o.put("canonical_hash", rep.getReport().getCanonicalHash());
        o.put("path", rep.getReport().getPath());
        putTime(o, "modified_at", rep.getReport().getModifiedAt());
        if (run == runs.get(0) && rep.getReport().hasModifiedAt()) {
          Instant m = instant(rep.getReport().getModifiedAt());
          if (lastGolden == null || m.isAfter(lastGolden)) lastGolden = m;
        }
      }
    }

    ObjectNode cause = r.putObject("root_cause");
    cause.put("category", incident.getCategory());
    cause.put("explanation", incident.getExplanation());
    ObjectNode first = cause.putObject("first_divergent_step");
    if (incident.getFirstStepIndex() >= 0) {
      first.put("index", incident.getFirstStepIndex());
      first.put("name", incident.getFirstStepName());
    } else {
      first.putNull("index");
    }
    diff(session, incident, cause, warnings);

    ObjectNode hosts = r.putObject("hosts");
    strings(hosts.putArray("agent_ids"), incident.getAgentIdsList());
    strings(hosts.putArray("blamed_agent_ids"), incident.getBlamedAgentIdsList());

    ArrayNode evidence = r.putArray("evidence");
    for (EvidenceInfo e : incident.getEvidenceList()) {
      ObjectNode o = evidence.addObject();
      o.put("agent_id", e.getAgentId());
      o.put("name", e.getName());
      o.put("kind", e.getKind());
      o.put("size_bytes", e.getSizeBytes());
      o.put("sha256", e.getSha256());
      o.put("truncated", e.getTruncated());
    }
    r.set("remediation", remediation);

    ArrayNode notes = r.putArray("notes");
    for (IncidentNote n : incident.getNotesList()) {
      ObjectNode o = notes.addObject();
      putTime(o, "at", n.getAt());
      o.put("by", n.getBy());
      o.put("action", n.getAction());
      o.put("note", n.getNote());
    }

    // ---- stop: still active? who has not confirmed?
    StopStatus stop = session.operator().getStopStatus(StopStatusRequest.getDefaultInstance());
    boolean orderActive = !order.isEmpty() && stop.getOrdersList().stream().map(StopOrder::getId).anyMatch(order::equals);
    List<String> unconfirmed = new ArrayList<>();
    if (orderActive) {
      for (AgentStopStatus a : stop.getAgentsList()) {
        if (a.getOrderIdsList().contains(order) && !a.getStatus().equals("CONFIRMED")) {
          unconfirmed.add(a.getAgentId() + " " + a.getStatus());
        }
      }
    }
    ObjectNode stopNode = r.putObject("stop");
    stopNode.put("order_id", order);
    stopNode.put("active", orderActive);
    strings(stopNode.putArray("confirmed_agent_ids"), new ArrayList<>(confirmedAgents));
    strings(stopNode.putArray("not_confirmed"), unconfirmed);

    // ---- times
    ObjectNode times = r.putObject("times");
    putInstant(times, "golden_written_at", lastGolden);
    putInstant(times, "detected_at", detected);
    putInstant(times, "stop_issued_at", stopIssued);
    Instant allConfirmed = order.isEmpty() || confirmations.isEmpty() || !unconfirmed.isEmpty() ? null
        : confirmations.stream().max(Comparator.naturalOrder()).orElse(null);
    putInstant(times, "all_confirmed_at", allConfirmed);
    putInstant(times, "resumed_at", resumed);
    putInstant(times, "resolved_at", resolved);
    putMillis(times, "time_to_detect_ms", lastGolden, detected);
    putMillis(times, "time_to_stop_ms", detected, stopIssued);
    putMillis(times, "time_to_confirm_all_ms", detected, allConfirmed);
    putMillis(times, "time_to_resolve_ms", detected, resolved);

    // ---- checklist (the playbook's post-incident checklist)
    FleetStatus status = session.operator().getStatus(StatusRequest.getDefaultInstance());
    ArrayNode checklist = r.putArray("checklist");
    boolean known = !incident.getCategory().isEmpty() && !incident.getCategory().equals("UNKNOWN");
    String resolveNote = incident.getNotesList().stream().filter(n -> n.getAction().equals("RESOLVED"))
        .reduce((a, b) -> b).map(IncidentNote::getNote).orElse("");
    check(checklist, "Root cause identified and documented", known && !resolveNote.isEmpty(),
        known ? "classified " + incident.getCategory() + (resolveNote.isEmpty()
            ? "; document it in the resolve note" : "; resolve note: " + resolveNote)
            : "no root-cause category: find it, then resolve with a note naming it");
    check(checklist, "Fix applied and verified", false,
        "an operator's call: say what was fixed and how it was verified in the resolve note");
    check(checklist, "Incident artifacts archived", archive != null,
        archive != null ? "exported to " + archive.where() + ": " + archive.artifacts() + " artifact(s), "
            + archive.bytes() + " bytes, each checked against its SHA-256"
            : "run: lockstep evidence export " + incident.getId() + " --out /root/reports/m4-incident-" + incident.getId());
    check(checklist, "PIN updated with incident summary", false,
        "an operator's call: this report is the summary to paste");
    boolean running = order.isEmpty() ? status.getStop().getOrdersCount() == 0 : !orderActive;
    check(checklist, "Shadow run resumed or completed", running,
        order.isEmpty() ? (running ? "no stop order active" : "stop orders still active: " + status.getStop().getOrdersCount())
            : orderActive ? "stop order " + order + " still active" : "stop order " + order + " resumed");
    boolean monitoring = status.getAgentsOffline() == 0 && status.getAgentsStale() == 0
        && status.getUnhealthyCount() == 0 && (status.getStore().getState().isEmpty() || status.getStore().getState().equals("OK"));
    check(checklist, "Monitoring verified working", monitoring,
        status.getAgentsConnected() + " agent(s) connected, " + status.getAgentsStale() + " stale, "
            + status.getAgentsOffline() + " offline, " + status.getUnhealthyCount() + " unhealthy; collector store "
            + Texts.orDash(status.getStore().getState()));

    strings(r.putArray("warnings"), warnings);
    return r;
  }

  /** What an audit entry means for this incident's timeline, or null when it is not about it. */
  static String event(AuditEntry e, String incidentId, String order) {
    String a = e.getAction();
    if (e.getTarget().equals(incidentId)) {
      return switch (a) {
        case "incident.open" -> "detected";
        case "incident.escalate" -> "escalated";
        case "incident.update" -> "updated";
        case "EvidenceStored" -> "captured";
        case "AckIncident" -> "acknowledged";
        case "ResolveIncident", "incident.resolve" -> "resolved";
        default -> a.startsWith("Remediat") ? "remediation" : null;
      };
    }
    if (order.isEmpty()) return null;
    if (e.getTarget().equals(order)) {
      return switch (a) {
        case "AutoStop", "EnableStop" -> "stop issued";
        case "ResumeStop" -> "resumed";
        case "StopAdopted" -> "stop adopted";
        default -> null;
      };
    }
    if (a.equals("StopConfirmed") || a.equals("StopFailed")) {
      // detail: "generation G STOPPED orders A,B[: ...]" or "generation G RUNNING released A,B"
      String[] words = e.getDetail().split(":", 2)[0].split(" ");
      if (words.length < 5 || !Arrays.asList(words[4].split(",")).contains(order)) return null;
      boolean stopped = words[2].equals("STOPPED");
      if (a.equals("StopFailed")) return stopped ? "stop failed" : "resume failed";
      return stopped ? "confirmed stopped" : "confirmed running";
    }
    return null;
  }

  /** The audit log from shortly before the incident, oldest first (paged). */
  private static List<AuditEntry> audit(Session session, Incident incident, List<String> warnings) {
    Instant from = instant(incident.getFirstSeen()).minus(AUDIT_LEAD);
    List<AuditEntry> all = new ArrayList<>();
    String token = "";
    do {
      AuditList page = session.operator().listAudit(ListAuditRequest.newBuilder()
          .setSince(Texts.timestamp(from)).setLimit(AUDIT_PAGE).setPageToken(token).build());
      all.addAll(page.getEntriesList());
      token = page.getNextPageToken();
      if (all.size() >= MAX_AUDIT_ENTRIES && !token.isEmpty()) {
        warnings.add("the audit log since the incident holds over " + MAX_AUDIT_ENTRIES
            + " entries: only the newest were read, the timeline misses its start");
        break;
      }
    } while (!token.isEmpty());
    List<AuditEntry> oldestFirst = new ArrayList<>(all);
    java.util.Collections.reverse(oldestFirst);
    return oldestFirst;
  }

  private static List<Run> runs(Session session, Incident incident, List<String> warnings) {
    List<Run> runs = new ArrayList<>();
    for (String runId : incident.getRunIdsList()) {
      if (runs.size() >= MAX_RUNS) {
        warnings.add("incident has " + incident.getRunIdsCount() + " runs; the first " + MAX_RUNS + " are listed");
        break;
      }
      try {
        runs.add(session.operator().getRun(GetRunRequest.newBuilder().setRunId(runId).build()));
      } catch (StatusRuntimeException e) {
        warnings.add("run " + runId + ": " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
      }
    }
    return runs;
  }

  private static void diff(Session session, Incident incident, ObjectNode cause, List<String> warnings) {
    ArrayNode top = cause.putArray("top_differences");
    if (incident.getRunIdsCount() == 0) {
      cause.put("real_differences", 0);
      cause.put("volatile_differences", 0);
      return;
    }
    try {
      DiffResponse d = DiffSource.fetch(session, DiffRequest.newBuilder().setIncidentId(incident.getId()).build());
      JsonNode report = MAPPER.readTree(d.getReportJson());
      cause.put("diff_from_documents", d.getFromDocuments());
      cause.put("real_differences", report.path("real_differences").asLong());
      cause.put("volatile_differences", report.path("volatile_differences").asLong());
      cause.set("findings", report.path("findings"));
      for (JsonNode diff : report.path("differences")) {
        if (diff.path("volatile").asBoolean()) continue;
        if (top.size() >= TOP_DIFFERENCES) break;
        ObjectNode o = top.addObject();
        o.put("path", diff.path("path").asText());
        o.put("kind", diff.path("kind").asText());
        o.set("a", diff.get("a"));
        o.set("b", diff.get("b"));
      }
    } catch (StatusRuntimeException e) {
      warnings.add("no golden diff: " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
      long real = incident.getDifferencesList().stream().filter(x -> !x.getVolatile()).count();
      cause.put("real_differences", real);
      cause.put("volatile_differences", incident.getDifferencesCount() - real);
      incident.getDifferencesList().stream().filter(x -> !x.getVolatile()).limit(TOP_DIFFERENCES).forEach(x -> {
        ObjectNode o = top.addObject();
        o.put("path", x.getPath());
        o.put("kind", x.getKind());
        o.put("a", x.getA());
        o.put("b", x.getB());
      });
    } catch (java.io.IOException e) {
      warnings.add("the collector's diff report is not JSON: " + e.getMessage());
    }
  }

  // ------------------------------------------------------------------ Markdown

  static String markdown(JsonNode r) {
    StringBuilder md = new StringBuilder();
    JsonNode inc = r.path("incident");
    md.append("# Incident ").append(inc.path("id").asText()).append(": ").append(cell(inc.path("title").asText()))
        .append("\n\n");
    md.append("| | |\n|---|---|\n");
    row(md, "severity", inc.path("severity").asText());
    row(md, "kind", inc.path("kind").asText());
    row(md, "state", inc.path("state").asText());
    row(md, "workflow", dash(inc.path("workflow").asText()));
    row(md, "runs", dash(join(inc.path("run_ids"))));
    row(md, "occurrences", inc.path("count").asText());
    row(md, "stop order", dash(inc.path("stop_order_id").asText()));
    row(md, "report generated", r.path("generated_at").asText() + " from " + r.path("collector").asText());
    md.append('\n');

    JsonNode t = r.path("times");
    md.append("## Times\n\n| measure | value | from → to |\n|---|---|---|\n");
    times(md, "time to detect", t, "time_to_detect_ms", "golden_written_at", "detected_at");
    times(md, "time to stop", t, "time_to_stop_ms", "detected_at", "stop_issued_at");
    times(md, "time to confirm all", t, "time_to_confirm_all_ms", "detected_at", "all_confirmed_at");
    times(md, "time to resolve", t, "time_to_resolve_ms", "detected_at", "resolved_at");
    md.append('\n');

    md.append("## Timeline\n\n| at (UTC) | event | who | detail |\n|---|---|---|---|\n");
    for (JsonNode e : r.path("timeline")) {
      String detail = e.path("event").asText().startsWith("confirmed") || e.path("event").asText().endsWith("failed")
          ? e.path("target").asText() + ": " + e.path("detail").asText() : e.path("detail").asText();
      md.append("| ").append(e.path("at").asText()).append(" | ").append(e.path("event").asText()).append(" | ")
          .append(cell(e.path("who").asText())).append(" | ").append(cell(detail)).append(" |\n");
    }
    md.append('\n');

    JsonNode c = r.path("root_cause");
    md.append("## Root cause\n\n");
    md.append("- category: **").append(dash(c.path("category").asText())).append("**\n");
    md.append("- why: ").append(dash(cell(c.path("explanation").asText()))).append('\n');
    JsonNode first = c.path("first_divergent_step");
    md.append("- first divergent step: ")
        .append(first.path("index").isNull() || first.path("index").isMissingNode() ? "-"
            : first.path("index").asText() + " (" + first.path("name").asText() + ")").append('\n');
    for (JsonNode f : c.path("findings")) {
      md.append("- finding: ").append(f.path("category").asText()).append(" — ").append(cell(f.path("explanation").asText()))
          .append('\n');
    }
    md.append('\n');
    md.append("### Top differences\n\n").append(c.path("real_differences").asLong()).append(" real, ")
        .append(c.path("volatile_differences").asLong()).append(" volatile (counted, not listed).\n\n");
    if (c.path("top_differences").size() > 0) {
      md.append("| path | kind | primary (a) | shadow (b) |\n|---|---|---|---|\n");
      for (JsonNode d : c.path("top_differences")) {
        md.append("| `").append(d.path("path").asText().replace("`", "'")).append("` | ").append(d.path("kind").asText())
            .append(" | ").append(value(d.get("a"))).append(" | ").append(value(d.get("b"))).append(" |\n");
      }
      md.append('\n');
    }

    JsonNode h = r.path("hosts");
    md.append("## Hosts and blame\n\n- agents: ").append(dash(join(h.path("agent_ids")))).append('\n')
        .append("- blamed (majority vote): ").append(dash(join(h.path("blamed_agent_ids")))).append("\n\n");
    for (JsonNode run : r.path("runs")) {
      md.append("- run `").append(run.path("run_id").asText()).append("` ").append(run.path("verdict").asText()).append(": ");
      List<String> reps = new ArrayList<>();
      run.path("replicas").forEach(x -> reps.add(x.path("role").asText() + " on " + x.path("agent_id").asText()
          + " " + x.path("canonical_hash").asText()));
      md.append(String.join("; ", reps)).append('\n');
    }
    if (r.path("runs").size() > 0) md.append('\n');

    JsonNode s = r.path("stop");
    md.append("## Stop\n\n");
    if (s.path("order_id").asText().isEmpty()) {
      md.append("No stop order of its own.\n\n");
    } else {
      md.append("- order `").append(s.path("order_id").asText()).append("`: ")
          .append(s.path("active").asBoolean() ? "still active" : "resumed").append('\n')
          .append("- confirmed stopped by: ").append(dash(join(s.path("confirmed_agent_ids")))).append('\n');
      if (s.path("not_confirmed").size() > 0) {
        md.append("- **not confirmed**: ").append(join(s.path("not_confirmed"))).append('\n');
      }
      md.append('\n');
    }

    md.append("## Evidence\n\n");
    if (r.path("evidence").size() == 0) {
      md.append("None captured.\n\n");
    } else {
      md.append("| agent | name | kind | bytes | SHA-256 |\n|---|---|---|---|---|\n");
      for (JsonNode e : r.path("evidence")) {
        md.append("| ").append(cell(e.path("agent_id").asText())).append(" | `").append(e.path("name").asText().replace("`", "'"))
            .append("` | ").append(e.path("kind").asText()).append(" | ").append(e.path("size_bytes").asLong())
            .append(e.path("truncated").asBoolean() ? " (truncated)" : "").append(" | `")
            .append(e.path("sha256").asText()).append("` |\n");
      }
      md.append('\n');
    }

    md.append("## Remediation\n\n");
    if (r.path("remediation").size() == 0) {
      md.append("No automatic remediation.\n\n");
    } else {
      for (JsonNode e : r.path("remediation")) {
        md.append("- ").append(e.path("at").asText()).append(" ").append(e.path("action").asText()).append(": ").append(cell(e.path("detail").asText())).append('\n');
      }
      md.append('\n');
    }

    if (r.path("notes").size() > 0) {
      md.append("## Notes\n\n");
      for (JsonNode n : r.path("notes")) {
        md.append("- ").append(n.path("at").asText()).append(" ").append(cell(n.path("by").asText())).append(" (")
            .append(n.path("action").asText()).append("): ").append(cell(n.path("note").asText())).append('\n');
      }
      md.append('\n');
    }

    md.append("## Post-incident checklist\n\n");
    for (JsonNode k : r.path("checklist")) {
      md.append("- [").append(k.path("done").asBoolean() ? "x" : " ").append("] ").append(k.path("item").asText())
          .append(" — ").append(cell(k.path("how").asText())).append('\n');
    }
    if (r.path("warnings").size() > 0) {
      md.append("\n## Warnings\n\n");
      r.path("warnings").forEach(w -> md.append("- ").append(cell(w.asText())).append('\n'));
    }
    return md.toString();
  }

  // ------------------------------------------------------------------ helpers

  private static void check(ArrayNode list, String item, boolean done, String how) {
    ObjectNode o = list.addObject();
    o.put("item", item);
    o.put("done", done);
    o.put("how", how);
  }

  private static void times(StringBuilder md, String name, JsonNode t, String ms, String from, String to) {
    JsonNode v = t.path(ms);
    md.append("| ").append(name).append(" | ").append(v.isNumber() ? duration(v.asLong()) : "-").append(" | ")
        .append(t.path(from).isTextual() ? t.path(from).asText() : "-").append(" → ")
        .append(t.path(to).isTextual() ? t.path(to).asText() : "-").append(" |\n");
  }

  static String duration(long ms) {
    if (ms < 1000) return ms + " ms";
    if (ms < 60_000) return String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    Duration d = Duration.ofMillis(ms);
    return d.toHours() > 0 ? d.toHours() + " h " + d.toMinutesPart() + " min" : d.toMinutes() + " min " + d.toSecondsPart() + " s";
  }

  private static void row(StringBuilder md, String k, String v) {
    md.append("| ").append(k).append(" | ").append(cell(v)).append(" |\n");
  }

  /** Text safe inside a Markdown table cell or list item: one line, pipes escaped. */
  static String cell(String s) {
    return s.replace("\\", "\\\\").replace("|", "\\|").replaceAll("[\\r\\n\\t]+", " ").replace("<", "&lt;");
  }

  private static String value(JsonNode v) {
    if (v == null || v.isNull() || v.isMissingNode()) return "-";
    String s = v.isTextual() ? v.asText() : v.toString();
    if (s.length() > 120) s = s.substring(0, 117) + "...";
    return "`" + s.replace("`", "'").replace("|", "\\|") + "`";
  }

  private static String dash(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }

  private static String join(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(x -> out.add(x.asText()));
    return String.join(", ", out);
  }

  private static void strings(ArrayNode a, List<String> values) {
    values.forEach(a::add);
  }

  private static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  private static void putTime(ObjectNode o, String field, Timestamp t) {
    if (t == null || (t.getSeconds() == 0 && t.getNanos() == 0)) {
      o.putNull(field);
    } else {
      o.put(field, instant(t).toString());
    }
  }

  private static void putInstant(ObjectNode o, String field, Instant i) {
    if (i == null) o.putNull(field);
    else o.put(field, i.toString());
  }

  private static void putMillis(ObjectNode o, String field, Instant from, Instant to) {
    if (from == null || to == null) o.putNull(field);
    else o.put(field, Duration.between(from, to).toMillis());
  }
}
