package dev.lockstep.bench.fleet;

import com.google.protobuf.Timestamp;
import com.google.protobuf.ByteString;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.CaptureRequest;
import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.AgentGatewayGrpc;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EventBatch;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Hello;
import dev.lockstep.proto.v1.ProcessState;
import dev.lockstep.proto.v1.StepSummary;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One simulated agent on its own gRPC connection: sends batches of health events with a bounded
 * window of unacked batches, answers stop commands at once, and records when it did.
 */
final class SimAgent implements ClientResponseObserver<AgentFrame, CollectorFrame> {
  private final String id;
  private final int batchSize;
  private final int window;
  private final CompletableFuture<Long> welcome = new CompletableFuture<>();
  private final AtomicLong nextSeq = new AtomicLong(1);
  private final AtomicLong ackedSeq = new AtomicLong();
  private final AtomicLong stopAckNanos = new AtomicLong();
  private long stopGeneration = -1;
  private volatile StopMode stopMode = StopMode.RUNNING;
  private final CountDownLatch done = new CountDownLatch(1);
  private volatile boolean sending;
  private double rate;
  private double tokens;
  private long refilledNanos;
  private ClientCallStreamObserver<AgentFrame> requests;
  // evidence: answers capture requests with this many bytes, in 256 KiB chunks, flow-controlled
  private volatile long evidenceBytes;
  private CaptureRequest capture;
  private long captureOffset;
  private final AtomicLong evidenceSent = new AtomicLong();
  private static final byte[] CHUNK = new byte[256 * 1024];
  // Backoffs (the collector's store is full): the latest id, echoed in every batch, and a pause
  private long backoffId;
  private long pausedUntilNanos;
  private final AtomicLong backoffs = new AtomicLong();
  private static final java.util.concurrent.ScheduledExecutorService RESUME =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sim-agent-resume");
        t.setDaemon(true);
        return t;
      });

  static {
    new java.util.Random(7).nextBytes(CHUNK);
  }

  SimAgent(String id, int batchSize, int window) {
    this.id = id;
    this.batchSize = batchSize;
    this.window = window;
  }

  void connect(ManagedChannel channel, long lastAcked) {
    nextSeq.set(lastAcked + 1);
    ackedSeq.set(lastAcked);
    AgentGatewayGrpc.newStub(channel).connect(this);
    synchronized (this) {
      requests.onNext(AgentFrame.newBuilder().setHello(Hello.newBuilder()
          .setAgentId(id).setHostname(id).setVersion("bench").setLastAckedSeq(lastAcked)).build());
    }
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<AgentFrame> stream) {
    this.requests = stream;
    stream.setOnReadyHandler(this::pump);
  }

  String id() {
    return id;
  }

  CompletableFuture<Long> welcome() {
    return welcome;
  }

  /** Answer capture requests with {@code bytes} of evidence (0: ignore them). */
  void evidenceOnCapture(long bytes) {
    this.evidenceBytes = bytes;
  }

  long evidenceSent() {
    return evidenceSent.get();
  }

  /** Reports its watched process gone (a P1 that makes the collector ask for its logs). */
  synchronized void sendProcessDied() {
    long seq = nextSeq.getAndIncrement();
    requests.onNext(AgentFrame.newBuilder().setEvents(EventBatch.newBuilder().setBackoffId(backoffId)
        .addEvents(Event.newBuilder().setSeq(seq).setObservedAt(now())
            .setHealth(HealthSample.newBuilder().setProbe(HealthSample.Probe.PROCESS)
                .setTarget("run_shadow_simulation").setLevel(HealthSample.Level.CRITICAL)
                .setSummary("process run_shadow_simulation not running")))).build());
  }

  void startSending() {
    startSending(0);
  }

  /**
   * Sends health batches: as fast as acks allow ({@code eventsPerSecond} 0), or at most that
   * rate (call {@link #tick} often; it refills and sends).
   */
  synchronized void startSending(double eventsPerSecond) {
    this.rate = eventsPerSecond;
    this.tokens = batchSize;
    this.refilledNanos = System.nanoTime();
    sending = true;
    pump();
  }

  /** Refills the rate limit's tokens and sends what they allow. */
  synchronized void tick() {
    if (rate > 0 && sending) {
      long now = System.nanoTime();
      tokens = Math.min(batchSize * 2.0, tokens + (now - refilledNanos) / 1e9 * rate);
      refilledNanos = now;
      pump();
    }
  }

  void stopSending() {
    sending = false;
  }

  long acked() {
    return ackedSeq.get();
  }

  long sentSeq() {
    return nextSeq.get() - 1;
  }

  long stopAckNanos() {
    return stopAckNanos.get();
  }

  void resetStopTiming() {
    stopAckNanos.set(0);
  }

  StopMode stopMode() {
    return stopMode;
  }

  /** Sends again the already-acked event {@code seq}, as an agent that lost its ack would. */
  synchronized void resend(long seq) {
    if (seq <= 0) return;
    requests.onNext(AgentFrame.newBuilder().setEvents(EventBatch.newBuilder().setBackoffId(backoffId)
        .addEvents(Event.newBuilder().setSeq(seq).setObservedAt(now())
            .setHealth(HealthSample.newBuilder().setProbe(HealthSample.Probe.PROCESS)
                .setTarget("run_shadow_simulation").setLevel(HealthSample.Level.OK)))).build());
    nextSeq.set(seq + 1);
  }

  // golden reports sent and not yet acked: a real agent keeps them in its spool; sent again
  // (with new seqs, as the refused events' seqs are reused) after a Backoff
  private final java.util.TreeMap<Long, GoldenReport> unackedGoldens = new java.util.TreeMap<>();
  private final java.util.ArrayDeque<GoldenReport> resendGoldens = new java.util.ArrayDeque<>();

  /** Sends one golden report as its own batch (used to inject the mismatch). */
  synchronized void sendGolden(String runId, String role, String hash) {
    sendGolden(report(runId, role, hash));
  }

  /** Two reports of one run mismatch when their hashes differ; both must be valid hashes. */
  static final String PRIMARY_HASH = "sha256:" + "a".repeat(64);
  static final String SHADOW_HASH = "sha256:" + "b".repeat(64);
  static final String FILL_HASH = "sha256:" + "c".repeat(64);

  /** The golden report a bench agent sends for {@code runId} (one step, hashes {@code hash}). */
  static GoldenReport report(String runId, String role, String hash) {
    return GoldenReport.newBuilder()
        .setPath("/bench/" + runId + "." + role + ".golden.json").setRunId(runId)
        .setWorkflow("bench.workflow").setRole(role).setHasSeed(true).setSeed(7)
        .setCanonicalHash(hash).setOutputHash(hash)
        .addSteps(StepSummary.newBuilder().setIndex(0).setName("compute").setKind("compute").setCanonicalHash(hash))
        .build();
  }

  /** {@code n} golden reports of role {@code role} (runs prefix-0..n-1, all with one hash) in batches of 100. */
  synchronized void sendGoldens(String prefix, int n, String role) {
    for (int i = 0; i < n; i += 100) {
      EventBatch.Builder b = EventBatch.newBuilder().setBackoffId(backoffId);
      for (int j = i; j < Math.min(n, i + 100); j++) {
        GoldenReport report = report(prefix + j, role, FILL_HASH);
        long seq = nextSeq.getAndIncrement();
        unackedGoldens.put(seq, report);
        b.addEvents(Event.newBuilder().setSeq(seq).setObservedAt(now()).setGolden(report));
      }
      requests.onNext(AgentFrame.newBuilder().setEvents(b).build());
    }
  }

  private void sendGolden(GoldenReport report) {
    long seq = nextSeq.getAndIncrement();
    unackedGoldens.put(seq, report);
    requests.onNext(AgentFrame.newBuilder().setEvents(EventBatch.newBuilder().setBackoffId(backoffId)
        .addEvents(Event.newBuilder().setSeq(seq).setObservedAt(now()).setGolden(report))).build());
  }

  private synchronized void pump() {
    while (capture != null && requests.isReady()) {
      long left = Math.min(evidenceBytes, capture.getMaxBytes()) - captureOffset;
      int n = (int) Math.max(0, Math.min(CHUNK.length, left));
      boolean last = left <= CHUNK.length;
      EvidenceChunk.Builder c = EvidenceChunk.newBuilder().setRequestId(capture.getRequestId())
          .setIncidentId(capture.getIncidentId()).setName("logs/bench.log").setKind("log")
          .setOffset(captureOffset).setData(ByteString.copyFrom(CHUNK, 0, n));
      if (last) c.setLast(true).setTotalBytes(captureOffset + n).setDone(true);
      requests.onNext(AgentFrame.newBuilder().setEvidence(c).build());
      captureOffset += n;
      evidenceSent.addAndGet(n);
      if (last) capture = null;
    }
    if (pausedUntilNanos != 0 && System.nanoTime() < pausedUntilNanos) return;
    pausedUntilNanos = 0;
    while (!resendGoldens.isEmpty() && requests.isReady()) sendGolden(resendGoldens.poll());
    while (sending && requests.isReady() && nextSeq.get() - 1 - ackedSeq.get() < (long) batchSize * window
        && (rate <= 0 || tokens >= batchSize)) {
      if (rate > 0) tokens -= batchSize;
      EventBatch.Builder batch = EventBatch.newBuilder().setBackoffId(backoffId);
      Timestamp now = now();
      for (int i = 0; i < batchSize; i++) {
        batch.addEvents(Event.newBuilder().setSeq(nextSeq.getAndIncrement()).setObservedAt(now)
            .setHealth(HealthSample.newBuilder().setProbe(HealthSample.Probe.PROCESS)
                .setTarget("run_shadow_simulation").setLevel(HealthSample.Level.OK)
                .setSummary("process run_shadow_simulation running")
                .setProcess(ProcessState.newBuilder().setRunning(true).setPid(4242).setCycles(nextSeq.get()))));
      }
      requests.onNext(AgentFrame.newBuilder().setEvents(batch).build());
    }
  }

  @Override
  public void onNext(CollectorFrame frame) {
    switch (frame.getFrameCase()) {
      case WELCOME -> {
        welcome.complete(frame.getWelcome().getAckedSeq());
        if (frame.getWelcome().hasStop()) answerStop(frame.getWelcome().getStop().getGeneration(), frame.getWelcome().getStop().getMode());
      }
      case ACK -> {
        ackedSeq.accumulateAndGet(frame.getAck().getUptoSeq(), Math::max);
        synchronized (this) {
          unackedGoldens.headMap(frame.getAck().getUptoSeq(), true).clear();
        }
        pump();
      }
      case STOP -> answerStop(frame.getStop().getState().getGeneration(), frame.getStop().getState().getMode());
      case CAPTURE -> capture(frame.getCapture());
      case BACKOFF -> backoff(frame.getBackoff());
      default -> { }
    }
  }

  /**
   * As the protocol asks: what the collector holds counts as acked, the next events take the
   * seqs after it (a simulated agent makes new ones rather than keep a spool), nothing routine
   * is sent until retry_after_ms has passed, and every batch echoes the Backoff's id.
   */
  private synchronized void backoff(dev.lockstep.proto.v1.Backoff b) {
    backoffs.incrementAndGet();
    backoffId = Math.max(backoffId, b.getId());
    ackedSeq.accumulateAndGet(b.getResendAfterSeq(), Math::max);
    nextSeq.set(ackedSeq.get() + 1);
    pausedUntilNanos = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(b.getRetryAfterMs());
    unackedGoldens.headMap(b.getResendAfterSeq(), true).clear();
    List<GoldenReport> again = new java.util.ArrayList<>(unackedGoldens.values());
    unackedGoldens.clear();
    resendGoldens.addAll(again);
    if (b.getDecisiveTaken()) {
      while (!resendGoldens.isEmpty()) sendGolden(resendGoldens.poll()); // the flood stage takes them
    }
    RESUME.schedule(this::pump, b.getRetryAfterMs(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  long backoffs() {
    return backoffs.get();
  }

  private synchronized void capture(CaptureRequest c) {
    if (evidenceBytes <= 0 || capture != null) return;
    capture = c;
    captureOffset = 0;
    pump();
  }

  /** Enacts (instantly) and acks a desired state that differs from the last one; re-acks the same. */
  private synchronized void answerStop(long generation, StopMode mode) {
    if (generation != stopGeneration || mode != stopMode) {
      if (mode == StopMode.STOPPED && stopMode != StopMode.STOPPED) {
        stopAckNanos.compareAndSet(0, System.nanoTime());
      }
      stopGeneration = generation;
      stopMode = mode;
    }
    requests.onNext(AgentFrame.newBuilder().setStopAck(StopAck.newBuilder().setGeneration(generation).setMode(mode)
        .setEnacted(true).setVerified(true).setDetail("bench: simulated").setEnactedAt(now())).build());
  }

  void close() {
    synchronized (this) {
      try {
        requests.onCompleted();
      } catch (IllegalStateException alreadyClosed) {
        // stream already ended
      }
    }
  }

  @Override
  public void onError(Throwable t) {
    welcome.completeExceptionally(t);
    done.countDown();
  }

  @Override
  public void onCompleted() {
    done.countDown();
  }

  private static Timestamp now() {
    long ms = System.currentTimeMillis();
    return Timestamp.newBuilder().setSeconds(ms / 1000).setNanos((int) (ms % 1000) * 1_000_000).build();
  }
}
