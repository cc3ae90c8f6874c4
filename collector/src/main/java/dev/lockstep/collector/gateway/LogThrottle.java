package dev.lockstep.collector.gateway;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Lets one log line of a kind through per interval and counts the ones it held back, so that the
 * next line can say how many there were: a flood of refused streams (a hostile client opening
 * them in a loop) would otherwise write one line each. Metrics still count every one. Thread-safe.
 */
final class LogThrottle {
  private final Clock clock;
  private final Duration every;
  private Instant next = Instant.MIN;
  private long held;

  LogThrottle(Clock clock, Duration every) {
    this.clock = clock;
    this.every = every;
  }

  /**
   * -1 when this line is to be held back (counted); else the lines held back since the last one
   * let through (0 when none), and the interval starts again.
   */
  synchronized long pass() {
    Instant now = clock.instant();
    if (now.isBefore(next)) {
      held++;
      return -1;
    }
    next = now.plus(every);
    long h = held;
    held = 0;
    return h;
  }
}
