package dev.lockstep.security;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An {@link AuditSink} in front of another that passes at most {@code maxRefusals} REFUSED entries
 * per {@code window} and drops the rest, so a flood of bad handshakes or forged calls cannot fill
 * the audit store. Actions that ran (SUCCEEDED, FAILED) always pass. When a window with drops
 * ends, the next entry is preceded by one summary entry ({@code action=AuditDropped}) saying how
 * many were dropped; {@link #dropped()} counts them all for a metric. Thread-safe.
 */
public final class RefusalRateLimit implements AuditSink {
  private final AuditSink delegate;
  private final int maxRefusals;
  private final Duration window;
  private final Clock clock;
  private final AtomicLong dropped = new AtomicLong();
  private Instant windowStart = Instant.MIN;
  private int passedInWindow;
  private long droppedInWindow;

  public RefusalRateLimit(AuditSink delegate, int maxRefusals, Duration window, Clock clock) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    if (maxRefusals < 1) {
      throw new IllegalArgumentException("maxRefusals must be at least 1, got " + maxRefusals);
    }
    this.maxRefusals = maxRefusals;
    this.window = Objects.requireNonNull(window, "window");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Refusals dropped since start. */
  public long dropped() {
    return dropped.get();
  }

  @Override
  public void record(AuditEntry entry) {
    AuditEntry summary = null;
    boolean pass;
    synchronized (this) {
      Instant now = clock.instant();
      if (windowStart.equals(Instant.MIN) || !now.isBefore(windowStart.plus(window))) {
        if (droppedInWindow > 0) {
          summary = new AuditEntry(now, "lockstep", "none", "AuditDropped", "", "local",
              AuditEntry.Outcome.REFUSED, droppedInWindow + " refused attempts not recorded"
              + " (more than " + maxRefusals + " per " + window + ") since " + windowStart);
        }
        windowStart = now;
        passedInWindow = 0;
        droppedInWindow = 0;
      }
      pass = entry.outcome() != AuditEntry.Outcome.REFUSED || passedInWindow < maxRefusals;
      if (pass) {
        if (entry.outcome() == AuditEntry.Outcome.REFUSED) {
          passedInWindow++;
        }
      } else {
        droppedInWindow++;
        dropped.incrementAndGet();
      }
    }
    if (summary != null) {
      delegate.record(summary);
    }
    if (pass) {
      delegate.record(entry);
    }
  }
}
