package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.proto.v1.ListRunsRequest;
import dev.lockstep.proto.v1.Replica;
import dev.lockstep.proto.v1.Run;
import dev.lockstep.proto.v1.RunList;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lockstep runs}: correlated runs and their verdicts. */
@Command(
    name = "runs",
    mixinStandardHelpOptions = true,
    header = "List correlated runs and their verdicts.",
    description = {
      "Lists runs the collector correlated by run_id: workflow, verdict (PENDING while replicas"
          + " are missing, MATCH, MISMATCH, MISSING_REPLICA), root-cause category, the replicas"
          + " as AGENT/ROLE, and the incident a mismatch opened.",
      "",
      "With -o json prints a RunList message holding every run listed."
    },
    footer = {"  lockstep runs --mismatch", "  lockstep runs --workflow billing.reconcile --limit 20"})
final class RunsCommand extends OnlineCommand {
  @Option(names = "--mismatch", description = "Only runs whose replicas disagree (or one is missing).")
  boolean mismatch;

  @Option(names = "--workflow", paramLabel = "NAME", description = "Only runs of this workflow.")
  String workflow;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "500", description = "At most this many runs (default ${DEFAULT-VALUE}).")
  int limit;

  @Override
  int run(Session session) {
    ListRunsRequest.Builder request =
        ListRunsRequest.newBuilder().setMismatchOnly(mismatch).setPageSize(Math.min(100, Math.max(1, limit)));
    if (workflow != null) {
      request.setWorkflow(workflow);
    }
    List<Run> all = Pages.collect(limit, token -> {
      RunList page = session.operator().listRuns(request.setPageToken(token).build());
      return new Pages.Page<>(page.getRunsList(), page.getNextPageToken());
    });
    if (session.json()) {
      session.printJson(RunList.newBuilder().addAllRuns(all));
      return ExitCode.OK;
    }
    if (all.isEmpty()) {
      session.out().println(mismatch ? "no mismatched runs" : "no runs");
      return ExitCode.OK;
    }
    Table t = new Table("RUN ID", "WORKFLOW", "VERDICT", "CATEGORY", "REPLICAS", "INCIDENT", "FIRST SEEN");
    for (Run r : all) {
      t.row(
          r.getRunId(),
          Texts.orDash(r.getWorkflow()),
          r.getVerdict(),
          Texts.orDash(r.getCategory()),
          replicas(r),
          Texts.orDash(r.getIncidentId()),
          Texts.time(r.getFirstSeen()));
    }
    t.print(session.out());
    return ExitCode.OK;
  }

  static String replicas(Run r) {
    StringJoiner j = new StringJoiner(" ");
    List<Replica> sorted = new ArrayList<>(r.getReplicasList());
    sorted.sort(java.util.Comparator.comparing(Replica::getAgentId).thenComparing(Replica::getRole));
    for (Replica rep : sorted) {
      j.add(rep.getAgentId() + "/" + rep.getRole());
    }
    return j.length() == 0 ? "-" : j.toString();
  }
}
