package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.proto.v1.AgentStopStatus;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopOrder;
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

/** {@code lockstep stop enable|resume|status}: the playbook's disable-workflows.sh, as stop orders. */
@Command(
    name = "stop",
    mixinStandardHelpOptions = true,
    header = "Emergency stop orders: enable, resume, status.",
    synopsisHeading = ManPage.SYNOPSIS,
    descriptionHeading = ManPage.DESCRIPTION,
    commandListHeading = ManPage.COMMANDS,
    footerHeading = ManPage.EXAMPLES,
    description = {
      "An emergency stop is a STOP ORDER held by the collector (the fleet, one workflow or one"
          + " agent). An agent is STOPPED while any active order covers it; orders never undo each"
          + " other, and only an operator's resume with a reason removes one. Each agent gets its"
          + " own desired state (a generation and a mode), writes its stop file, runs its on_stop"
          + " (or on_resume) and verify hooks, and confirms that exact generation. Agents that were"
          + " offline get their state when they reconnect.",
      "",
      "Replaces the playbook's `disable-workflows.sh enable|disable|status`."
    },
    footer = {
      "  lockstep stop enable --reason \"P0 mismatch in billing.reconcile\"",
      "  lockstep stop enable --reason \"bad host\" --scope agent=worker-7 --wait 30s",
      "  lockstep stop status || echo \"not every covered agent confirmed yet\"",
      "  lockstep stop resume --all --order ORD-000042-9f3a1c2b4d5e --reason \"seed fix verified with 10 clean re-runs\"",
      "  lockstep stop resume --order ORD-000042-9f3a1c2b4d5e --reason \"worker-7 reimaged\""
    },
    subcommands = {StopCommand.Enable.class, StopCommand.Resume.class, StopCommand.Status.class})
final class StopCommand {

  @Command(
      name = "enable",
      mixinStandardHelpOptions = true,
      header = "Issue a stop order: the fleet, one workflow or one agent.",
      description = {
        "Issues a new stop order. --scope limits it to the agents running one workflow (agent"
            + " label `workflows`, or runs they reported) or to one agent. An order never weakens"
            + " another: agents already stopped stay stopped. Without --wait the command returns"
            + " once the collector stored the order; with --wait it also waits until every agent"
            + " the orders cover confirmed STOPPED, and exits 1 if some did not in time.",
        "",
        "With -o json prints the StopStatus message (after waiting, when --wait is given)."
      },
      exitCodeList = {
        "0:The order is stored (and, with --wait, confirmed by every covered agent).",
        "1:With --wait: some covered agent did not confirm in time.",
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
        description = "fleet (default), workflow=NAME or agent=AGENT_ID (host=AGENT_ID also works).")
    StopScope scope;

    @Option(names = "--wait", paramLabel = "DURATION", converter = DurationConverter.class, description = "Wait up to this long for every covered agent to confirm.")
    Duration wait;

    @Override
    int run(Session session) throws InterruptedException {
      requireReason(reason);
      StopStatus status =
          session.operator().enableStop(EnableStopRequest.newBuilder().setReason(reason).setScope(scope).build());
      return report(session, status, wait, "stop order issued", StopMode.STOPPED);
    }
  }

  @Command(
      name = "resume",
      aliases = "disable",
      mixinStandardHelpOptions = true,
      header = "Resume: remove stop orders (only with a reason).",
      description = {
        "Removes the orders named with --order, each of which you have looked at (stop status)."
            + " With --all as well, they must be every active order: when another one is active"
            + " (issued after you looked, say by a mismatch) nothing is resumed and the collector"
            + " names it. Without --order nothing is resumed: the active orders are listed with"
            + " the command that resumes exactly them (exit 2). --yes instead resumes every order"
            + " active when the command runs, seen or not (for scripts that mean that). Agents no"
            + " longer covered by any order remove their stop file and run on_resume; agents"
            + " another order still covers stay stopped. Do this only after the fix is verified."
            + " `stop disable` is the same command (the playbook's name). --wait as for enable.",
        "",
        "With -o json prints the StopStatus message."
      },
      exitCodeList = {
        "0:The resume is stored (and, with --wait, every agent confirmed its new state).",
        "1:With --wait: some agent did not confirm in time.",
        ManPage.EXIT_USAGE + " Also: no --order and no --yes (nothing resumed; the active orders are listed).",
        ManPage.EXIT_COLLECTOR
      },
      footer = {
        "  lockstep stop resume --all --order ORD-000042-9f3a1c2b4d5e --reason \"seed fix verified, 10 clean re-runs\"",
        "  lockstep stop resume --order ORD-000042-9f3a1c2b4d5e --reason \"host reimaged\""
      })
  static final class Resume extends OnlineCommand {
    @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why it is safe to resume.")
    String reason;

    @Option(names = "--order", paramLabel = "ORDER_ID", description = "Resume this order (repeatable).")
    List<String> orders = new ArrayList<>();

    @Option(names = "--all", description = "The orders named are every active order: if another is active, resume nothing.")
    boolean all;

    @Option(names = "--yes", description = "Without --order: resume every order active when the command runs, seen or not.")
    boolean yes;

    @Option(names = "--wait", paramLabel = "DURATION", converter = DurationConverter.class, description = "Wait up to this long for every agent to confirm its new state.")
    Duration wait;

    @Override
    int run(Session session) throws InterruptedException {
      requireReason(reason);
      if (yes && !orders.isEmpty()) {
        throw new CommandFailure(ExitCode.USAGE, "--yes resumes every active order; with --order, name"
            + " them (and --all to check there is no other) instead");
      }
      ResumeStopRequest.Builder r = ResumeStopRequest.newBuilder().setReason(reason);
      if (orders.isEmpty()) {
        StopStatus now = session.operator().getStopStatus(StopStatusRequest.getDefaultInstance());
        if (now.getOrdersCount() == 0) {
          if (!session.json()) {
            session.out().println("no active stop order: nothing to resume");
          }
          return report(session, now, wait, "resumed nothing", null);
        }
        List<String> ids = now.getOrdersList().stream().map(StopOrder::getId).toList();
        if (!yes) {
          // a resume lifts only what the operator looked at: show what is active and how to
          // resume exactly that, and resume nothing
          StringBuilder sb = new StringBuilder("nothing resumed: name the orders you have looked at."
              + " Active now:\n");
          for (StopOrder o : now.getOrdersList()) sb.append("  ").append(Texts.order(o)).append('\n');
          sb.append("to resume exactly these: lockstep stop resume --all");
          for (String id : ids) sb.append(" --order ").append(id);
          sb.append(" --reason '").append(reason.replace("'", "'\\''")).append('\'');
          throw new CommandFailure(ExitCode.USAGE, sb.toString());
        }
        // --yes: every order active now, named (one issued after this read is still refused)
        r.setAll(true).addAllOrderIds(ids);
      } else {
        r.setAll(all).addAllOrderIds(orders);
      }
      StopStatus status = session.operator().resumeStop(r.build());
      return report(session, status, wait, "resumed " + String.join(", ", status.getChangedOrderIdsList()), null);
    }
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      header = "Show the active orders and each agent's desired state and answer.",
      description = {
        "Lists the active stop orders and, per agent, its desired state (generation, mode, the"
            + " orders covering it) and its answer: CONFIRMED (acked that generation, enacted and"
            + " verified), FAILED (acked it, hook or verify failed), PENDING (connected, no matching"
            + " ack yet), OFFLINE (not connected, no matching ack). The playbook's \"VERIFY -"
            + " Confirm stop is active\". Exits 1 unless every agent an order covers confirmed"
            + " STOPPED, so scripts can loop on it.",
        "",
        "--expect stopped: also exit 1 when no order is active. --expect running: exit 0 only"
            + " when no order is active and every connected agent confirmed RUNNING.",
        "",
        "With -o json prints the StopStatus message."
      },
      exitCodeList = {
        "0:Every covered agent confirmed STOPPED (and --expect holds).",
        "1:Some covered agent is FAILED, PENDING or OFFLINE, or --expect does not hold.",
        ManPage.EXIT_USAGE,
        ManPage.EXIT_COLLECTOR
      },
      footer = {
        "  lockstep stop status",
        "  until lockstep stop status --expect stopped >/dev/null; do sleep 1; done",
        "  lockstep stop status --expect running -o json"
      })
  static final class Status extends OnlineCommand {
    @Option(names = "--expect", paramLabel = "MODE", converter = ModeConverter.class, description = "stopped or running: what the fleet must be for exit 0.")
    StopMode expect;

    @Override
    int run(Session session) {
      StopStatus status = session.operator().getStopStatus(StopStatusRequest.getDefaultInstance());
      print(session, status);
      return holds(status, expect) ? ExitCode.OK : ExitCode.CONDITION_NOT_MET;
    }
  }

  static void requireReason(String reason) {
    if (reason == null || reason.isBlank()) {
      throw new CommandFailure(ExitCode.USAGE, "--reason must not be empty");
    }
  }

  static int report(Session session, StopStatus status, Duration wait, String what, StopMode expect)
      throws InterruptedException {
    if (wait != null) {
      long deadline = System.nanoTime() + wait.toNanos();
      while (!settled(status) && System.nanoTime() < deadline) {
        Thread.sleep(200);
        status = session.operator().getStopStatus(StopStatusRequest.getDefaultInstance())
            .toBuilder().addAllChangedOrderIds(status.getChangedOrderIdsList()).build();
      }
    }
    if (!session.json()) {
      session.out().println(what + ": " + Texts.stopSummary(status));
    }
    print(session, status);
    return wait == null || settled(status) ? ExitCode.OK : ExitCode.CONDITION_NOT_MET;
  }

  /** Whether the checked condition holds: every covered agent confirmed, plus {@code expect}. */
  static boolean holds(StopStatus status, StopMode expect) {
    if (expect == StopMode.STOPPED && status.getOrdersCount() == 0) return false;
    if (expect == StopMode.RUNNING) {
      if (status.getOrdersCount() > 0) return false;
      return status.getAgentsList().stream().filter(AgentStopStatus::getConnected)
          .allMatch(a -> a.getStatus().equals("CONFIRMED"));
    }
    return unconfirmedCovered(status).isEmpty();
  }

  /** After a change: every connected agent confirmed its desired state, every covered one too. */
  static boolean settled(StopStatus status) {
    for (AgentStopStatus a : status.getAgentsList()) {
      boolean covered = a.getMode() == StopMode.STOPPED;
      if ((covered || a.getConnected()) && !a.getStatus().equals("CONFIRMED")) return false;
    }
    return true;
  }

  /** Covered agents (desired STOPPED) that have not confirmed it, as "id (STATUS)". */
  static List<String> unconfirmedCovered(StopStatus status) {
    List<String> out = new ArrayList<>();
    for (AgentStopStatus a : status.getAgentsList()) {
      if (a.getMode() == StopMode.STOPPED && !a.getStatus().equals("CONFIRMED")) {
        out.add(a.getAgentId() + " (" + a.getStatus() + ")");
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
    t.row("stop", Texts.stopSummary(status));
    t.row("agents", StatusCommand.confirmations(status));
    StatusCommand.printWithoutHeader(t, out);
    if (status.getOrdersCount() > 0) {
      out.println();
      out.println("active orders:");
      for (StopOrder o : status.getOrdersList()) out.println("  " + Texts.order(o));
    }
    if (status.getAgentsCount() > 0) {
      out.println();
      Table a = new Table("AGENT", "DESIRED", "GENERATION", "ORDERS", "STATUS", "ACKED", "ACKED AT", "DETAIL");
      for (AgentStopStatus s : status.getAgentsList()) {
        a.row(s.getAgentId() + (s.getConnected() ? "" : " (offline)"), s.getMode().name(),
            s.getGeneration(), s.getOrderIdsCount() == 0 ? "-" : String.join(",", s.getOrderIdsList()),
            s.getStatus(), s.getAckedGeneration() == 0 ? "-" : s.getAckedGeneration() + " " + s.getAckedMode(),
            Texts.time(s.getAckedAt()), Texts.orDash(firstLine(s.getDetail())));
      }
      a.print(out);
    }
    List<String> missing = unconfirmedCovered(status);
    if (!missing.isEmpty()) {
      out.println();
      out.println("not confirmed by: " + String.join(", ", missing));
    }
  }

  private static String firstLine(String s) {
    String l = s.lines().findFirst().orElse("");
    return l.length() > 80 ? l.substring(0, 80) + "…" : l;
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
      for (String prefix : List.of("agent=", "host=")) {
        if (v.startsWith(prefix) && v.length() > prefix.length()) {
          return StopScope.newBuilder().setAgentId(v.substring(prefix.length())).build();
        }
      }
      throw new TypeConversionException("expected fleet, workflow=NAME or agent=AGENT_ID, got '" + value + "'");
    }
  }

  static final class ModeConverter implements ITypeConverter<StopMode> {
    @Override
    public StopMode convert(String value) {
      return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
        case "stopped" -> StopMode.STOPPED;
        case "running" -> StopMode.RUNNING;
        default -> throw new TypeConversionException("expected stopped or running, got '" + value + "'");
      };
    }
  }
}
