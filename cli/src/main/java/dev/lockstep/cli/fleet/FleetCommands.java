package dev.lockstep.cli.fleet;

import dev.lockstep.cli.completion.CompletionCommand;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

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
    for (String name : ONLINE) {
      CommandLine sub = top.getSubcommands().get(name);
      if (sub != null) {
        manPage(sub);
      }
    }
    return top;
  }

  private static final java.util.List<String> ONLINE = java.util.List.of(
      "status", "agents", "incidents", "incident", "runs", "run", "diff", "stop", "evidence",
      "watch", "check", "audit", "completion");

  /** NAME heading with the full command name; the default exit codes where a command has none. */
  private static void manPage(CommandLine cl) {
    CommandSpec spec = cl.getCommandSpec();
    spec.usageMessage().headerHeading("NAME%n  " + spec.qualifiedName() + " - ");
    boolean online = spec.userObject() instanceof OnlineCommand;
    if (online && spec.usageMessage().exitCodeList().isEmpty()) {
      Map<String, String> codes = new LinkedHashMap<>();
      for (String line : new String[] {ManPage.EXIT_OK, ManPage.EXIT_USAGE, ManPage.EXIT_COLLECTOR}) {
        int colon = line.indexOf(':');
        codes.put(line.substring(0, colon), line.substring(colon + 1));
      }
      spec.usageMessage().exitCodeListHeading(ManPage.EXIT_STATUS).exitCodeList(codes);
    }
    for (CommandLine sub : cl.getSubcommands().values()) {
      manPage(sub);
    }
  }
}
