package dev.lockstep.cli.offline;

import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.golden.GoldenParseException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/**
 * Registers the offline commands (they read golden files directly, no collector) on the top
 * {@code lockstep} command, and maps their failures to exit codes and one-line messages.
 */
public final class OfflineCommands {
  private OfflineCommands() {}

  /** Exit codes of the offline commands. */
  static final int OK = 0;
  static final int MISMATCH = 1;
  static final int BAD_INPUT = 2;
  static final int INTERNAL = ExitCode.INTERNAL;

  /**
   * Adds diff, hash, summary and verify. {@code fleetDiff}: leave {@code diff} to the fleet command
   * (the user asked for --incident/--run).
   */
  public static CommandLine addTo(CommandLine top, boolean fleetDiff) {
    return addTo(top, fleetDiff, null);
  }

  /**
   * Like {@link #addTo(CommandLine, boolean)}, but when {@code args} name an offline command, only
   * that one: picocli builds each command's model by reflection, which start-up pays for.
   */
  public static CommandLine addTo(CommandLine top, boolean fleetDiff, String[] args) {
    String only = args == null ? null : commandName(args);
    if (!fleetDiff && (only == null || only.equals("diff"))) {
      top.addSubcommand(new DiffCommand());
    }
    if (only == null || only.equals("hash")) {
      top.addSubcommand(new HashCommand());
    }
    if (only == null || only.equals("summary")) {
      top.addSubcommand(new SummaryCommand());
    }
    if (only == null || only.equals("verify")) {
      top.addSubcommand(new VerifyCommand());
    }
    return top;
  }

  /**
   * Runs {@code args} at once when they are {@code hash FILE...} or {@code diff --golden-a A
   * --golden-b B [-v]} and nothing else (no picocli model to build, see
   * {@link HashCommand#runPlain}); a failure escaping it is reported as picocli's handler would.
   * Returns the exit code, or null when picocli must run the command.
   */
  public static Integer runPlain(PrintWriter out, PrintWriter err, String... args) {
    try {
      Integer code = HashCommand.runPlain(out, err, args);
      return code != null ? code : DiffCommand.runPlain(out, args);
    } catch (Exception e) {
      err.println("lockstep: " + oneLine(e));
      err.flush();
      return exitCodeFor(e);
    }
  }

  /** The first argument that is not an option, when it names an offline command; else null. */
  private static String commandName(String... args) {
    for (String a : args) {
      if (a.equals("--")) {
        return null;
      }
      if (!a.startsWith("-")) {
        return NAMES.contains(a) ? a : null;
      }
    }
    return null;
  }

  /** Whether {@code args} ask for the fleet diff ({@code diff --incident ID | --run RUN_ID}). */
  public static boolean wantsFleetDiff(String... args) {
    boolean diff = false;
    for (String a : args) {
      if (a.equals("--")) {
        break;
      }
      if (!diff && a.equals("diff")) {
        diff = true;
      } else if (diff && (a.equals("--incident") || a.startsWith("--incident=")
          || a.equals("--run") || a.startsWith("--run="))) {
        return true;
      }
    }
    return false;
  }

  private static final java.util.Set<String> NAMES = java.util.Set.of("diff", "hash", "summary", "verify");

  /**
   * Whether {@code args} run an offline command: the first argument that is not an option names
   * one (and a diff is not the fleet diff).
   */
  public static boolean isOfflineCommand(String... args) {
    for (String a : args) {
      if (a.equals("--")) {
        return false;
      }
      if (a.startsWith("-")) {
        continue;
      }
      return NAMES.contains(a) && !(a.equals("diff") && wantsFleetDiff(args));
    }
    return false;
  }

  /**
   * Exit code for an exception escaping a command: bad input (a refused golden file, a refused
   * argument, an I/O failure) is 2; anything else is lockstep's own failure, a bug or
   * {@link OutOfMemoryError}, and gets {@link ExitCode#INTERNAL}, never a code a script could
   * read as "mismatch".
   */
  public static int exitCodeFor(Throwable e) {
    if (e instanceof CommandError ce) {
      return ce.exitCode();
    }
    if (isBadInput(e)) {
      return BAD_INPUT;
    }
    return INTERNAL;
  }

  private static boolean isBadInput(Throwable e) {
    return e instanceof GoldenParseException || e instanceof IllegalArgumentException
        || e instanceof UncheckedIOException || e instanceof IOException
        || e instanceof CommandLine.ParameterException;
  }

  /** The one line an operator reads for an exception escaping a command. */
  public static String oneLine(Throwable e) {
    if (e instanceof GoldenParseException
        || e instanceof CommandError
        || e instanceof IllegalArgumentException) {
      return e.getMessage();
    }
    if (e instanceof UncheckedIOException || e instanceof IOException) {
      return "I/O error: " + e.getMessage();
    }
    if (e instanceof OutOfMemoryError) {
      return "internal error: out of memory (" + e.getMessage() + "); give the JVM more heap, e.g."
          + " LOCKSTEP_JAVA_OPTS=-Xmx4g";
    }
    return "internal error: " + e + " (a bug in lockstep; run with --debug for the stack trace)";
  }
}
