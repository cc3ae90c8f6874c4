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
 * for some patterns) costs that rule that line, reported through {@link Overflow}: the other
 * rules still run and the tailer goes on.
 */
final class LineRules {
  /** Told when a pattern overflowed the stack on a line. */
  interface Overflow {
    void overflowed(String rule, int lineLength);
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
      Matcher m = runId.matcher(line);
      return m.find() && m.groupCount() >= 1 ? m.group(1) : null;
    } catch (StackOverflowError e) {
      overflow.overflowed("run_id_regex", line.length());
      return null;
    }
  }

  /** The first rule that matches the line, or null. */
  Match first(String line) {
    for (Rule r : rules) {
      Matcher m = r.pattern.matcher(line);
      boolean found;
      try {
        found = m.find();
      } catch (StackOverflowError e) {
        overflow.overflowed(r.config.name(), line.length());
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
