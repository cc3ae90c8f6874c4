package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.proto.v1.AgentStopStatus;
import dev.lockstep.proto.v1.DisableStopRequest;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.StopStatusRequest;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code lockstep stop enable|disable|status}: the playbook's disable-workflows.sh, fleet-wide. */
@Command(
    name = "stop",
    mixinStandardHelpOptions = true,
    header = "Emergency stop: enable, disable (resume), status.",
    synopsisHeading = ManPage.SYNOPSIS,
    descriptionHeading = ManPage.DESCRIPTION,
    commandListHeading = ManPage.COMMANDS,
    footerHeading = ManPage.EXAMPLES,
    description = {
      "The emergency stop is a level-triggered desired state held by the collector: each"
          + " change takes the next epoch, is stored, and is pushed to every agent, which writes"
          + " its stop file, runs its on_stop (or on_resume) hook and its verify hook, then"
          + " confirms. Agents that were offline get the state when they reconnect.",
      "",
      "Replaces the playbook's `disable-workflows.sh enable|disable|status`."
    },
    footer = {
      "  lockstep stop enable --reason \"P0 mismatch in billing.reconcile\"",
      "  lockstep stop enable --reason \"bad host\" --scope host=worker-7 --wait 30s",
      "  lockstep stop status || echo \"not every agent confirmed yet\"",
      "  lockstep stop disable --reason \"seed fix verified with 10 clean re-runs\""
    },
    subcommands = {StopCommand.Enable.class, StopCommand.Disable.class, StopCommand.Status.class})
final class StopCommand {

  @Command(
      name = "enable",
      mixinStandardHelpOptions = true,
      header = "Stop workflows: the fleet, one workflow or one host.",
      description = {
        "Sets the desired state to STOPPED with the next epoch. --scope limits it to the agents"
            + " running one workflow (agent label `workflows`, or runs they reported) or to one"
            + " agent. Without --wait the command returns once the collector stored the state;"
            + " with --wait it also waits until every in-scope agent confirmed, and exits 1 if"
            + " some did not in time.",
        "",
        "With -o json prints the StopStatus message (after waiting, when --wait is given)."
      },
      exitCodeList = {
        "0:The stop is stored (and, with --wait, confirmed by every in-scope agent).",
        "1:With --wait: some in-scope agent did not confirm in time.",
        ManPage.EXIT_USAGE,
        ManPage.EXIT_COLLECTOR
      },
      footer = {
        "  lockstep stop enable --reason \"P0 mismatch in billing.reconcile\"",
        "  lockstep stop enable --reason \"nondeterministic\" \\",
        "      --scope workflow=billing.reconcile --wait 30s"
      })
  static final class Enable extends OnlineCommand {
    @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why: shown to every operator and in the agents' stop file.")
    String reason;

    @Option(
        names = "--scope",
        paramLabel = "SCOPE",
        defaultValue = "fleet",
        converter = ScopeConverter.class,
        description = "fleet (default), workflow=NAME or host=AGENT_ID.")
    StopScope scope;

    @Option(names = "--wait", paramLabel = "DURATION", converter = DurationConverter.class, description = "Wait up to this long for every in-scope agent to confirm.")
    Duration wait;

    @Override
    int run(Session session) throws InterruptedException {
      requireReason(reason);
      StopStatus status =
          session.operator().enableStop(EnableStopRequest.newBuilder().setReason(reason).setScope(scope).build());
      return report(session, status, wait, "stop enabled");
    }
  }

  @Command(
      name = "disable",
      mixinStandardHelpOptions = true,
      header = "Resume workflows (only with a reason).",
      description = {
        "Sets the desired state to RUNNING with the next epoch: agents remove their stop file and"
            + " run on_resume. Do this only after the fix is verified. --wait as for enable.",
        "",
        "With -o json prints the StopStatus message."
      },
      exitCodeList = {
        "0:The resume is stored (and, with --wait, confirmed by every agent).",
        "1:With --wait: some agent did not confirm in time.",
        ManPage.EXIT_USAGE,
        ManPage.EXIT_COLLECTOR
      },
      footer = {"  lockstep stop disable --reason \"seed fix verified, 10 clean re-runs\""})
  static final class Disable extends OnlineCommand {
    @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why it is safe to resume.")
    String reason;

    @Option(names = "--wait", paramLabel = "DURATION", converter = DurationConverter.class, description = "Wait up to this long for every agent to confirm.")
    Duration wait;

    @Override
    int run(Session session) throws InterruptedException {
      requireReason(reason);
      StopStatus status = session.operator().disableStop(DisableStopRequest.newBuilder().setReason(reason).build());
      return report(session, status, wait, "stop disabled (resume)");
    }
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      header = "Show the stop state and who confirmed it.",
      description = {
        "Shows the current desired state and, for its epoch, each agent's answer: CONFIRMED"
            + " (enacted and verified), FAILED (hook or verify failed), PENDING (connected, no"
            + " answer yet), OFFLINE (not connected), NOT_IN_SCOPE. The playbook's \"VERIFY -"
            + " Confirm stop is active\", fleet-wide. Exits 1 while any in-scope agent has not"
            + " confirmed, so scripts can loop on it.",
        "",
        "With -o json prints the StopStatus message."
      },
      exitCodeList = {
        "0:Every in-scope agent confirmed the current epoch (or no stop was ever set).",
        "1:Some in-scope agent is FAILED, PENDING or OFFLINE.",
        ManPage.EXIT_USAGE,
        ManPage.EXIT_COLLECTOR
      },
      footer = {"  lockstep stop status", "  until lockstep stop status >/dev/null; do sleep 1; done"})
  static final class Status extends OnlineCommand {
    @Override
    int run(Session session) {
      StopStatus status = session.operator().getStopStatus(StopStatusRequest.getDefaultInstance());
      print(session, status);
      return confirmed(status) ? ExitCode.OK : ExitCode.CONDITION_NOT_MET;
    }
  }

  static void requireReason(String reason) {
    if (reason == null || reason.isBlank()) {
      throw new CommandFailure(ExitCode.USAGE, "--reason must not be empty");
    }
  }

  static int report(Session session, StopStatus status, Duration wait, String what) throws InterruptedException {
    if (wait != null) {
      long deadline = System.nanoTime() + wait.toNanos();
      long epoch = status.getState().getEpoch();
      while (!confirmed(status) && System.nanoTime() < deadline) {
        Thread.sleep(200);
        StopStatus now = session.operator().getStopStatus(StopStatusRequest.getDefaultInstance());
        if (now.getState().getEpoch() != epoch) {
          throw new CommandFailure(
              ExitCode.CONDITION_NOT_MET,
              "stop state changed to epoch " + now.getState().getEpoch() + " while waiting for epoch " + epoch);
        }
        status = now;
      }
    }
    if (!session.json()) {
      session.out().println(what + ": " + Texts.stopState(status.getState()));
    }
    print(session, status);
    return wait == null || confirmed(status) ? ExitCode.OK : ExitCode.CONDITION_NOT_MET;
  }

  /** Whether every in-scope agent confirmed the current epoch; true when no stop was ever set. */
  static boolean confirmed(StopStatus status) {
    return unconfirmed(status).isEmpty()
        && status.getFailed() + status.getPending() + status.getOffline() == 0;
  }

  static List<AgentStopStatus> unconfirmed(StopStatus status) {
    List<AgentStopStatus> out = new ArrayList<>();
    for (AgentStopStatus a : status.getAgentsList()) {
      if (!a.getStatus().equals("CONFIRMED") && !a.getStatus().equals("NOT_IN_SCOPE")) {
        out.add(a);
      }
    }
    return out;
  }

  static void print(Session session, StopStatus status) {
    if (session.json()) {
      session.printJson(status);
      return;
    }
    PrintWriter out = session.out();
    Table t = new Table("", "");
    t.row("stop", Texts.stopState(status.getState()));
    t.row("agents", StatusCommand.confirmations(status));
    StatusCommand.printWithoutHeader(t, out);
    if (status.getAgentsCount() > 0) {
      out.println();
      Table a = new Table("AGENT", "STATUS", "ACKED EPOCH", "ACKED AT", "DETAIL");
      for (AgentStopStatus s : status.getAgentsList()) {
        a.row(s.getAgentId(), s.getStatus(), s.getAckedEpoch(), Texts.time(s.getAckedAt()), Texts.orDash(s.getDetail()));
      }
      a.print(out);
    }
    List<AgentStopStatus> missing = unconfirmed(status);
    if (!missing.isEmpty()) {
      List<String> names = new ArrayList<>();
      for (AgentStopStatus s : missing) {
        names.add(s.getAgentId() + " (" + s.getStatus() + ")");
      }
      out.println();
      out.println("not confirmed by: " + String.join(", ", names));
    }
  }

  static final class ScopeConverter implements ITypeConverter<StopScope> {
    @Override
    public StopScope convert(String value) {
      String v = value.trim();
      if (v.equals("fleet")) {
        return StopScope.newBuilder().setFleet(true).build();
      }
      if (v.startsWith("workflow=") && v.length() > "workflow=".length()) {
        return StopScope.newBuilder().setWorkflow(v.substring("workflow=".length())).build();
      }
      if (v.startsWith("host=") && v.length() > "host=".length()) {
        return StopScope.newBuilder().setHost(v.substring("host=".length())).build();
      }
      throw new TypeConversionException("expected fleet, workflow=NAME or host=AGENT_ID, got '" + value + "'");
    }
  }
}
