package dev.lockstep.cli;

import dev.lockstep.cli.fleet.FleetCommands;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code lockstep} command. (Minimal until the offline commands land.) */
@Command(
    name = "lockstep",
    mixinStandardHelpOptions = true,
    version = "lockstep 0.1.0",
    header = "Operate a Lockstep shadow-validation fleet.")
public final class Main implements Runnable {
  @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces with errors.")
  boolean debug;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  public static int run(String... args) {
    CommandLine cl = new CommandLine(new Main());
    FleetCommands.addTo(cl);
    return cl.execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
