package dev.lockstep.cli.offline;

import dev.lockstep.golden.Classifier;
import dev.lockstep.golden.DiffReport;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.GoldenDiff;
import dev.lockstep.golden.GoldenDocument;
import dev.lockstep.golden.GoldenParseException;
import dev.lockstep.golden.Majority;
import dev.lockstep.golden.RunSummary;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lockstep verify --runs N --golden PATH -- CMD ARGS...}: is a workflow deterministic now? */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    header = "Run a workflow command N times and check that every run writes the same golden file.",
    description = {
      "Runs CMD ARGS... N times, one after the other, with LOCKSTEP_RUN_INDEX=0..N-1 in its"
          + " environment. Before each run the file at PATH is removed; after it, the golden file"
          + " the run left at PATH is read and compared with run 0 (volatile fields masked).",
      "On disagreement it prints which runs differ, the majority hash, and the diff of the first"
          + " divergent pair. The command's own output goes to stderr."
    },
    exitCodeListHeading = "%nEXIT STATUS%n",
    exitCodeList = {
      "0:All N runs agree.",
      "1:The runs disagree (the diff of the first divergent pair is printed).",
      "2:Bad usage, or a run failed: the command could not start, exited non-zero, timed out,"
          + " or left no (or a malformed) golden file at PATH.",
      "70:Lockstep itself failed (a bug, or out of memory)."
    },
    footerHeading = "%nEXAMPLES%n",
    footer = {
      "  lockstep verify --runs 10 --golden out/billing.golden.json -- ./run-workflow billing.reconcile"
    })
final class VerifyCommand implements Callable<Integer> {
  @Option(names = "--runs", defaultValue = "10", paramLabel = "N", description = "How many runs (default 10, at least 2).")
  int runs;

  @Option(names = "--golden", required = true, paramLabel = "PATH", description = "Where each run writes its golden file.")
  Path golden;

  @Option(names = "--timeout-seconds", defaultValue = "600", paramLabel = "SECONDS",
      description = "Give up on a run after this long (default 600).")
  long timeoutSeconds;

  @Option(names = {"-v", "--verbose"}, description = "Show every difference of the divergent pair.")
  boolean verbose;

  @Parameters(arity = "1..*", paramLabel = "CMD", description = "The workflow command and its arguments (after --).")
  List<String> command;

  @Mixin GoldenConfigOption goldenConfig;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException, GoldenParseException {
    if (runs < 2) {
      throw new CommandError(OfflineCommands.BAD_INPUT, "--runs must be at least 2, got " + runs);
    }
    if (timeoutSeconds < 1) {
      throw new CommandError(OfflineCommands.BAD_INPUT, "--timeout-seconds must be positive, got " + timeoutSeconds);
    }
    GoldenConfig config = goldenConfig.load();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path keep = Files.createTempDirectory("lockstep-verify-");
    boolean keepCopies = false;
    try {
      GoldenDocument first = null;
      GoldenDocument firstDivergent = null;
      int firstDivergentRun = -1;
      Map<Integer, RunSummary> summaries = new TreeMap<>();
      List<Integer> differing = new ArrayList<>();
      for (int i = 0; i < runs; i++) {
        runOnce(i, keep, err);
        Path copy = keep.resolve("run-" + i + ".golden.json");
        Files.copy(golden, copy, StandardCopyOption.REPLACE_EXISTING);
        GoldenDocument doc = Golden.read(copy, config);
        summaries.put(i, doc.summary());
        String verdict;
        if (first == null) {
          first = doc;
          verdict = "";
        } else if (!doc.summary().runId().equals(first.summary().runId())) {
          throw new CommandError(OfflineCommands.BAD_INPUT, "run " + i + " wrote run_id \""
              + doc.summary().runId() + "\" but run 0 wrote \"" + first.summary().runId()
              + "\": verify needs the same run each time");
        } else if (Classifier.classify(first.summary(), doc.summary()).match()) {
          verdict = "  agrees with run 0";
        } else {
          verdict = "  DIFFERS from run 0";
          differing.add(i);
          if (firstDivergent == null) {
            firstDivergent = doc;
            firstDivergentRun = i;
          }
        }
        out.printf("run %d: %s%s%n", i, doc.summary().canonicalHash(), verdict);
        out.flush();
      }
      if (firstDivergent == null) {
        out.printf("all %d runs agree (run %s, hash %s)%n", runs, first.summary().runId(),
            first.summary().canonicalHash());
        return OfflineCommands.OK;
      }
      keepCopies = true;
      out.printf("runs disagree: %d of %d runs differ from run 0 (runs %s)%n", differing.size(), runs,
          String.join(", ", differing.stream().map(String::valueOf).toList()));
      Majority.Vote<Integer> vote = Majority.vote(summaries);
      if (vote.goodHash() != null) {
        out.printf("majority: %s (%d of %d runs); dissenting runs: %s%n", vote.goodHash(),
            runs - vote.dissenters().size(), runs,
            String.join(", ", vote.dissenters().stream().map(String::valueOf).toList()));
      } else {
        out.println("majority: none (no hash is shared by more than half of the runs)");
      }
      out.printf("golden files kept in %s%n%n", keep);
      out.printf("first divergent pair: run 0 vs run %d%n", firstDivergentRun);
      DiffReport report = GoldenDiff.diff(first, firstDivergent, config);
      out.print(report.renderTable(verbose));
      out.flush();
      return OfflineCommands.MISMATCH;
    } finally {
      if (!keepCopies) {
        deleteTree(keep);
      }
    }
  }

  private void runOnce(int index, Path logDir, PrintWriter err) throws IOException {
    Files.deleteIfExists(golden);
    Path log = logDir.resolve("run-" + index + ".log");
    ProcessBuilder pb = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("LOCKSTEP_RUN_INDEX", Integer.toString(index));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new CommandError(OfflineCommands.BAD_INPUT, "cannot run '" + String.join(" ", command) + "': " + e.getMessage());
    }
    try {
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new CommandError(OfflineCommands.BAD_INPUT, "run " + index + ": command did not finish within "
            + timeoutSeconds + " s");
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new CommandError(OfflineCommands.BAD_INPUT, "interrupted during run " + index);
    }
    String output = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
    if (!output.isEmpty()) {
      err.print(output.endsWith("\n") ? output : output + "\n");
      err.flush();
    }
    if (p.exitValue() != 0) {
      throw new CommandError(OfflineCommands.BAD_INPUT, "run " + index + ": command exited with status "
          + p.exitValue());
    }
    if (!Files.isRegularFile(golden)) {
      throw new CommandError(OfflineCommands.BAD_INPUT, "run " + index + ": the command left no golden file at "
          + golden);
    }
  }

  private static void deleteTree(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          // best effort: a temp directory
        }
      });
    } catch (IOException e) {
      // best effort
    }
  }
}
