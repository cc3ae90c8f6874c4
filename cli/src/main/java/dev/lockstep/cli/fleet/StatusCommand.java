package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.proto.v1.FleetStatus;
import dev.lockstep.proto.v1.Severity;
import dev.lockstep.proto.v1.StatusRequest;
import dev.lockstep.proto.v1.StopStatus;
import java.io.PrintWriter;
import java.util.Map;
import java.util.StringJoiner;
import picocli.CommandLine.Command;

/** {@code lockstep status}: the fleet at a glance. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    header = "Show the fleet at a glance.",
    description = {
      "Asks the collector for the state of the whole fleet: agents connected, stale (connected"
          + " but silent) and offline; the active stop orders and how many agents"
          + " confirmed it; open incidents by severity; cycles progressed; agents whose disk or"
          + " log probes are not OK; events ingested and runs correlated. In cluster mode, also"
          + " every collector of the cluster (UP, DOWN or STOPPED, the agents it holds, which one"
          + " runs the core) and the Kafka lag of the core's inputs.",
      "",
      "With -o json prints the FleetStatus message."
    },
    footer = {
      "  lockstep status",
      "  lockstep status --collector collector.prod:7443 -o json | jq .open_incidents"
    })
final class StatusCommand extends OnlineCommand {

  @Override
  int run(Session session) {
    FleetStatus status = session.operator().getStatus(StatusRequest.getDefaultInstance());
    if (session.json()) {
      session.printJson(status);
      return ExitCode.OK;
    }
    PrintWriter out = session.out();
    Table t = new Table("", "");
    t.row("collector", session.connection().address() + "  (at " + Texts.time(status.getNow()) + ")");
    t.row(
        "agents",
        status.getAgentsConnected() + " connected, " + status.getAgentsStale() + " stale, "
            + status.getAgentsOffline() + " offline");
    StopStatus stop = status.getStop();
    t.row("stop", Texts.stopSummary(stop));
    for (var o : stop.getOrdersList()) {
      t.row("", Texts.order(o));
    }
    t.row("", confirmations(stop));
    t.row("store", store(status.getStore()));
    if (status.hasCluster()) cluster(t, status.getCluster());
    t.row("incidents", openIncidents(status.getOpenIncidentsMap()));
    t.row("cycles", status.getCycles());
    t.row(
        "runs",
        status.getRunsCorrelated() + " correlated, " + status.getRunsMismatched() + " mismatched");
    t.row("events", status.getEventsIngested() + " ingested");
    t.row(
        "unhealthy",
        status.getUnhealthyCount() == 0 ? "none" : String.join(", ", status.getUnhealthyList()));
    printWithoutHeader(t, out);
    return ExitCode.OK;
  }

  /**
   * Cluster mode: one row per collector (state, agents it holds, which one runs the core), the
   * Kafka lag of the core's inputs, and how far the answering collector's copy is behind.
   */
  static void cluster(Table t, dev.lockstep.proto.v1.ClusterStatus c) {
    long up = c.getCollectorsList().stream().filter(m -> m.getState().equals("UP")).count();
    t.row("cluster", up + " of " + c.getCollectorsCount() + " collectors up (Kafka "
        + c.getBootstrap() + "; answered by " + c.getCollectorId() + ")");
    for (var m : c.getCollectorsList()) {
      t.row("", m.getCollectorId() + "  " + m.getState() + "  " + m.getAddress() + "  "
          + m.getAgents() + " agents" + (m.getCore() ? "  runs the core" : "")
          + "  (heartbeat " + Texts.time(m.getHeartbeatAt()) + ")");
    }
    StringJoiner lag = new StringJoiner(", ");
    new java.util.TreeMap<>(c.getCoreLagMap()).forEach((topic, n) -> lag.add(topic + " " + n));
    t.row("kafka lag", "core: " + (lag.length() == 0 ? "unknown" : lag.toString())
        + "; this collector's copy: " + c.getReplicaLag() + " records behind");
  }

  /** "OK (41 GiB free)" or "FLOOD: 12 MiB free, below the flood watermark …". */
  static String store(dev.lockstep.proto.v1.StoreHealth h) {
    if (h.getState().isEmpty()) return "-";
    String free = h.getFreeBytes() >= (1L << 30) ? (h.getFreeBytes() >> 30) + " GiB free"
        : (h.getFreeBytes() >> 20) + " MiB free";
    return h.getDetail().isEmpty() ? h.getState() + " (" + free + ")" : h.getState() + ": " + h.getDetail()
        + (h.getPendingWrites() > 0 ? "; " + h.getPendingWrites() + " writes held in memory" : "");
  }

  static String confirmations(StopStatus stop) {
    return stop.getConfirmed() + " confirmed, " + stop.getFailed() + " failed, " + stop.getPending()
        + " pending, " + stop.getOffline() + " offline";
  }

  /** "P0 1, P1 2 open" in severity order, or "none open". */
  static String openIncidents(Map<String, Integer> bySeverity) {
    StringJoiner j = new StringJoiner(", ");
    for (Severity s : Severity.values()) {
      if (s == Severity.SEVERITY_UNSPECIFIED || s == Severity.UNRECOGNIZED) {
        continue;
      }
      int n = bySeverity.getOrDefault(s.name(), 0);
      if (n > 0) {
        j.add(s.name() + " " + n);
      }
    }
    for (Map.Entry<String, Integer> e : bySeverity.entrySet()) {
      boolean known = false;
      for (Severity s : Severity.values()) {
        known |= s != Severity.UNRECOGNIZED && s.name().equals(e.getKey());
      }
      if (!known && e.getValue() > 0) {
        j.add(e.getKey() + " " + e.getValue());
      }
    }
    return j.length() == 0 ? "none open" : j + " open";
  }

  /** A two-column key/value block: the header row of {@link Table} is blank, so skip it. */
  static void printWithoutHeader(Table t, PrintWriter out) {
    java.io.StringWriter buf = new java.io.StringWriter();
    t.print(new PrintWriter(buf, true));
    String text = buf.toString();
    int firstNewline = text.indexOf('\n');
    out.print(firstNewline < 0 ? "" : text.substring(firstNewline + 1));
  }
}
