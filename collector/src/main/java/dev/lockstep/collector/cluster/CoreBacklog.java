package dev.lockstep.collector.cluster;

/**
 * How far behind the core is on the events topic, in time, from the periodic measurements of its
 * committed offset and the topic's end: the records not yet processed divided by the rate the
 * core processed records at since the last measurement. The core reads the topic in order, so a
 * golden report produced now waits about that long before the core compares it. While it is over
 * the bound, gateways answer routine batches with a Backoff (decisive ones still go), which keeps
 * the wait for a mismatch after a burst, or during a core fail-over, near the bound instead of
 * growing with the burst.
 *
 * <p>Measured in time rather than records: one record is one batch of 1 to 500 events, and a
 * fleet of many agents sending small batches keeps hundreds of records in flight within a commit
 * interval. A backlog under {@link #MIN_RECORDS} never counts, so a quiet core (whose rate is only
 * what arrives) is not taken for a slow one. A measurement older than {@link #STALE_MILLIS} does
 * not count either: ingest is never held on a figure Kafka could not confirm. Thread-safe.
 */
final class CoreBacklog {
  static final long MIN_RECORDS = 100;
  static final long STALE_MILLIS = 5_000;

  private final long boundMillis;
  private long lastAtMillis = Long.MIN_VALUE;
  private long lastCommitted;
  private long backlog;
  private double perSecond;

  /** @param boundMillis the longest wait routine events may add (0: never hold them) */
  CoreBacklog(long boundMillis) {
    this.boundMillis = boundMillis;
  }

  /** One measurement at {@code nowMillis}: the core's committed offset and the topic's end. */
  synchronized void measured(long nowMillis, long committed, long end) {
    if (lastAtMillis != Long.MIN_VALUE && nowMillis > lastAtMillis) {
      perSecond = Math.max(0, committed - lastCommitted) * 1000.0 / (nowMillis - lastAtMillis);
    } else {
      perSecond = Double.NaN;
    }
    lastAtMillis = nowMillis;
    lastCommitted = committed;
    backlog = Math.max(0, end - committed);
  }

  /**
   * Why routine batches should wait at {@code nowMillis} (for the agent's log), or null when the
   * core is within the bound, the backlog is small, or the last measurement is too old.
   */
  synchronized String holdRoutine(long nowMillis) {
    if (boundMillis <= 0 || lastAtMillis == Long.MIN_VALUE || Double.isNaN(perSecond)
        || nowMillis - lastAtMillis > STALE_MILLIS || backlog < MIN_RECORDS) {
      return null;
    }
    if (perSecond > 0 && backlog * 1000.0 / perSecond <= boundMillis) return null;
    String wait = perSecond > 0
        ? "about " + Math.round(backlog / perSecond * 10) / 10.0 + " s of work"
        : "not moving (no core task running?)";
    return "the cluster's core is " + backlog + " records behind on the events topic, " + wait
        + "; routine events wait so a mismatch is compared within "
        + boundMillis + " ms (cluster.max_core_backlog)";
  }
}
