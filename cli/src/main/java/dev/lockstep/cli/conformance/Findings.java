package dev.lockstep.cli.conformance;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * The verdict on every rule a conformance run checked, printed as it is reached: one line
 * {@code PASS|FAIL|SKIP  rule.id  what was seen}, then a summary. Invariant: a run with any FAIL
 * exits 1, otherwise 0; a SKIP (a rule this set-up cannot check) never passes for a PASS.
 */
final class Findings {
  enum Outcome { PASS, FAIL, SKIP }

  record Finding(Outcome outcome, String rule, String detail) {}

  private final PrintWriter out;
  private final List<Finding> all = new ArrayList<>();

  Findings(PrintWriter out) {
    this.out = out;
  }

  void pass(String rule, String detail) {
    add(Outcome.PASS, rule, detail);
  }

  void fail(String rule, String detail) {
    add(Outcome.FAIL, rule, detail);
  }

  void skip(String rule, String why) {
    add(Outcome.SKIP, rule, why);
  }

  /** PASS with {@code seen} when {@code ok}, FAIL with {@code wrong} otherwise; returns ok. */
  boolean check(boolean ok, String rule, String seen, String wrong) {
    add(ok ? Outcome.PASS : Outcome.FAIL, rule, ok ? seen : wrong);
    return ok;
  }

  /** A line that is not a verdict (what the run is doing, what it waits for). */
  void note(String line) {
    out.println("      " + line);
    out.flush();
  }

  private synchronized void add(Outcome o, String rule, String detail) {
    all.add(new Finding(o, rule, detail));
    out.printf("%-4s  %-38s %s%n", o, rule, detail);
    out.flush();
  }

  synchronized List<Finding> all() {
    return List.copyOf(all);
  }

  synchronized int count(Outcome o) {
    return (int) all.stream().filter(f -> f.outcome() == o).count();
  }

  /** Prints the summary line; returns the exit code (1 when any rule failed). */
  int finish(String what) {
    int failed = count(Outcome.FAIL);
    out.println();
    out.printf("%s: %d passed, %d failed, %d skipped%n", what, count(Outcome.PASS), failed,
        count(Outcome.SKIP));
    out.flush();
    return failed == 0 ? 0 : 1;
  }
}
