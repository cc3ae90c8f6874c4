package dev.lockstep.collector.gateway;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Token buckets by agent id (Hellos, events, event bytes), kept across an agent's streams. An id
 * whose bucket is full again is forgotten: a full bucket is what a new one would be, so nothing
 * is lost, and a client cycling through ids (or an agent that came once) does not grow the map
 * for ever. Swept once per refill time (a bucket empty then is full again by the next sweep).
 * Past {@code maxIds} ids that all spent tokens within that time, the least recently used one is
 * forgotten too: it could only have been held back by its bucket, and a client with that many
 * ids is not held back by per-id buckets anyway. A forgotten bucket still serves the streams that
 * hold it. Thread-safe.
 */
final class BucketsById {
  private final int perSecond;
  private final int burst;
  private final int maxIds;
  private final Clock clock;
  private final Duration sweepEvery;
  /** In access order: the least recently used id first. */
  private final LinkedHashMap<String, EventBucket> buckets = new LinkedHashMap<>(16, 0.75f, true);
  private Instant nextSweep;

  /**
   * Ids remembered at most for {@code maxStreams} agent slots: twice the agents that may be
   * connected, so only ids past those (all of which spent tokens in the last seconds) are
   * forgotten before their bucket is full again.
   */
  static int maxIds(int maxStreams) {
    return Math.max(1024, 2 * maxStreams);
  }

  BucketsById(int perSecond, int burst, int maxIds, Clock clock) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.maxIds = maxIds;
    this.clock = clock;
    // the time an emptied bucket takes to be full again, at least a second
    this.sweepEvery = Duration.ofMillis(Math.max(1_000L,
        (long) Math.ceil(Math.max(burst, perSecond) * 1_000.0 / Math.max(1, perSecond))));
    this.nextSweep = clock.instant().plus(sweepEvery);
  }

  /** {@code agentId}'s bucket (a new, full one when it has none). */
  synchronized EventBucket get(String agentId) {
    Instant now = clock.instant();
    if (!now.isBefore(nextSweep)) {
      buckets.values().removeIf(EventBucket::full);
      nextSweep = now.plus(sweepEvery);
    }
    EventBucket b = buckets.computeIfAbsent(agentId, k -> new EventBucket(perSecond, burst, clock));
    Iterator<Map.Entry<String, EventBucket>> eldest = buckets.entrySet().iterator();
    while (buckets.size() > maxIds) {
      eldest.next();
      eldest.remove();
    }
    return b;
  }

  /** Ids with a bucket (tests, metrics). */
  synchronized int size() {
    return buckets.size();
  }
}
