package dev.lockstep.cli;

import dev.lockstep.cli.conformance.ConformanceCommand;
import dev.lockstep.cli.demo.DemoCommand;
import dev.lockstep.cli.fleet.FleetCommands;
import dev.lockstep.cli.offline.OfflineCommands;
import dev.lockstep.security.CertsInitCommand;
import dev.lockstep.security.CertsRenewCommand;
import dev.lockstep.security.CertsRevokeCommand;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code lockstep} command. Offline tools (package {@code offline}: diff, hash, summary, verify)
 * and fleet commands (package {@code fleet}) are registered in {@link #commandLine}; every failure
 * is one line on stderr ({@code --debug} adds the stack trace) and a documented exit code.
 */
@Command(
    name = "lockstep",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    header = "Operate a Lockstep shadow-validation fleet.",
    description = {
      "Offline tools work on golden files directly (no collector needed): diff, hash, summary,"
          + " verify. Fleet commands talk to the collector: status, incidents, stop, evidence, ...",
      "Run 'lockstep COMMAND --help' for a command's options, exit codes and examples."
    },
    exitCodeListHeading = "%nEXIT STATUS%n",
    exitCodeList = {
      "0:Success; replicas match.",
      "1:The command ran and found a problem: a mismatch, disagreeing runs, an unmet condition.",
      "2:Bad usage or bad input (unreadable or malformed golden file, unknown option).",
      "3:The collector could not be reached or answered with an error (fleet commands).",
      "70:Lockstep itself failed (a bug, or out of memory); one line on stderr, --debug for the stack trace."
    },
    footerHeading = "%nEXAMPLES%n",
    footer = {
      "  lockstep status                                 # the fleet at a glance",
      "  lockstep stop enable --reason \"P0 mismatch\"     # playbook step 1: STOP",
      "  lockstep stop status                            # step 2: VERIFY",
      "  lockstep evidence export ID --out DIR           # step 3: CAPTURE",
      "  lockstep diff --incident ID                     # steps 4-5: ANALYZE, DIFF",
      "  lockstep diff --golden-a A.json --golden-b B.json  # offline",
      "  lockstep stop disable --all --order ORD-… --reason \"fix verified\"   # step 8: RESUME",
      "  source <(lockstep completion bash)"
    })
public final class Main implements java.util.concurrent.Callable<Integer> {
  @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
      description = "Print stack traces with errors.")
  boolean debug;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    int code;
    try {
      code = run(args);
    } catch (Throwable e) { // run catches everything; this is the last line of defence
      code = internalError(new PrintWriter(System.err, true, StandardCharsets.UTF_8), e, false);
    }
    System.exit(code);
  }

  /** {@code --version}: the CLI's version and the golden format version it hashes with. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"lockstep " + VersionCommand.version() + " (golden format "
          + dev.lockstep.golden.GoldenFormat.VERSION + ")"};
    }
  }

  /** One line on stderr for a failure of lockstep itself (a bug, out of memory); the internal exit code. */
  private static int internalError(PrintWriter err, Throwable e, boolean debug) {
    try {
      err.println("lockstep: " + OfflineCommands.oneLine(e));
      if (debug) {
        e.printStackTrace(err);
      }
      err.flush();
    } catch (Throwable ignored) {
      // nothing left to report with; the exit code still says it
    }
    return dev.lockstep.cli.client.ExitCode.INTERNAL;
  }

  /** Runs {@code lockstep args...} against System.out/System.err; returns the exit code. */
  public static int run(String... args) {
    PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    try {
      return run(out, err, args);
    } finally {
      out.flush();
      err.flush();
    }
  }

  /** Runs {@code lockstep args...} with the given streams; returns the exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    try {
      Integer plain = OfflineCommands.runPlain(out, err, args);
      if (plain != null) {
        return plain;
      }
    } catch (Throwable e) { // an Error (OutOfMemoryError): as below
      return internalError(err, e, false);
    }
    CommandLine cl = commandLine(args);
    cl.setOut(out);
    cl.setErr(err);
    boolean debug = hasDebugFlag(args);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setParameterExceptionHandler((ex, a) -> {
      CommandLine c = ex.getCommandLine();
      c.getErr().println("lockstep: " + ex.getMessage());
      c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for usage.");
      c.getErr().flush();
      return 2;
    });
    cl.setExecutionExceptionHandler((ex, c, parseResult) -> {
      int code = OfflineCommands.exitCodeFor(ex);
      c.getErr().println("lockstep: " + OfflineCommands.oneLine(ex));
      if (debug) {
        ex.printStackTrace(c.getErr());
      }
      c.getErr().flush();
      return code;
    });
    try {
      return cl.execute(args);
    } catch (Throwable e) { // an Error (OutOfMemoryError, StackOverflowError) passes picocli's handler
      return internalError(err, e, debug);
    }
  }

  /**
   * The whole command tree. The offline {@code diff} (two files) and the fleet {@code diff}
   * (--incident/--run) share a name; the fleet one is chosen when those options are given.
   */
  static CommandLine commandLine(String... args) {
    CommandLine cl = new CommandLine(new Main());
    boolean offline = OfflineCommands.isOfflineCommand(args);
    if (offline || !FleetCommands.namesOnlineCommand(args)) {
      // An online run skips building the offline commands' models (start-up); an offline run
      // builds only the one it runs.
      OfflineCommands.addTo(cl, OfflineCommands.wantsFleetDiff(args), offline ? args : null);
    }
    if (!offline) {
      // An offline run skips loading the fleet commands (and the gRPC/proto classes behind them).
      cl.addSubcommand("conformance", new ConformanceCommand());
      FleetCommands.addTo(cl, args);
      cl.addSubcommand("demo", new DemoCommand());
      cl.addSubcommand("certs", new CommandLine(new CertsCommand()).addSubcommand("init", new CertsInitCommand())
          .addSubcommand("renew", new CertsRenewCommand()).addSubcommand("revoke", new CertsRevokeCommand()));
    }
    cl.addSubcommand("version", new VersionCommand());
    return cl;
  }

  private static boolean hasDebugFlag(String... args) {
    for (String a : args) {
      if (a.equals("--")) {
        return false;
      }
      if (a.equals("--debug")) {
        return true;
      }
    }
    return false;
  }

  /** {@code lockstep} without a command: the usage on stderr, exit 2. */
  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return 2;
  }
}
