package dev.lockstep.cli.offline;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.GoldenParseException;
import dev.lockstep.golden.RunSummary;
import dev.lockstep.golden.StepSummary;
import java.io.BufferedWriter;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lockstep hash FILE...}: identity and canonical hashes of golden files. */
@Command(
    name = "hash",
    mixinStandardHelpOptions = true,
    header = "Print run id, role, seed and the canonical run and step hashes of golden files.",
    description = {
      "Hashes are SHA-256 of the canonical form of the masked document (volatile fields, role and"
          + " the engine's own hash fields left out): RFC 8785 with integers kept exact, the same"
          + " hashes agents report (docs/golden-format.md, format version " + dev.lockstep.golden.GoldenFormat.VERSION + ")."
    },
    exitCodeListHeading = "%nEXIT STATUS%n",
    exitCodeList = {
      "0:Every file was hashed.",
      "2:Bad usage, or at least one file is unreadable or malformed (one line each on stderr).",
      "70:Lockstep itself failed (a bug, or out of memory)."
    },
    footerHeading = "%nEXAMPLES%n",
    footer = {"  lockstep hash golden/*.golden.json", "  lockstep hash run42.primary.golden.json -o json"})
final class HashCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "FILE", description = "Golden files.")
  List<Path> files;

  @Option(names = {"-o", "--output", "--format"}, paramLabel = "FORMAT", defaultValue = "table",
      converter = Format.Converter.class,
      description = "table (default) or json (an array, one object per file).")
  Format format;

  @Mixin GoldenConfigOption goldenConfig;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    return hash(files, format, goldenConfig.load(), spec.commandLine().getOut(), spec.commandLine().getErr());
  }

  /**
   * {@code lockstep hash FILE...} with nothing else, run without picocli: building the command
   * model (reflection, annotation proxies) costs more start-up than hashing a small file. Returns
   * null, and the command goes through picocli as usual, for anything else: an option, a
   * {@code @file}, {@code --}, a name that is not a valid path.
   */
  static Integer runPlain(PrintWriter out, PrintWriter err, String... args) {
    if (args.length < 2 || !args[0].equals("hash")) {
      return null;
    }
    List<Path> files = new java.util.ArrayList<>(args.length - 1);
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (a.isEmpty() || a.charAt(0) == '-' || a.charAt(0) == '@') {
        return null;
      }
      try {
        files.add(Path.of(a));
      } catch (java.nio.file.InvalidPathException e) {
        return null; // picocli says what is wrong with it
      }
    }
    return hash(files, Format.TABLE, GoldenConfig.DEFAULT, out, err);
  }

  private static int hash(List<Path> files, Format format, GoldenConfig config, PrintWriter out, PrintWriter err) {
    // out flushes on every line: a table of a hundred thousand steps goes out 64 KiB at a time
    PrintWriter table = new PrintWriter(new BufferedWriter(out, 1 << 16));
    ArrayNode json = format == Format.JSON ? Json.MAPPER.createArrayNode() : null;
    int failed = 0;
    boolean first = true;
    for (Path file : files) {
      RunSummary s;
      try {
        s = Golden.read(file, config).summary();
      } catch (GoldenParseException e) {
        err.println("lockstep: " + e.getMessage());
        err.flush();
        failed++;
        continue;
      }
      if (format == Format.JSON) {
        json.add(Json.summary(file.toString(), s));
      } else {
        if (!first) {
          table.println();
        }
        first = false;
        printTable(table, file, s);
        table.flush();
      }
    }
    if (format == Format.JSON) {
      out.println(Json.pretty(json));
    }
    out.flush();
    return failed == 0 ? OfflineCommands.OK : OfflineCommands.BAD_INPUT;
  }

  private static void printTable(PrintWriter out, Path file, RunSummary s) {
    out.println(file);
    out.println("  run_id    " + s.runId());
    out.println("  workflow  " + s.workflow());
    out.println("  role      " + (s.role().isEmpty() ? "-" : s.role()));
    out.println("  seed      " + (s.seed() == null ? "-" : s.seedText()));
    out.println("  hash      " + s.canonicalHash());
    out.println("  engine    " + (s.engineHash().isEmpty() ? "-" : s.engineHash()));
    out.println("  output    " + (s.outputHash().isEmpty() ? "-" : s.outputHash()));
    if (s.steps().isEmpty()) {
      return;
    }
    int nameWidth = 4;
    for (StepSummary st : s.steps()) {
      nameWidth = Math.max(nameWidth, st.name().length());
    }
    out.println("  steps");
    StringBuilder line = new StringBuilder(200);
    for (StepSummary st : s.steps()) { // no printf here: a file may have a hundred thousand steps
      line.setLength(0);
      line.append("    ");
      pad(line, Integer.toString(st.index()), 4, true);
      line.append("  ");
      pad(line, st.name(), nameWidth, false);
      line.append("  ");
      pad(line, st.kind().isEmpty() ? "-" : st.kind(), 8, false);
      line.append("  ").append(st.canonicalHash());
      if (!st.engineHash().isEmpty()) {
        line.append("  engine ").append(st.engineHash());
      }
      out.println(line);
    }
  }

  private static void pad(StringBuilder sb, String s, int width, boolean right) {
    if (right) {
      sb.append(" ".repeat(Math.max(0, width - s.length()))).append(s);
    } else {
      sb.append(s).append(" ".repeat(Math.max(0, width - s.length())));
    }
  }
}
