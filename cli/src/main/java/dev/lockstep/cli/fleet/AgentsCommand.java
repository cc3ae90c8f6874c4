package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.proto.v1.AgentInfo;
import dev.lockstep.proto.v1.AgentList;
import dev.lockstep.proto.v1.ComponentStatus;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.ListAgentsRequest;
import java.util.Locale;
import java.util.StringJoiner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lockstep agents}: one row per agent with its probes. */
@Command(
    name = "agents",
    mixinStandardHelpOptions = true,
    header = "List agents with their connection and probes.",
    description = {
      "One row per agent the collector knows: connection (CONNECTED, STALE, OFFLINE), last"
          + " seen, highest acked seq, its desired stop mode and whether it confirmed it, runs it reported and was blamed"
          + " for, its components (ok when every part of the agent runs, else each one DEGRADED or FAILED) and the"
          + " level of each probe (process, disk, log staleness). With --probes every probe's and component's"
          + " one-line summary follows its agent.",
      "",
      "With -o json prints the AgentList message."
    },
    footer = {"  lockstep agents", "  lockstep agents --probes", "  lockstep agents -o json | jq -r '.agents[].connection'"})
final class AgentsCommand extends OnlineCommand {
  @Option(names = "--probes", description = "Print each probe's summary line under its agent.")
  boolean probes;

  @Override
  int run(Session session) {
    AgentList list = session.operator().listAgents(ListAgentsRequest.getDefaultInstance());
    if (session.json()) {
      session.printJson(list);
      return ExitCode.OK;
    }
    if (list.getAgentsCount() == 0) {
      session.out().println("no agents known to the collector");
      return ExitCode.OK;
    }
    Table t =
        new Table("AGENT", "HOSTNAME", "CONNECTION", "LAST SEEN", "ACKED SEQ", "STOP", "RUNS", "BLAMED",
            "COMPONENTS", "PROBES");
    for (AgentInfo a : list.getAgentsList()) {
      t.row(
          a.getAgentId(),
          Texts.orDash(a.getHostname()),
          a.getConnection(),
          Texts.time(a.getLastSeen()),
          a.getAckedSeq(),
          a.hasStop() ? a.getStop().getMode() + " " + a.getStop().getStatus() : "-",
          a.getRunsReported(),
          a.getRunsBlamed(),
          components(a),
          probeLevels(a));
    }
    if (!probes) {
      t.print(session.out());
      return ExitCode.OK;
    }
    t.print(session.out());
    session.out().println();
    for (AgentInfo a : list.getAgentsList()) {
      for (HealthSample p : a.getProbesList()) {
        session.out().println(a.getAgentId() + "  " + probeName(p) + " " + p.getLevel() + "  " + p.getSummary());
      }
    }
    return ExitCode.OK;
  }

  static String probeLevels(AgentInfo a) {
    StringJoiner j = new StringJoiner(" ");
    j.setEmptyValue("-");
    for (HealthSample p : a.getProbesList()) {
      if (p.getProbe() != HealthSample.Probe.COMPONENT) {
        j.add(probeName(p) + "=" + p.getLevel().name());
      }
    }
    return j.toString();
  }

  /** "ok" when every reported component runs, else the ones that do not ("golden=DEGRADED"). */
  static String components(AgentInfo a) {
    int n = 0;
    StringJoiner trouble = new StringJoiner(" ");
    for (HealthSample p : a.getProbesList()) {
      if (p.getProbe() == HealthSample.Probe.COMPONENT) {
        n++;
        if (p.getComponent().getState() != ComponentStatus.State.RUNNING) {
          trouble.add(p.getTarget() + "=" + p.getComponent().getState().name());
        }
      }
    }
    return n == 0 ? "-" : trouble.length() == 0 ? "ok" : trouble.toString();
  }

  static String probeName(HealthSample p) {
    String kind;
    switch (p.getProbe()) {
      case PROCESS: kind = "process"; break;
      case DISK: kind = "disk"; break;
      case LOG_STALENESS: kind = "log"; break;
      case COMPONENT: kind = "component"; break;
      default: kind = p.getProbe().name().toLowerCase(Locale.ROOT);
    }
    return p.getTarget().isEmpty() ? kind : kind + ":" + p.getTarget();
  }
}
