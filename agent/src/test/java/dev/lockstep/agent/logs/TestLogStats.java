package dev.lockstep.agent.logs;

import java.util.List;

/** LogStats as a tailer would have filled them (for tests outside this package). */
public final class TestLogStats {
  private TestLogStats() {}

  /** {@code cycles} "Running cycle" lines, then {@code clean} "0 mismatches" lines, after {@code errors}. */
  public static LogStats of(long cycles, List<String> errors, long clean) {
    LogStats s = new LogStats();
    if (!errors.isEmpty()) s.add(0, 0, errors, errors);
    s.add(cycles, 0, List.of("Running cycle " + cycles), List.of());
    s.add(0, clean, List.of("cycle " + cycles + ": 0 mismatches"), List.of());
    return s;
  }

  public static void add(LogStats s, long cycles, long clean, List<String> lines, List<String> errors) {
    s.add(cycles, clean, lines, errors);
  }
}
