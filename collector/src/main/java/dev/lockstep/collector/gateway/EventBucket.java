package dev.lockstep.collector.gateway;

import java.time.Clock;

/**
 * A token bucket bounding one agent's event rate (kept per agent id across its reconnects, so a
 * reconnect does not refill it): {@code perSecond} tokens refill each second up to {@code burst};
 * a batch takes one token per event or is refused whole (and then neither stored nor acked, so the
 * agent resends it later). Also bounds an agent's Hellos, one token each ({@link StreamSlots}).
 * Thread-safe (an old and a replacing stream may overlap).
 */
final class EventBucket {
  private final double perSecond;
  private final double burst;
  private final Clock clock;
  private double tokens;
  private long refilledAtNanos;

  EventBucket(int perSecond, int burst, Clock clock) {
    this.perSecond = perSecond;
    this.burst = Math.max(burst, perSecond);
    this.clock = clock;
    this.tokens = this.burst;
    this.refilledAtNanos = nanos();
  }

  /** Takes {@code events} tokens if there are that many; false (nothing taken) otherwise. */
  synchronized boolean take(int events) {
    long now = nanos();
    tokens = Math.min(burst, tokens + (now - refilledAtNanos) / 1e9 * perSecond);
    refilledAtNanos = now;
    if (tokens < events) {
      return false;
    }
    tokens -= events;
    return true;
  }

  /** Whether it holds {@code burst} tokens now: a new bucket would be the same. */
  synchronized boolean full() {
    return tokens + (nanos() - refilledAtNanos) / 1e9 * perSecond >= burst;
  }

  int perSecond() {
    return (int) perSecond;
  }

  private long nanos() {
    java.time.Instant i = clock.instant();
    return i.getEpochSecond() * 1_000_000_000L + i.getNano();
  }
}
