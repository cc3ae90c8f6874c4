package dev.lockstep.cli.offline;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.golden.Category;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.GoldenParseException;
import dev.lockstep.golden.RunSummary;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lockstep summary --dir DIR}: pair every golden file by run_id and report. */
@Command(
    name = "summary",
    mixinStandardHelpOptions = true,
    header = "Pair every golden file under a directory by run_id and report matches and mismatches.",
    description = {
      "Reads every *.json file under DIR (recursively), groups them by run_id and classifies each"
          + " run: match, mismatch (by category and workflow, with the first divergent step),"
          + " missing replica (a run with one file only). Unreadable files are listed, not fatal.",
      "With three or more replicas of a run, the majority hash is taken as good and the dissenting"
          + " replicas are blamed."
    },
    exitCodeListHeading = "%nEXIT STATUS%n",
    exitCodeList = {
      "0:Every run matches.",
      "1:Mismatches, missing replicas or unreadable files were found.",
      "2:Bad usage, or DIR cannot be read.",
      "70:Lockstep itself failed (a bug, or out of memory)."
    },
    footerHeading = "%nEXAMPLES%n",
    footer = {
      "  lockstep summary --dir /tmp/shadow_simulation/golden",
      "  lockstep summary --dir golden --out $INCIDENT_DIR/golden_summary.json"
    })
final class SummaryCommand implements Callable<Integer> {
  @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Directory tree of golden files.")
  Path dir;

  @Option(names = "--out", paramLabel = "FILE",
      description = "Also write the JSON report to FILE (stdout still gets the -o format).")
  Path output;

  @Option(names = {"-o", "--output", "--format"}, paramLabel = "FORMAT", defaultValue = "table",
      converter = Format.Converter.class,
      description = "table (default) or json.")
  Format format;

  @Mixin GoldenConfigOption goldenConfig;

  @Spec CommandSpec spec;

  record Unreadable(Path file, GoldenParseException error) {}

  @Override
  public Integer call() throws IOException {
    GoldenConfig config = goldenConfig.load();
    if (!Files.isDirectory(dir)) {
      throw new CommandError(OfflineCommands.BAD_INPUT, dir + ": not a directory");
    }
    List<Path> files = goldenFiles();
    Map<String, List<RunGroup.Replica>> byRun = new TreeMap<>();
    List<Unreadable> unreadable = new ArrayList<>();
    for (Path f : files) {
      try {
        RunSummary s = Golden.read(f, config).summary();
        byRun.computeIfAbsent(s.runId(), k -> new ArrayList<>()).add(new RunGroup.Replica(f, s));
      } catch (GoldenParseException e) {
        unreadable.add(new Unreadable(f, e));
      }
    }
    List<RunGroup> runs = new ArrayList<>();
    byRun.forEach((runId, replicas) -> runs.add(RunGroup.of(runId, replicas)));
    ObjectNode report = report(files.size(), runs, unreadable);

    PrintWriter out = spec.commandLine().getOut();
    if (output != null) {
      Files.writeString(output, Json.pretty(report) + "\n", StandardCharsets.UTF_8);
    }
    if (format == Format.JSON) {
      out.println(Json.pretty(report));
    } else {
      printTable(out, files.size(), runs, unreadable);
      if (output != null) {
        out.println("JSON report written to " + output);
      }
    }
    out.flush();
    boolean clean = unreadable.isEmpty() && runs.stream().allMatch(r -> r.verdict() == RunGroup.Verdict.MATCH);
    return clean ? OfflineCommands.OK : OfflineCommands.MISMATCH;
  }

  private List<Path> goldenFiles() throws IOException {
    Path outputAbs = output == null ? null : output.toAbsolutePath().normalize();
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile)
          .filter(p -> p.getFileName().toString().endsWith(".json"))
          .filter(p -> outputAbs == null || !p.toAbsolutePath().normalize().equals(outputAbs))
          .sorted()
          .toList();
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private ObjectNode report(int fileCount, List<RunGroup> runs, List<Unreadable> unreadable) {
    ObjectNode o = Json.object();
    o.put("dir", dir.toString());
    o.put("files", fileCount);
    o.put("runs", runs.size());
    o.put("matches", count(runs, RunGroup.Verdict.MATCH));
    o.put("mismatches", count(runs, RunGroup.Verdict.MISMATCH));
    o.put("missing_replicas", count(runs, RunGroup.Verdict.MISSING_REPLICA));
    o.put("unreadable", unreadable.size());
    ObjectNode byCategory = o.putObject("by_category");
    Map<String, Integer> cats = new TreeMap<>();
    Map<String, int[]> workflows = new TreeMap<>();
    for (RunGroup r : runs) {
      int[] w = workflows.computeIfAbsent(r.workflow(), k -> new int[4]);
      w[0]++;
      switch (r.verdict()) {
        case MATCH -> w[1]++;
        case MISMATCH -> w[2]++;
        case MISSING_REPLICA -> w[3]++;
      }
      if (r.verdict() != RunGroup.Verdict.MATCH) {
        cats.merge(r.classification().category().name(), 1, Integer::sum);
      }
    }
    cats.forEach(byCategory::put);
    ObjectNode byWorkflow = o.putObject("by_workflow");
    workflows.forEach((name, w) -> byWorkflow.putObject(name)
        .put("runs", w[0]).put("matches", w[1]).put("mismatches", w[2]).put("missing_replicas", w[3]));
    ArrayNode mismatching = o.putArray("mismatching_runs");
    ArrayNode missing = o.putArray("missing");
    for (RunGroup r : runs) {
      if (r.verdict() == RunGroup.Verdict.MISMATCH) {
        ObjectNode m = mismatching.addObject();
        m.put("run_id", r.runId());
        m.put("workflow", r.workflow());
        m.put("category", r.classification().category().name());
        m.set("first_divergent_step", Json.step(r.classification().firstDivergentStep()));
        m.put("explanation", r.classification().explanation());
        ArrayNode reps = m.putArray("replicas");
        for (RunGroup.Replica rep : r.replicas()) {
          reps.addObject().put("role", rep.summary().role()).put("file", rep.file().toString())
              .put("hash", rep.summary().canonicalHash());
        }
        ArrayNode blamed = m.putArray("dissenters");
        r.blamed().forEach(blamed::add);
      } else if (r.verdict() == RunGroup.Verdict.MISSING_REPLICA) {
        RunGroup.Replica only = r.replicas().get(0);
        missing.addObject().put("run_id", r.runId()).put("workflow", r.workflow())
            .put("present_role", only.summary().role()).put("missing_role", r.missingRole())
            .put("file", only.file().toString());
      }
    }
    ArrayNode bad = o.putArray("unreadable_files");
    for (Unreadable u : unreadable) {
      bad.addObject().put("file", u.file().toString()).put("code", u.error().code().name())
          .put("error", u.error().getMessage());
    }
    return o;
  }

  private static long count(List<RunGroup> runs, RunGroup.Verdict v) {
    return runs.stream().filter(r -> r.verdict() == v).count();
  }

  private void printTable(PrintWriter out, int fileCount, List<RunGroup> runs, List<Unreadable> unreadable) {
    long mismatches = count(runs, RunGroup.Verdict.MISMATCH);
    long missing = count(runs, RunGroup.Verdict.MISSING_REPLICA);
    out.printf("golden summary of %s: %d files, %d runs%n", dir, fileCount, runs.size());
    out.printf("  match       %d%n", count(runs, RunGroup.Verdict.MATCH));
    Map<Category, Integer> cats = new TreeMap<>();
    runs.stream().filter(r -> r.verdict() == RunGroup.Verdict.MISMATCH)
        .forEach(r -> cats.merge(r.classification().category(), 1, Integer::sum));
    StringBuilder catText = new StringBuilder();
    cats.forEach((c, n) -> catText.append(catText.length() == 0 ? "" : ", ").append(c).append(' ').append(n));
    out.printf("  mismatch    %d%s%n", mismatches, catText.length() == 0 ? "" : "   (" + catText + ")");
    out.printf("  missing     %d%n", missing);
    out.printf("  unreadable  %d%n", unreadable.size());

    Map<String, int[]> workflows = new TreeMap<>();
    int width = 8;
    for (RunGroup r : runs) {
      int[] w = workflows.computeIfAbsent(r.workflow(), k -> new int[4]);
      w[0]++;
      w[1 + r.verdict().ordinal()]++;
      width = Math.max(width, r.workflow().length());
    }
    if (!workflows.isEmpty()) {
      out.println();
      out.printf("  %-" + width + "s  %5s  %5s  %8s  %7s%n", "WORKFLOW", "RUNS", "MATCH", "MISMATCH", "MISSING");
      final int wf = width;
      workflows.forEach((name, w) -> out.printf("  %-" + wf + "s  %5d  %5d  %8d  %7d%n",
          name.isEmpty() ? "-" : name, w[0], w[1], w[2], w[3]));
    }
    if (mismatches > 0) {
      out.println();
      out.println("mismatching runs:");
      for (RunGroup r : runs) {
        if (r.verdict() == RunGroup.Verdict.MISMATCH) {
          var step = r.classification().firstDivergentStep();
          out.printf("  %s  %s  %s%n", r.runId(), r.classification().category(),
              step == null ? "" : "step " + step.index() + (step.name().isEmpty() ? "" : " '" + step.name() + "'"));
          out.printf("      why: %s%n", r.classification().explanation());
          if (!r.blamed().isEmpty()) {
            out.printf("      dissenting: %s%n", String.join(", ", r.blamed()));
          }
          out.printf("      files: %s%n", String.join(" ", r.files()));
        }
      }
    }
    if (missing > 0) {
      out.println();
      out.println("missing replicas:");
      for (RunGroup r : runs) {
        if (r.verdict() == RunGroup.Verdict.MISSING_REPLICA) {
          out.printf("  %s  %s%n", r.runId(), r.classification().explanation());
        }
      }
    }
    if (!unreadable.isEmpty()) {
      out.println();
      out.println("unreadable files:");
      for (Unreadable u : unreadable) {
        out.printf("  %s%n", u.error().getMessage());
      }
    }
  }
}
