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

  /**
   * Where a stored chunk is copied before it counts (cluster mode: a Kafka topic every collector
   * reads, so evidence outlives the collector that received it). {@code then} runs once the copy
   * is durable: only then does the core hear of a completed artifact and the agent get asked for
   * its next frame. Embedded mode stores only locally.
   */
  public interface Replication {
    void replicate(String agentId, EvidenceChunk stored, Runnable then);

    Replication NONE = (agentId, stored, then) -> then.run();
  }

  private volatile Replication replication = Replication.NONE;
  private volatile java.util.function.BooleanSupplier room = () -> true;

  /**
   * Whether the collector's disk has room for evidence now ({@code StoreSpace} below its flood
   * watermark): when not, a chunk's data is dropped and its artifact marked truncated, so evidence
   * never takes the room that stops and decisions need.
   */
  public void room(java.util.function.BooleanSupplier r) {
    this.room = r;
  }

  /** Copies every stored chunk through {@code r} (set before agents connect). */
  public void replication(Replication r) {
    this.replication = r;
  }

  /** What became of one chunk: the wait before the next frame, what was stored, core inputs. */
  private record Taken(long waitMillis, EvidenceChunk stored, java.util.List<Input> inputs) {}

  /** Handles one chunk of {@code agentId}; {@code next} asks the agent for its next frame. */
  public void offer(String agentId, EvidenceChunk chunk, Runnable next) {
    try {
      worker.execute(() -> {
        Taken t = new Taken(0, null, java.util.List.of());
        try {
          t = accept(agentId, chunk);
        } catch (RuntimeException | Error e) {
          // the chunk is dropped (its artifact stays incomplete); the stream goes on either way
          metrics.internalErrors.labelValues("evidence").inc();
          LOG.log(System.Logger.Level.ERROR, "evidence from " + agentId + ": " + e, e);
        }
        Taken taken = t;
        Runnable finish = () -> {
          try {
            taken.inputs().forEach(core);
          } catch (RuntimeException e) {
            metrics.internalErrors.labelValues("evidence").inc();
            LOG.log(System.Logger.Level.ERROR, "evidence from " + agentId + ": " + e, e);
          }
          if (taken.waitMillis() > 0) {
            try {
              worker.schedule(next, taken.waitMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
              // shutting down: the stream closes
            }
          } else {
            next.run();
          }
        };
        if (taken.stored() == null) {
          finish.run();
        } else {
          try {
            replication.replicate(agentId, taken.stored(), finish);
          } catch (RuntimeException e) {
            metrics.internalErrors.labelValues("evidence").inc();
            LOG.log(System.Logger.Level.ERROR, "evidence copy of " + agentId + ": " + e, e);
            finish.run();
          }
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shutting down: the stream closes
    }
  }

  /** Checks and stores one chunk. */
  private Taken accept(String agentId, EvidenceChunk c) {
    java.util.List<Input> inputs = new java.util.ArrayList<>();
    Optional<CaptureRecord> req = captures.apply(c.getRequestId());
    if (req.isEmpty()) {
      refuse(agentId, "no_request", "no capture request '" + c.getRequestId() + "'");
      return new Taken(0, null, inputs);
    }
    CaptureRecord r = req.get();
    if (!r.getAgentId().equals(agentId)) {
      refuse(agentId, "wrong_agent", "capture request " + r.getRequestId()
          + " was sent to another agent");
      return new Taken(0, null, inputs);
    }
    if (!c.getIncidentId().isEmpty() && !c.getIncidentId().equals(r.getIncidentId())) {
      refuse(agentId, "wrong_incident", "capture request " + r.getRequestId() + " is for "
          + r.getIncidentId() + ", not " + c.getIncidentId());
      return new Taken(0, null, inputs);
    }
    EvidenceChunk chunk = c.toBuilder().setIncidentId(r.getIncidentId()).build();
    long wait = 0;
    EvidenceChunk stored = null;
    if (!chunk.getName().isEmpty()) {
      if (store.completed(r.getIncidentId(), agentId, chunk.getName())) {
        refuse(agentId, "already_stored", "artifact " + chunk.getName() + " of "
            + r.getIncidentId() + " is already stored and is never replaced");
        if (chunk.getDone()) inputs.add(new Input.CaptureDone(r.getRequestId()));
        return new Taken(0, null, inputs);
      }
      int n = chunk.getData().size();
      long sofar = requestBytes.getOrDefault(r.getRequestId(), 0L);
      boolean noRoom = n > 0 && !room.getAsBoolean();
      if (n > 0 && (sofar + n > r.getMaxBytes() || store.totalBytes() + n > maxBytesTotal
          || noRoom)) {
        metrics.rejectedFrames.labelValues(noRoom ? "evidence_store_full"
            : sofar + n > r.getMaxBytes() ? "evidence_over_request" : "evidence_over_total").inc();
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
      if (!a.rejected().isEmpty()) {
        refuse(agentId, "evidence_name", a.rejected());
      } else {
        stored = chunk;
      }
      a.completed().ifPresent(info -> inputs.add(new Input.EvidenceStored(r.getRequestId(), info)));
    }
    if (chunk.getDone()) {
      requestBytes.remove(r.getRequestId());
      inputs.add(new Input.CaptureDone(r.getRequestId()));
    }
    return new Taken(wait, stored, inputs);
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
  public void close() throws InterruptedException {
    // waits for the task under way: it writes to the store, which is closed after this
    worker.shutdownNow();
    if (!worker.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
      LOG.log(System.Logger.Level.ERROR, "the evidence worker did not stop within 10 s");
    }
  }
}
