package dev.lockstep.collector.gateway;

import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.Hello;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Instant;
import java.util.ArrayDeque;
import dev.lockstep.security.Caller;
import dev.lockstep.security.Identity;

/**
 * One live agent stream. Outbound frames queue here and go out only while the transport is ready
 * (flow control); consecutive Acks coalesce into the newest. A peer that stops reading until the
 * queue holds {@link #MAX_QUEUED} frames is cut off; it resyncs on reconnect (stop state is
 * level-triggered).
 */
public final class AgentSession {
  static final int MAX_QUEUED = 10_000;

  private final ServerCallStreamObserver<CollectorFrame> out;
  private final String remoteAddress;
  private final Caller caller;
  private volatile EventBucket bucket;
  private volatile EventBucket byteBucket;
  private final Instant connectedAt;
  private final ArrayDeque<CollectorFrame> queue = new ArrayDeque<>();
  private volatile Hello hello;
  private volatile Instant lastSeen;
  private final long connectionId;
  private volatile Runnable onClose = () -> { };
  /** Runs when the frame being handled is finished, or the stream closes (opens the gate). */
  private volatile Runnable onFinished = () -> { };
  // The frame being handled (numbered from 1) and whether it was finished.
  private long handling;
  private boolean handlingDone = true;
  private boolean closed;
  // Read-ahead (see ReadAhead): frames asked for, delivered by gRPC, and finished, counted since
  // the stream opened; the sizes of those delivered and not finished, oldest first.
  private final ReadAhead readAhead;
  private long requested;
  private long delivered;
  private long finished;
  private final ArrayDeque<Integer> heldSizes = new ArrayDeque<>();
  private long heldBytes;
  private boolean welcomed;
  // Stop acks taken out of line (AgentGateway): one at a time, the newest waiting one next.
  private boolean ackBusy;
  private dev.lockstep.proto.v1.StopAck pendingAck;
  // Backoffs sent on this stream (frames of one stream are handled one at a time)
  private volatile long backoffsSent;
  private volatile long lastBackoffNanos;

  AgentSession(ServerCallStreamObserver<CollectorFrame> out, String remoteAddress,
      Caller caller, Instant connectedAt, long connectionId, ReadAhead readAhead) {
    this.readAhead = readAhead;
    this.connectionId = connectionId;
    this.out = out;
    this.remoteAddress = remoteAddress;
    this.caller = caller;
    this.connectedAt = connectedAt;
    this.lastSeen = connectedAt;
  }

  /** Names this stream (unique in this process). */
  public long connectionId() {
    return connectionId;
  }

  /** Runs once when this stream closes, whoever closes it (releases its slot). */
  void onClose(Runnable r) {
    onClose = r;
  }

  /**
   * Runs after the frame being handled is finished and when the stream closes: lets the stream's
   * next frame be handled (see {@link SerialExecutor#open()}).
   */
  void onFinished(Runnable r) {
    onFinished = r;
  }

  /**
   * The next delivered frame's handling starts; returns the one call that finishes it (further
   * calls do nothing, so a path that finishes a frame twice cannot finish the next one).
   */
  synchronized Runnable begin() {
    long frame = ++handling;
    handlingDone = false;
    return () -> finish(frame);
  }

  /** The agent's Hello; null before it arrived. */
  public Hello hello() {
    return hello;
  }

  void hello(Hello h) {
    this.hello = h;
  }

  public String agentId() {
    Hello h = hello;
    return h == null ? "" : h.getAgentId();
  }

  public String remoteAddress() {
    return remoteAddress;
  }

  /** Who opened the stream (certificate identity under mTLS, anonymous with --insecure). */
  public Identity identity() {
    return caller.identity();
  }

  Caller caller() {
    return caller;
  }

  /** The agent's rate-limit bucket, set when its Hello is accepted. */
  EventBucket bucket() {
    return bucket;
  }

  /** The agent's bucket of event-batch bytes, set with {@link #bucket(EventBucket)}. */
  EventBucket byteBucket() {
    return byteBucket;
  }

  void byteBucket(EventBucket b) {
    byteBucket = b;
  }

  void bucket(EventBucket b) {
    bucket = b;
  }

  public Instant connectedAt() {
    return connectedAt;
  }

  public Instant lastSeen() {
    return lastSeen;
  }

  void seen(Instant at) {
    lastSeen = at;
  }

  /** Queues a frame; never blocks. Dropped silently when the stream is closed. */
  public void send(CollectorFrame frame) {
    synchronized (this) {
      if (closed) return;
      if (frame.hasAck() && !queue.isEmpty() && queue.peekLast().hasAck()) {
        queue.pollLast();
      }
      queue.add(frame);
      if (queue.size() > MAX_QUEUED) {
        close(Status.RESOURCE_EXHAUSTED.withDescription(
            "agent " + agentId() + " is not reading its stream (" + MAX_QUEUED + " frames queued)"));
        return;
      }
      drain();
    }
  }

  /** Sends queued frames while the transport is ready. */
  synchronized void drain() {
    while (!closed && !queue.isEmpty() && out.isReady()) {
      out.onNext(queue.poll());
    }
  }

  /** Asks the transport for the stream's first frame (its Hello). */
  synchronized void start() {
    if (closed) return;
    requested++;
    out.request(1);
  }

  /**
   * gRPC delivered a frame of {@code bytes}; it waits for its turn on this stream. Once the
   * agent was welcomed, the stream reads ahead within the budget, so that a frame that can stop
   * the fleet is seen (and handled urgently, with the frames before it) instead of waiting in the
   * transport behind routine batches the agent sent earlier.
   */
  synchronized void delivered(int bytes) {
    delivered++;
    heldSizes.add(bytes);
    heldBytes += bytes;
    readAhead.add(bytes);
    if (closed) {
      release();
      return;
    }
    readAhead();
  }

  /**
   * The frame being handled is finished (the Hello's: the Welcome was queued): asks for the next
   * one, reads ahead, and lets the next delivered frame be handled.
   */
  void next() {
    long frame;
    synchronized (this) {
      frame = handling;
    }
    finish(frame);
  }

  /**
   * Frame {@code frame} is finished (stored, refused without closing, or handed on): asks for the
   * next one, and reads ahead. Only the first call for the frame being handled counts.
   */
  private void finish(long frame) {
    synchronized (this) {
      if (frame != handling || handlingDone) return;
      handlingDone = true;
      if (!closed) {
        Integer size = heldSizes.poll();
        if (size != null) {
          heldBytes -= size;
          readAhead.release(size);
          finished++;
        }
        welcomed = true;
        if (requested == finished) {
          requested++;
          out.request(1);
        }
        readAhead();
      }
    }
    onFinished.run();
  }

  private void readAhead() {
    if (welcomed && requested == delivered
        && readAhead.allows((int) (delivered - finished), heldBytes)) {
      requested++;
      out.request(1);
    }
  }

  /** Frames delivered and not finished (tests). */
  synchronized int held() {
    return heldSizes.size();
  }

  private void release() {
    readAhead.release(heldBytes);
    heldBytes = 0;
    heldSizes.clear();
  }

  public synchronized boolean isOpen() {
    return !closed && !out.isCancelled();
  }

  /** Closes this stream with {@code status} (OK completes it normally) and releases its slot. */
  public void close(Status status) {
    synchronized (this) {
      if (closed) return;
      closed = true;
      queue.clear();
      release();
      try {
        if (status.isOk()) {
          out.onCompleted();
        } else {
          out.onError(status.asRuntimeException());
        }
      } catch (IllegalStateException | io.grpc.StatusRuntimeException e) {
        // already cancelled by the peer
      }
    }
    onClose.run();
    onFinished.run();
  }

  /** The peer ended the stream (or the transport broke): release the slot. */
  void markClosed() {
    synchronized (this) {
      closed = true;
      queue.clear();
      release();
    }
    onClose.run();
    onFinished.run();
  }

  synchronized int queued() {
    return queue.size();
  }

  /** {@link #offerAck}: take the ack now; it waits; it waits in place of an older waiting one. */
  static final int ACK_TAKE = 0;
  static final int ACK_WAITS = 1;
  static final int ACK_REPLACED_ONE = 2;

  /**
   * A stop ack arrived: {@link #ACK_TAKE} when none is being taken (the caller takes this one
   * now), else it waits, in place of any other waiting ack.
   */
  synchronized int offerAck(dev.lockstep.proto.v1.StopAck ack) {
    if (!ackBusy) {
      ackBusy = true;
      return ACK_TAKE;
    }
    boolean replaced = pendingAck != null;
    pendingAck = ack;
    return replaced ? ACK_REPLACED_ONE : ACK_WAITS;
  }

  /** The ack being taken is finished: the one waiting (the caller takes it now), or null. */
  synchronized dev.lockstep.proto.v1.StopAck nextAck() {
    dev.lockstep.proto.v1.StopAck next = pendingAck;
    pendingAck = null;
    if (next == null) ackBusy = false;
    return next;
  }

  /** How many Backoffs this stream was sent (the latest one's id). */
  long backoffsSent() {
    return backoffsSent;
  }

  /** The id of the Backoff about to be sent. */
  long nextBackoffId() {
    lastBackoffNanos = System.nanoTime();
    return ++backoffsSent;
  }

  /** When the latest Backoff was sent (System.nanoTime). */
  long lastBackoffNanos() {
    return lastBackoffNanos;
  }
}
