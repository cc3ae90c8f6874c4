package dev.lockstep.cli.fleet;

import dev.lockstep.proto.v1.DiffRequest;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lockstep diff --incident ID | --run RUN_ID}: the offline diff's report from the
 * collector's stored evidence. Registered as {@code diff} only until the offline diff command
 * takes the two options over.
 */
@Command(
    name = "diff",
    mixinStandardHelpOptions = true,
    header = "Diff the golden documents stored for an incident/run.",
    description = {
      "Prints the same report as the offline `lockstep diff --golden-a A --golden-b B`, computed"
          + " by the collector from the documents it captured as evidence (or from inline hashes"
          + " when none were captured, which says so)."
    },
    exitCodeList = {"0:The replicas match.", "1:The replicas differ.", "2:Bad usage or unknown ID.", "3:The collector could not be reached or failed."},
    footer = {"  lockstep diff --incident 7f3a2c", "  lockstep diff --run billing-7f3a-cycle-0042 -o json"})
public final class OnlineDiffCommand extends OnlineCommand {

  /** The online target: exactly one of --incident / --run. */
  public static final class Target {
    @Option(names = "--incident", paramLabel = "ID", description = "Diff the documents stored for this incident.")
    String incidentId;

    @Option(names = "--run", paramLabel = "RUN_ID", description = "Diff the documents stored for this run.")
    String runId;

    DiffRequest request() {
      return incidentId != null
          ? DiffRequest.newBuilder().setIncidentId(incidentId).build()
          : DiffRequest.newBuilder().setRunId(runId).build();
    }
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Target target;

  @Option(names = {"-v", "--verbose"}, description = "Show every difference with both values.")
  boolean verbose;

  @Override
  int run(Session session) {
    return DiffSource.print(session, DiffSource.fetch(session, target.request()), verbose);
  }
}
