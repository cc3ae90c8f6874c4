package dev.lockstep.cli.fleet;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.cli.client.RpcFailure;
import dev.lockstep.proto.v1.FleetStatus;
import dev.lockstep.proto.v1.StatusRequest;
import dev.lockstep.proto.v1.StopStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lockstep check}: the playbook's cron check, for cron and monitoring systems. */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    header = "Exit 0 when the fleet is healthy (for cron and Nagios).",
    description = {
      "Prints one status line and exits by the fleet's health. CRITICAL: a P0 or P1 incident is"
          + " open, a stop is in force that some covered agent has not confirmed, or the"
          + " collector's store is at its flood stage or refuses writes. WARNING: a"
          + " P2/P3/WARNING incident is open, an agent is stale or offline, a disk or log probe"
          + " is not OK, or the fleet is stopped (confirmed). Replaces the playbook's cron grep.",
      "",
      "Default exit codes: 0 when not CRITICAL, 1 when CRITICAL, 3 when the collector cannot be"
          + " asked. --nagios uses the monitoring-plugin convention instead: 0 OK, 1 WARNING,"
          + " 2 CRITICAL, 3 UNKNOWN, and appends performance data to the line.",
      "",
      "With -o json prints {\"status\": OK|WARNING|CRITICAL|UNKNOWN, \"exit_code\": N,"
          + " \"critical\": [reason...], \"warning\": [reason...], \"open_incidents\": {\"P0\": N,"
          + " ...}, \"stop_orders\": N, \"stop_covered\": N, \"store_state\": OK|LOW|FLOOD|FAILED, \"store_free_bytes\": N,"
          + " \"stop_unconfirmed\": N}."
    },
    exitCodeList = {
      "0:Healthy (no CRITICAL condition). With --nagios: OK.",
      "1:A P0/P1 incident is open, the stop is not confirmed, or the collector's store is full. With --nagios: WARNING.",
      "2:Bad usage. With --nagios: CRITICAL.",
      "3:The collector could not be asked. With --nagios: UNKNOWN."
    },
    footer = {
      "  */5 * * * * lockstep check >/dev/null || logger -t lockstep \"fleet not healthy\"",
      "  lockstep check --nagios"
    })
final class CheckCommand extends OnlineCommand {
  @Option(names = "--nagios", description = "Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; add perfdata.")
  boolean nagios;

  @Override
  int run(Session session) throws Exception {
    FleetStatus status = session.operator().getStatus(StatusRequest.getDefaultInstance());
    List<String> critical = new ArrayList<>();
    List<String> warning = new ArrayList<>();
    Map<String, Integer> open = status.getOpenIncidentsMap();
    for (String sev : List.of("P0", "P1")) {
      int n = open.getOrDefault(sev, 0);
      if (n > 0) {
        critical.add(n + " " + sev + " open");
      }
    }
    for (String sev : List.of("P2", "P3", "WARNING")) {
      int n = open.getOrDefault(sev, 0);
      if (n > 0) {
        warning.add(n + " " + sev + " open");
      }
    }
    StopStatus stop = status.getStop();
    List<String> notConfirmed = StopCommand.unconfirmedCovered(stop);
    int unconfirmed = notConfirmed.size();
    if (stop.getOrdersCount() > 0 && unconfirmed > 0) {
      critical.add("stop not confirmed by " + unconfirmed + " covered agent(s): "
          + String.join(", ", notConfirmed.subList(0, Math.min(5, unconfirmed)))
          + (unconfirmed > 5 ? ", ..." : ""));
    } else if (stop.getOrdersCount() > 0) {
      warning.add(Texts.stopSummary(stop) + ", all confirmed");
    }
    String store = status.getStore().getState();
    if (store.equals("FLOOD") || store.equals("FAILED")) {
      critical.add("collector store " + StatusCommand.store(status.getStore()));
    } else if (store.equals("LOW")) {
      warning.add("collector store " + StatusCommand.store(status.getStore()));
    }
    if (status.getAgentsStale() > 0) {
      warning.add(status.getAgentsStale() + " agent(s) stale");
    }
    if (status.getAgentsOffline() > 0) {
      warning.add(status.getAgentsOffline() + " agent(s) offline");
    }
    if (status.getUnhealthyCount() > 0) {
      warning.add("unhealthy: " + String.join(", ", status.getUnhealthyList()));
    }
    String level = !critical.isEmpty() ? "CRITICAL" : !warning.isEmpty() ? "WARNING" : "OK";
    int code;
    if (nagios) {
      code = level.equals("CRITICAL") ? 2 : level.equals("WARNING") ? 1 : 0;
    } else {
      code = level.equals("CRITICAL") ? ExitCode.CONDITION_NOT_MET : ExitCode.OK;
    }
    if (session.json()) {
      ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      ObjectNode root = mapper.createObjectNode();
      root.put("status", level);
      root.put("exit_code", code);
      ArrayNode c = root.putArray("critical");
      critical.forEach(c::add);
      ArrayNode w = root.putArray("warning");
      warning.forEach(w::add);
      ObjectNode o = root.putObject("open_incidents");
      for (String sev : List.of("P0", "P1", "P2", "P3", "WARNING")) {
        o.put(sev, open.getOrDefault(sev, 0));
      }
      root.put("stop_orders", stop.getOrdersCount());
      root.put("stop_covered", stop.getCovered());
      root.put("stop_unconfirmed", unconfirmed);
      root.put("store_state", store);
      root.put("store_free_bytes", status.getStore().getFreeBytes());
      root.put("agents_connected", status.getAgentsConnected());
      root.put("agents_stale", status.getAgentsStale());
      root.put("agents_offline", status.getAgentsOffline());
      session.out().println(mapper.writeValueAsString(root));
      return code;
    }
    List<String> reasons = new ArrayList<>(critical);
    reasons.addAll(warning);
    StringBuilder line = new StringBuilder("LOCKSTEP ").append(level).append(" - ");
    line.append(reasons.isEmpty() ? status.getAgentsConnected() + " agent(s) connected, no open incidents" : String.join("; ", reasons));
    if (nagios) {
      line.append(" | agents_connected=").append(status.getAgentsConnected())
          .append(" agents_stale=").append(status.getAgentsStale())
          .append(" agents_offline=").append(status.getAgentsOffline());
      for (String sev : List.of("P0", "P1", "P2", "P3")) {
        line.append(' ').append(sev.toLowerCase()).append("_open=").append(open.getOrDefault(sev, 0));
      }
      line.append(" stop_orders=").append(stop.getOrdersCount())
          .append(" stop_covered=").append(stop.getCovered())
          .append(" stop_unconfirmed=").append(unconfirmed)
          .append(" runs_mismatched=").append(status.getRunsMismatched()).append('c');
    }
    session.out().println(line);
    return code;
  }

  @Override
  void onCollectorFailure(Session session, RpcFailure failure) {
    if (!session.json()) {
      session.out().println("LOCKSTEP UNKNOWN - " + failure.message());
    }
  }
}
