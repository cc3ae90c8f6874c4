package dev.lockstep.agent.logs;

import java.util.ArrayDeque;
import java.util.List;

/**
 * What a watched log says about its process: cycles started ("Running cycle"), clean cycles
 * ("0 mismatches"), the last lines, and the last error/mismatch lines. Thread-safe.
 */
public final class LogStats {
  private static final int RECENT = 50;
  private static final int ERRORS = 5;
  private long cycles;
  private long cleanCycles;
  private final ArrayDeque<String> recent = new ArrayDeque<>();
  private final ArrayDeque<String> errors = new ArrayDeque<>();
  private long errorLinesTotal;
  private long cleanStreak;

  synchronized void restore(long cycles, long cleanCycles) {
    this.cycles = cycles;
    this.cleanCycles = cleanCycles;
  }

  synchronized void add(long cycles, long clean, List<String> lines, List<String> errorLines) {
    this.cycles += cycles;
    this.cleanCycles += clean;
    // conservative: the clean cycles read in the same poll as an error or mismatch line may be
    // older than it, so they do not count
    cleanStreak = errorLines.isEmpty() ? cleanStreak + clean : 0;
    for (String l : lines) {
      recent.addLast(l);
      if (recent.size() > RECENT) {
        recent.removeFirst();
      }
    }
    for (String l : errorLines) {
      errorLinesTotal++;
      errors.addLast(l);
      if (errors.size() > ERRORS) {
        errors.removeFirst();
      }
    }
  }

  public synchronized long cycles() {
    return cycles;
  }

  public synchronized long cleanCycles() {
    return cleanCycles;
  }

  /**
   * Clean cycles ("0 mismatches") read since the last error or mismatch line (0 after one):
   * what the playbook's {@code grep "0 mismatches" | tail -5} checks before a restart.
   */
  public synchronized long cleanStreak() {
    return cleanStreak;
  }

  public synchronized List<String> recentLines() {
    return List.copyOf(recent);
  }

  /** Error/mismatch lines among the recent lines (the crash evidence), newest last. */
  public synchronized List<String> recentErrors() {
    return recent.stream().filter(errors::contains).toList();
  }

  public synchronized List<String> lastErrors() {
    return List.copyOf(errors);
  }
}
