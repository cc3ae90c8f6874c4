package dev.lockstep.cli.offline;

import dev.lockstep.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs {@code lockstep ...} in-process through {@link Main#run} and captures stdout/stderr. */
final class Lockstep {
  record Result(int exitCode, String out, String err) {}

  private Lockstep() {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Result(code, out.toString(), err.toString());
  }
}
