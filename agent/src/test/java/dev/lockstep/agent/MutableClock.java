package dev.lockstep.agent;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock tests move by hand, with monotonic time of its own ({@link #nanoTime}, for
 * {@code Agent.start(config, clock, clock::nanoTime, progress)}): {@link #advance} moves both,
 * {@link #set} and {@link #jump} only the wall clock (the host's clock set). Thread-safe.
 */
public final class MutableClock extends Clock {
  private volatile Instant now;
  // far from 0, and from where System.nanoTime is: code that mixes the two sources shows
  private volatile long nanos = Long.MAX_VALUE / 2;

  public MutableClock(Instant start) {
    this.now = start;
  }

  public static MutableClock atSystemNow() {
    return new MutableClock(Instant.now());
  }

  /** Time passes: the wall clock and monotonic time move by {@code d}. */
  public synchronized void advance(Duration d) {
    now = now.plus(d);
    nanos += d.toNanos();
  }

  /** The wall clock is set to {@code t}; monotonic time does not move. */
  public void set(Instant t) {
    now = t;
  }

  /** The wall clock is set forward (or back, for a negative {@code d}); monotonic time does not move. */
  public synchronized void jump(Duration d) {
    now = now.plus(d);
  }

  /** Monotonic time in nanoseconds, as System.nanoTime. */
  public long nanoTime() {
    return nanos;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    return now;
  }
}
