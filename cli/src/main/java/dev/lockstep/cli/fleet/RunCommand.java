package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.proto.v1.GetRunRequest;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.Replica;
import dev.lockstep.proto.v1.Run;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code lockstep run show RUN_ID}. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    header = "Show one run: replicas, hosts, hashes.",
    synopsisHeading = ManPage.SYNOPSIS,
    descriptionHeading = ManPage.DESCRIPTION,
    commandListHeading = ManPage.COMMANDS,
    footerHeading = ManPage.EXAMPLES,
    description = {"Inspect one correlated run."},
    footer = {"  lockstep run show billing-7f3a-cycle-0042"},
    subcommands = {RunCommand.Show.class})
final class RunCommand {

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      header = "Show a run's replicas, hosts, seeds and hashes.",
      description = {
        "Prints the run's verdict and category, then one row per replica: agent, role, seed,"
            + " canonical hash of the masked document, the engine's own hash, step count and the"
            + " golden file's path on the host. A replica whose golden file could not be parsed"
            + " shows the parse error instead.",
        "",
        "With -o json prints the Run message."
      },
      footer = {"  lockstep run show billing-7f3a-cycle-0042", "  lockstep run show billing-7f3a-cycle-0042 -o json | jq .replicas"})
  static final class Show extends OnlineCommand {
    @Parameters(paramLabel = "RUN_ID", description = "The run id both replicas share.")
    String runId;

    @Override
    int run(Session session) {
      Run run = session.operator().getRun(GetRunRequest.newBuilder().setRunId(runId).build());
      if (session.json()) {
        session.printJson(run);
      } else {
        render(run, session.out());
      }
      return ExitCode.OK;
    }
  }

  static void render(Run r, PrintWriter out) {
    Table t = new Table("", "");
    t.row("run", r.getRunId());
    t.row("workflow", Texts.orDash(r.getWorkflow()));
    t.row("verdict", r.getVerdict());
    if (!r.getCategory().isEmpty()) {
      t.row("category", r.getCategory());
    }
    t.row("incident", Texts.orDash(r.getIncidentId()));
    t.row("first seen", Texts.time(r.getFirstSeen()));
    t.row("decided", Texts.time(r.getDecidedAt()));
    StatusCommand.printWithoutHeader(t, out);
    out.println();
    Table reps = new Table("AGENT", "ROLE", "SEED", "CANONICAL HASH", "ENGINE HASH", "STEPS", "PATH");
    for (Replica rep : r.getReplicasList()) {
      GoldenReport g = rep.getReport();
      if (g.hasError()) {
        reps.row(rep.getAgentId(), rep.getRole(), "-", "unparsable: " + g.getError().getCode() + " at " + g.getError().getLine() + ":" + g.getError().getColumn(), "-", "-", g.getPath());
      } else {
        reps.row(
            rep.getAgentId(),
            rep.getRole(),
            g.getHasSeed() ? Long.toUnsignedString(g.getSeed()) : "-",
            Texts.orDash(g.getCanonicalHash()),
            Texts.orDash(g.getEngineHash()),
            g.getStepsCount(),
            Texts.orDash(g.getPath()));
      }
    }
    if (reps.isEmpty()) {
      out.println("no replicas reported");
    } else {
      reps.print(out);
    }
  }
}
