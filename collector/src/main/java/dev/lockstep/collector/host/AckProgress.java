package dev.lockstep.collector.host;

import dev.lockstep.proto.v1.StopAck;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Progress lines for counted stop acks. Each ack gets its own line while they are few (at most
 * {@link #LINES_PER_SECOND} a second); past that, one summary line when the second is over, so a
 * stop of a 10,000-agent fleet prints a few dozen lines rather than 10,000 (every line is a write
 * to stdout, and acks are counted on the core thread). An ack that reports a failed stop or
 * resume always gets its own line.
 */
public final class AckProgress {
  static final int LINES_PER_SECOND = 20;
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  private final Consumer<String> progress;
  private final ScheduledExecutorService scheduler;
  private final LongSupplier nanos;
  private long windowStart = Long.MIN_VALUE;
  private int lines;
  private final Map<String, Integer> held = new TreeMap<>();
  private boolean flushScheduled;

  public AckProgress(Consumer<String> progress, ScheduledExecutorService scheduler) {
    this(progress, scheduler, System::nanoTime);
  }

  AckProgress(Consumer<String> progress, ScheduledExecutorService scheduler, LongSupplier nanos) {
    this.progress = progress;
    this.scheduler = scheduler;
    this.nanos = nanos;
  }

  /** An ack of {@code agentId} was counted (it matched the agent's desired state). */
  public void counted(String agentId, StopAck ack) {
    boolean ok = ack.getEnacted() && ack.getVerified();
    String what = "generation " + ack.getGeneration() + " " + ack.getMode() + " "
        + (ok ? "CONFIRMED" : "FAILED");
    String detail = ack.getDetail().isEmpty() ? "" : " (" + GatewayBridge.firstLine(ack.getDetail()) + ")";
    String line = "ack from " + agentId + ": " + what + detail;
    if (!ok) {
      progress.accept(line);
      return;
    }
    boolean schedule = false;
    String summary;
    synchronized (this) {
      long now = nanos.getAsLong();
      summary = null;
      if (windowStart == Long.MIN_VALUE || now - windowStart >= SECOND) {
        summary = takeSummary(); // the last second's, when its flush has not run yet
        windowStart = now;
        lines = 0;
      }
      if (lines < LINES_PER_SECOND) {
        lines++;
      } else {
        held.merge(what, 1, Integer::sum);
        line = null;
        if (!flushScheduled) {
          flushScheduled = true;
          schedule = true;
        }
      }
    }
    if (summary != null) progress.accept(summary);
    if (line != null) progress.accept(line);
    if (schedule) {
      try {
        scheduler.schedule(this::flush, 1, TimeUnit.SECONDS);
      } catch (RejectedExecutionException shuttingDown) {
        flush();
      }
    }
  }

  /** Prints the summary of acks not printed one by one, if any. */
  public void flush() {
    String summary;
    synchronized (this) {
      flushScheduled = false;
      summary = takeSummary();
    }
    if (summary != null) progress.accept(summary);
  }

  private String takeSummary() {
    if (held.isEmpty()) return null;
    int n = held.values().stream().mapToInt(Integer::intValue).sum();
    StringBuilder b = new StringBuilder("acks from ").append(n).append(" more agents (")
        .append(LINES_PER_SECOND).append(" a second are listed one by one):");
    held.forEach((what, count) -> b.append(' ').append(count).append(" × ").append(what).append(';'));
    b.setLength(b.length() - 1);
    held.clear();
    return b.toString();
  }
}
