package dev.lockstep.agent.logs;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.proto.lite.v1.LogMatch;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A watched log's rules, tried in order on each line (first match wins), and its run-id pattern.
 * A user's regex that overflows the stack on a long line (java.util.regex recurses per character
 * for some patterns), or that backtracks more than {@link #STEPS_PER_CHAR} character reads per
 * character of the line (catastrophic backtracking on a line a workload wrote; even the default
 * {@code ([1-9][0-9]*) mismatches} is quadratic on a run of digits: 10 s for 60,000 of them),
 * costs that rule that line, reported through {@link Overflow}: the other rules still run and the
 * tailer goes on.
 */
final class LineRules {
  /** Told when a pattern overflowed the stack on a line, or ran out of steps ({@code what} says which). */
  interface Overflow {
    void overflowed(String rule, int lineLength, String what);
  }

  /** Character reads a pattern may make per character of a line (plus {@link #STEPS_MIN}). */
  static final long STEPS_PER_CHAR = 100;
  static final long STEPS_MIN = 10_000;
  private static final String STACK = "overflowed the stack";
  private static final String STEPS = "backtracked past its budget of " + STEPS_PER_CHAR + " steps per character";

  /** Thrown by a {@link Budgeted} line read once too often. */
  private static final class OutOfSteps extends RuntimeException {
    OutOfSteps() {
      super(null, null, false, false);
    }
  }

  /**
   * A line that counts its character reads: java.util.regex reads its input only through
   * {@code charAt}, so a pattern that backtracks without end runs out of steps instead of holding
   * the tailer's thread (golden files, logs, probes) for seconds or hours.
   */
  private static final class Budgeted implements CharSequence {
    private final String line;
    private long left;

    Budgeted(String line) {
      this.line = line;
      this.left = STEPS_MIN + STEPS_PER_CHAR * line.length();
    }

    @Override
    public char charAt(int index) {
      if (--left < 0) {
        throw new OutOfSteps();
      }
      return line.charAt(index);
    }

    @Override
    public int length() {
      return line.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return line.substring(start, end);
    }

    @Override
    public String toString() {
      return line;
    }
  }

  /** A line that matched: the rule, its kind, the regex groups and the count when the rule has one. */
  record Match(AgentConfig.LogRule rule, LogMatch.Kind kind, List<String> captures, long count) {}

  private record Rule(AgentConfig.LogRule config, Pattern pattern, LogMatch.Kind kind) {}

  private final List<Rule> rules = new ArrayList<>();
  private final Pattern runId;
  private final Overflow overflow;

  LineRules(AgentConfig.LogWatch config, Overflow overflow) {
    for (AgentConfig.LogRule r : config.rules()) {
      rules.add(new Rule(r, Pattern.compile(r.regex()), LogMatch.Kind.valueOf(r.kind().name())));
    }
    this.runId = Pattern.compile(config.runIdRegex());
    this.overflow = overflow;
  }

  /** The run id the line names, or null. */
  String runId(String line) {
    try {
      Matcher m = runId.matcher(new Budgeted(line));
      return m.find() && m.groupCount() >= 1 ? m.group(1) : null;
    } catch (StackOverflowError e) {
      overflow.overflowed("run_id_regex", line.length(), STACK);
      return null;
    } catch (OutOfSteps e) {
      overflow.overflowed("run_id_regex", line.length(), STEPS);
      return null;
    }
  }

  /** The first rule that matches the line, or null. */
  Match first(String line) {
    for (Rule r : rules) {
      Matcher m = r.pattern.matcher(new Budgeted(line));
      boolean found;
      try {
        found = m.find();
      } catch (StackOverflowError e) {
        overflow.overflowed(r.config.name(), line.length(), STACK);
        continue;
      } catch (OutOfSteps e) {
        overflow.overflowed(r.config.name(), line.length(), STEPS);
        continue;
      }
      if (!found) {
        continue;
      }
      List<String> captures = new ArrayList<>(m.groupCount());
      for (int g = 1; g <= m.groupCount(); g++) {
        captures.add(m.group(g) == null ? "" : m.group(g));
      }
      long count = -1;
      if (r.config.countGroup() > 0 && m.group(r.config.countGroup()) != null) {
        try {
          count = Long.parseLong(m.group(r.config.countGroup()));
        } catch (NumberFormatException e) {
          // not a number: no count
        }
      }
      return new Match(r.config, r.kind, captures, count);
    }
    return null;
  }
}
