package dev.lockstep.collector.alert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.proto.v1.Incident;
import java.time.Instant;
import java.util.Locale;

/** Builds the body each kind of sink expects for an incident event. */
final class AlertPayloads {
  private static final ObjectMapper JSON = new ObjectMapper();

  private AlertPayloads() {}

  static String host(Incident i) {
    if (i.getBlamedAgentIdsCount() > 0) return String.join(",", i.getBlamedAgentIdsList());
    return String.join(",", i.getAgentIdsList());
  }

  /** Generic JSON webhook: the incident's fields plus the event (opened, escalated, resolved). */
  static String json(Incident i, String event, Instant at) {
    ObjectNode n = JSON.createObjectNode();
    n.put("event", event);
    n.put("at", at.toString());
    n.put("incident", i.getId());
    n.put("kind", i.getKind().name());
    n.put("severity", i.getSeverity().name());
    n.put("state", i.getState().name());
    n.put("title", i.getTitle());
    n.put("category", i.getCategory());
    n.put("workflow", i.getWorkflow());
    n.put("host", host(i));
    n.put("blamed_host", String.join(",", i.getBlamedAgentIdsList()));
    ArrayNode runs = n.putArray("run_ids");
    i.getRunIdsList().forEach(runs::add);
    n.put("first_step_index", i.getFirstStepIndex());
    n.put("count", i.getCount());
    n.put("explanation", i.getExplanation());
    n.put("stop_order_id", i.getStopOrderId());
    return n.toString();
  }

  /** Slack incoming-webhook body. */
  static String slack(Incident i, String event) {
    ObjectNode n = JSON.createObjectNode();
    String icon = switch (i.getSeverity()) {
      case P0 -> ":rotating_light:";
      case P1 -> ":red_circle:";
      case P2 -> ":large_orange_circle:";
      default -> ":large_yellow_circle:";
    };
    n.put("text", icon + " *" + i.getSeverity() + " " + event.toUpperCase(Locale.ROOT) + "* "
        + i.getId() + ": " + i.getTitle()
        + (i.getExplanation().isEmpty() ? "" : "\n" + i.getExplanation()));
    return n.toString();
  }

  /**
   * Alertmanager API v2 body: one alert with labels alertname, severity, category, workflow, host,
   * incident (empty values left out). Firing alerts carry endsAt 24 h ahead so they stay active
   * until the incident is resolved, which sends endsAt = now.
   */
  static String alertmanager(Incident i, String event, Instant at) {
    ArrayNode arr = JSON.createArrayNode();
    ObjectNode a = arr.addObject();
    ObjectNode labels = a.putObject("labels");
    String kind = i.getKind().name().toLowerCase(Locale.ROOT);
    StringBuilder name = new StringBuilder("Lockstep");
    for (String part : kind.split("_")) {
      name.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
    }
    labels.put("alertname", name.toString());
    labels.put("severity", i.getSeverity().name());
    put(labels, "category", i.getCategory());
    put(labels, "workflow", i.getWorkflow());
    put(labels, "host", host(i));
    labels.put("incident", i.getId());
    ObjectNode ann = a.putObject("annotations");
    ann.put("summary", i.getTitle());
    put(ann, "description", i.getExplanation());
    Instant starts = Instant.ofEpochSecond(i.getFirstSeen().getSeconds(), i.getFirstSeen().getNanos());
    a.put("startsAt", (starts.getEpochSecond() == 0 ? at : starts).toString());
    a.put("endsAt", ("resolved".equals(event) ? at : at.plusSeconds(86_400)).toString());
    return arr.toString();
  }

  private static void put(ObjectNode n, String k, String v) {
    if (v != null && !v.isEmpty()) n.put(k, v);
  }
}
