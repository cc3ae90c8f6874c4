package dev.lockstep.cli.fleet;

import dev.lockstep.cli.completion.CompletionCommand;
import picocli.CommandLine;

/**
 * Registers the online commands (those that talk to the collector) on the top {@code lockstep}
 * command. The top command calls {@link #addTo} once; offline commands are registered there.
 */
public final class FleetCommands {
  private FleetCommands() {}

  public static CommandLine addTo(CommandLine top) {
    top.addSubcommand(new StatusCommand());
    top.addSubcommand(new AgentsCommand());
    top.addSubcommand(new IncidentsCommand());
    top.addSubcommand(new IncidentCommand());
    top.addSubcommand(new RunsCommand());
    top.addSubcommand(new RunCommand());
    if (!top.getSubcommands().containsKey("diff")) {
      top.addSubcommand(new OnlineDiffCommand());
    }
    top.addSubcommand(new StopCommand());
    top.addSubcommand(new EvidenceCommand());
    top.addSubcommand(new WatchCommand());
    top.addSubcommand(new CheckCommand());
    top.addSubcommand(new AuditCommand());
    top.addSubcommand(new CompletionCommand());
    return top;
  }
}
