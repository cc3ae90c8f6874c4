package dev.lockstep.collector.evidence;

import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.proto.store.v1.CaptureRecord;
import dev.lockstep.proto.v1.EvidenceChunk;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Takes evidence chunks off the core thread. A chunk is accepted only when it answers a capture
 * request the collector sent to THAT agent for THAT incident (the request is core state, kept
 * across restarts); a completed artifact is never replaced; a request never receives more than
 * its {@code max_bytes}, all incidents together never more than {@code maxBytesTotal}, and one
 * agent is slowed to {@code bytesPerSecond} by not asking for its next frame sooner
 * (backpressure, nothing dropped). Storing and hashing (up to 64 MiB) happen on this worker's
 * own thread; completions go to the core as inputs.
 */
public final class EvidenceIntake implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(EvidenceIntake.class.getName());

  private final EvidenceStore store;
  private final Function<String, Optional<CaptureRecord>> captures;
  private final Consumer<Input> core;
  private final CollectorMetrics metrics;
  private final Clock clock;
  private final long maxBytesTotal;
  private final long bytesPerSecond;
  private final ScheduledExecutorService worker;
  private final Map<String, Long> requestBytes = new ConcurrentHashMap<>();
  private final Map<String, double[]> buckets = new ConcurrentHashMap<>();
  private final Map<String, Long> lastWarned = new ConcurrentHashMap<>();

  public EvidenceIntake(EvidenceStore store, Function<String, Optional<CaptureRecord>> captures,
      Consumer<Input> core, CollectorMetrics metrics, Clock clock, long maxBytesTotal,
      long bytesPerSecond, ScheduledExecutorService worker) {
    this.store = store;
    this.captures = captures;
    this.core = core;
    this.metrics = metrics;
    this.clock = clock;
    this.maxBytesTotal = maxBytesTotal;
    this.bytesPerSecond = bytesPerSecond;
    this.worker = worker;
  }

  /** Handles one chunk of {@code agentId}; {@code next} asks the agent for its next frame. */
  public void offer(String agentId, EvidenceChunk chunk, Runnable next) {
    try {
      worker.execute(() -> {
        long waitMillis = 0;
        try {
          waitMillis = accept(agentId, chunk);
        } catch (RuntimeException e) {
          metrics.internalErrors.labelValues("evidence").inc();
          LOG.log(System.Logger.Level.ERROR, "evidence from " + agentId + ": " + e, e);
        } finally {
          if (waitMillis > 0) {
            worker.schedule(next, waitMillis, TimeUnit.MILLISECONDS);
          } else {
            next.run();
          }
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shutting down: the stream closes
    }
  }

  /** Returns how long the agent should wait before its next frame (rate limit). */
  long accept(String agentId, EvidenceChunk c) {
    Optional<CaptureRecord> req = captures.apply(c.getRequestId());
    if (req.isEmpty()) {
      refuse(agentId, "no_request", "no capture request '" + c.getRequestId() + "'");
      return 0;
    }
    CaptureRecord r = req.get();
    if (!r.getAgentId().equals(agentId)) {
      refuse(agentId, "wrong_agent", "capture request " + r.getRequestId()
          + " was sent to another agent");
      return 0;
    }
    if (!c.getIncidentId().isEmpty() && !c.getIncidentId().equals(r.getIncidentId())) {
      refuse(agentId, "wrong_incident", "capture request " + r.getRequestId() + " is for "
          + r.getIncidentId() + ", not " + c.getIncidentId());
      return 0;
    }
    EvidenceChunk chunk = c.toBuilder().setIncidentId(r.getIncidentId()).build();
    long wait = 0;
    if (!chunk.getName().isEmpty()) {
      if (store.completed(r.getIncidentId(), agentId, chunk.getName())) {
        refuse(agentId, "already_stored", "artifact " + chunk.getName() + " of "
            + r.getIncidentId() + " is already stored and is never replaced");
        if (chunk.getDone()) core.accept(new Input.CaptureDone(r.getRequestId()));
        return 0;
      }
      int n = chunk.getData().size();
      long sofar = requestBytes.getOrDefault(r.getRequestId(), 0L);
      if (n > 0 && (sofar + n > r.getMaxBytes() || store.totalBytes() + n > maxBytesTotal)) {
        metrics.rejectedFrames.labelValues(sofar + n > r.getMaxBytes()
            ? "evidence_over_request" : "evidence_over_total").inc();
        chunk = chunk.toBuilder().clearData().setTruncated(true).build();
        n = 0;
      }
      if (n > 0) {
        requestBytes.merge(r.getRequestId(), (long) n, Long::sum);
        wait = take(agentId, n);
      }
      EvidenceStore.Accepted a = store.accept(agentId, chunk);
      if (a.storedBytes() > 0) metrics.evidenceBytes.inc(a.storedBytes());
      if (a.storedBytes() == 0 && n > 0 && a.rejected().isEmpty()) {
        metrics.rejectedFrames.labelValues("evidence_over_limit").inc();
      }
      if (!a.rejected().isEmpty()) refuse(agentId, "evidence_name", a.rejected());
      a.completed().ifPresent(info -> core.accept(new Input.EvidenceStored(r.getRequestId(), info)));
    }
    if (chunk.getDone()) {
      requestBytes.remove(r.getRequestId());
      core.accept(new Input.CaptureDone(r.getRequestId()));
    }
    return wait;
  }

  /** Token bucket in bytes per agent; returns the wait that pays back a deficit. */
  private long take(String agentId, int bytes) {
    double[] b = buckets.computeIfAbsent(agentId, k -> new double[] {bytesPerSecond, clock.millis()});
    synchronized (b) {
      long now = clock.millis();
      b[0] = Math.min(bytesPerSecond, b[0] + (now - b[1]) / 1000.0 * bytesPerSecond);
      b[1] = now;
      b[0] -= bytes;
      if (b[0] >= 0) return 0;
      metrics.rejectedFrames.labelValues("evidence_rate_slowed").inc();
      return (long) Math.ceil(-b[0] / bytesPerSecond * 1000);
    }
  }

  private void refuse(String agentId, String reason, String detail) {
    metrics.rejectedFrames.labelValues(reason).inc();
    long now = clock.millis();
    Long last = lastWarned.get(agentId + reason);
    if (last == null || now - last > 60_000) {
      lastWarned.put(agentId + reason, now);
      LOG.log(System.Logger.Level.WARNING, "evidence from " + agentId + " refused: " + detail);
    }
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
