package dev.lockstep.cli.fleet;

import dev.lockstep.cli.completion.CompletionCommand;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Registers the online commands (those that talk to the collector) on the top {@code lockstep}
 * command. The top command calls {@link #addTo} once; offline commands are registered there.
 */
public final class FleetCommands {
  private FleetCommands() {}

  /** Every online command by name, in help order. */
  private static final Map<String, Supplier<Object>> COMMANDS = new LinkedHashMap<>();

  static {
    COMMANDS.put("status", StatusCommand::new);
    COMMANDS.put("agents", AgentsCommand::new);
    COMMANDS.put("incidents", IncidentsCommand::new);
    COMMANDS.put("incident", IncidentCommand::new);
    COMMANDS.put("runs", RunsCommand::new);
    COMMANDS.put("run", RunCommand::new);
    COMMANDS.put("diff", OnlineDiffCommand::new);
    COMMANDS.put("stop", StopCommand::new);
    COMMANDS.put("evidence", EvidenceCommand::new);
    COMMANDS.put("watch", WatchCommand::new);
    COMMANDS.put("check", CheckCommand::new);
    COMMANDS.put("audit", AuditCommand::new);
    COMMANDS.put("console", ConsoleCommand::new);
    COMMANDS.put("completion", CompletionCommand::new);
  }

  /** Adds every online command ({@code diff} only if the top command has none yet). */
  public static CommandLine addTo(CommandLine top) {
    for (String name : COMMANDS.keySet()) {
      add(top, name);
    }
    return top;
  }

  /**
   * Start-up-friendly variant: when {@code args} name one online command, adds only that one
   * (building picocli's model of every command costs more than a status call); otherwise
   * (help, version, completion, an offline or unknown command) adds them all.
   */
  public static CommandLine addTo(CommandLine top, String... args) {
    String wanted = commandName(args);
    if (wanted != null && top.getSubcommands().containsKey(wanted)) {
      return top; // an offline command (or the offline diff)
    }
    if (wanted == null || wanted.equals("completion") || !COMMANDS.containsKey(wanted)) {
      return addTo(top);
    }
    add(top, wanted);
    return top;
  }

  /**
   * Whether {@code args} name an online command that needs no offline command, so those need not
   * be built: not diff (shared name), completion (needs every command), evidence (runs summary).
   */
  public static boolean namesOnlineCommand(String... args) {
    String wanted = commandName(args);
    return wanted != null && COMMANDS.containsKey(wanted)
        && !List.of("diff", "completion", "evidence").contains(wanted);
  }

  private static void add(CommandLine top, String name) {
    if (top.getSubcommands().containsKey(name)) {
      return;
    }
    top.addSubcommand(name, COMMANDS.get(name).get());
    manPage(top.getSubcommands().get(name));
  }

  /** The first argument that is not an option of the top command, or null. */
  static String commandName(String... args) {
    for (String a : args) {
      if (a.equals("--")) {
        return null;
      }
      if (!a.startsWith("-")) {
        return a;
      }
    }
    return null;
  }

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
