package dev.lockstep.cli.offline;

import dev.lockstep.golden.DiffReport;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.GoldenDiff;
import dev.lockstep.golden.GoldenDocument;
import dev.lockstep.golden.GoldenParseException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lockstep diff --golden-a A --golden-b B}: compare two replicas of one run. */
@Command(
    name = "diff",
    mixinStandardHelpOptions = true,
    header = "Compare two golden files of the same run and name the root cause.",
    description = {
      "Reads both files under the golden limits and prints the verdict, the root-cause category"
          + " (SEED_MISMATCH, VOLATILE_LEAK, EXTERNAL_CALL, UNSEEDED_RNG, DETERMINISM_VIOLATION),"
          + " findings beside it (a VOLATILE_LEAK at a step that otherwise agrees), the first divergent"
          + " step (steps are paired by their index) and the differing paths with both values, real ones"
          + " first. Volatile differences are marked '~' and never make a mismatch by themselves.",
      "Arrays named in the golden config's diff.array_keys are paired by their key member, other"
          + " arrays by position; at most diff.max_differences (1000) differences are listed, all are"
          + " counted. See docs/golden-format.md.",
      "For documents stored by the collector use 'lockstep diff --incident ID | --run RUN_ID'."
    },
    exitCodeListHeading = "%nEXIT STATUS%n",
    exitCodeList = {
      "0:The replicas match.",
      "1:The replicas differ (mismatch).",
      "2:Bad usage or input: unreadable or malformed file, files of different runs.",
      "70:Lockstep itself failed (a bug, or out of memory: raise it with LOCKSTEP_JAVA_OPTS=-Xmx...)."
    },
    footerHeading = "%nEXAMPLES%n",
    footer = {
      "  lockstep diff --golden-a run42.primary.golden.json --golden-b run42.shadow.golden.json",
      "  lockstep diff --golden-a a.json --golden-b b.json --verbose -o json > diff_analysis.json"
    })
final class DiffCommand implements Callable<Integer> {
  @Option(names = "--golden-a", required = true, paramLabel = "A", description = "The first replica (e.g. primary).")
  Path goldenA;

  @Option(names = "--golden-b", required = true, paramLabel = "B", description = "The second replica (e.g. shadow).")
  Path goldenB;

  @Option(names = {"-v", "--verbose"}, description = "Show every difference with full values.")
  boolean verbose;

  @Option(names = {"-o", "--output", "--format"}, paramLabel = "FORMAT", defaultValue = "table",
      converter = Format.Converter.class,
      description = "table (default) or json.")
  Format format;

  @Mixin GoldenConfigOption goldenConfig;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws GoldenParseException {
    return diff(goldenA, goldenB, verbose, format, goldenConfig.load(), spec.commandLine().getOut());
  }

  /**
   * {@code lockstep diff --golden-a A --golden-b B [-v|--verbose]} with nothing else (in any order),
   * run without picocli like {@link HashCommand#runPlain}. Returns null, and picocli runs the
   * command, for anything else.
   */
  static Integer runPlain(PrintWriter out, String... args) throws GoldenParseException {
    if (args.length < 5 || args.length > 6 || !args[0].equals("diff")) {
      return null;
    }
    Path a = null;
    Path b = null;
    boolean verbose = false;
    for (int i = 1; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("-v") || arg.equals("--verbose")) {
        if (verbose) {
          return null;
        }
        verbose = true;
        continue;
      }
      boolean isA = arg.equals("--golden-a");
      if ((!isA && !arg.equals("--golden-b")) || i + 1 == args.length || (isA ? a : b) != null) {
        return null;
      }
      String value = args[++i];
      if (value.isEmpty() || value.charAt(0) == '-' || value.charAt(0) == '@') {
        return null;
      }
      try {
        if (isA) {
          a = Path.of(value);
        } else {
          b = Path.of(value);
        }
      } catch (java.nio.file.InvalidPathException e) {
        return null;
      }
    }
    if (a == null || b == null) {
      return null;
    }
    return diff(a, b, verbose, Format.TABLE, GoldenConfig.DEFAULT, out);
  }

  private static int diff(Path goldenA, Path goldenB, boolean verbose, Format format, GoldenConfig config,
      PrintWriter out) throws GoldenParseException {
    GoldenDocument[] docs = readBoth(goldenA, goldenB, config);
    GoldenDocument a = docs[0];
    GoldenDocument b = docs[1];
    DiffReport report = GoldenDiff.diff(a, b, config);
    if (format == Format.JSON) {
      out.println(report.toJson());
    } else {
      out.print(report.renderTable(verbose));
    }
    out.flush();
    return report.match() ? OfflineCommands.OK : OfflineCommands.MISMATCH;
  }

  /** Reads both files at once (one thread each); A's error is reported first when both fail. */
  static GoldenDocument[] readBoth(Path a, Path b, GoldenConfig config) throws GoldenParseException {
    ExecutorService pool = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "lockstep-read");
      t.setDaemon(true);
      return t;
    });
    try {
      Future<GoldenDocument> fa = pool.submit(() -> Golden.readForDiff(a, config));
      Future<GoldenDocument> fb = pool.submit(() -> Golden.readForDiff(b, config));
      return new GoldenDocument[] {get(fa), get(fb)};
    } finally {
      pool.shutdownNow();
    }
  }

  private static GoldenDocument get(Future<GoldenDocument> f) throws GoldenParseException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CommandError(OfflineCommands.BAD_INPUT, "interrupted while reading golden files");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof GoldenParseException g) {
        throw g;
      }
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err; // OutOfMemoryError while reading: an internal error, not bad input
      }
      throw new IllegalStateException(cause);
    }
  }
}
