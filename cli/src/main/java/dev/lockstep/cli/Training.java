package dev.lockstep.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The training run of cli/make-cds.sh: runs the lockstep commands listed in a file (one per line,
 * arguments separated by tabs) in this one JVM, output discarded, so that an AOT cache (JDK 25+,
 * JEP 483/514/515) or a class list for AppCDS (JDK 17) sees every command an operator runs, and
 * the offline tools' hot loops long enough to be profiled.
 */
public final class Training {
  private Training() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: Training COMMANDS.tsv");
      System.exit(2);
    }
    PrintWriter quiet = new PrintWriter(Writer.nullWriter());
    for (String line : Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        Main.run(quiet, quiet, line.split("\t"));
      }
    }
  }
}
