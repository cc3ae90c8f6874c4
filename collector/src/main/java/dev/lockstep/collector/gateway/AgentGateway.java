package dev.lockstep.collector.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.core.EventBounds;
import dev.lockstep.collector.core.EventRules;
import dev.lockstep.collector.core.StopRules;
import dev.lockstep.security.AuditSink;
import dev.lockstep.security.Authorizer;
import dev.lockstep.security.Caller;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.collector.store.Store;
import dev.lockstep.golden.LabelLimits;
import dev.lockstep.proto.v1.Ack;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.AgentGatewayGrpc;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EventBatch;
import dev.lockstep.proto.v1.Hello;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.proto.v1.Welcome;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServerStreamTracer;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Terminates agent streams (AgentGateway.Connect). Inbound frames arrive as raw bytes and are
 * parsed on the bounded app executor, one at a time per stream, so a flood cannot outrun the
 * store and a garbage frame gets INVALID_ARGUMENT on THAT stream. A stream reads a few frames
 * ahead of the one it is handling ({@link ReadAhead}, within a byte budget): a frame that can stop
 * the fleet then reaches the urgent pool, which handles it together with the frames before it,
 * instead of waiting in the transport behind the routine batches its agent sent earlier.
 * Frames over {@link #MAX_FRAME_BYTES} get RESOURCE_EXHAUSTED on that stream; frames over the
 * transport limit are reset by gRPC itself (counted by {@link #tracer()}). Events are acked only after {@link Store#ingest} returned.
 */
public final class AgentGateway {
  public static final int MAX_BATCH_EVENTS = 500;
  public static final int MAX_FRAME_BYTES = 4 * 1024 * 1024;
  /** Urgent frames up to this size are parsed on arrival (a stop ack is a few dozen bytes). */
  private static final int SMALL_URGENT_BYTES = 512;
  /**
   * The transport's hard limit, above {@link #MAX_FRAME_BYTES}: frames between the two are
   * refused by the gateway with a clear RESOURCE_EXHAUSTED; beyond it gRPC resets the stream.
   */
  public static final int TRANSPORT_MAX_BYTES = 2 * MAX_FRAME_BYTES;
  public static final String VERSION = "lockstep-collector/0.1.0";
  /** At most this many orders in a Hello's enacted stop state (the core's bound). */
  public static final int MAX_HELLO_ORDERS = dev.lockstep.collector.core.StopRules.MAX_HELLO_ORDERS;
  /**
   * Hellos one agent id may say: bursts of {@link #HELLO_BURST}, then this many a second. An agent
   * reconnects about once a second at most (and a conformance run opens a few dozen streams).
   */
  public static final int HELLOS_PER_SECOND = 5;
  public static final int HELLO_BURST = 60;
  private static final System.Logger LOG = System.getLogger(AgentGateway.class.getName());
  private static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}");
  /** How much of a refused agent id a status shows: a valid id whole, a hostile one its start. */
  private static final int SHOWN_AGENT_ID = 140;
  /**
   * Hello.hostname and version are informational and reach every connect's log line and the agent
   * directory: kept to this many characters (a DNS name has at most 253).
   */
  private static final int MAX_HELLO_TEXT = 256;

  /** Request frames as direct buffers, parsed by us ({@link Frames}: off the Java heap while they wait). */
  private static final MethodDescriptor.Marshaller<java.nio.ByteBuffer> RAW = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(java.nio.ByteBuffer value) {
      byte[] b = new byte[value.remaining()];
      value.duplicate().get(b);
      return new ByteArrayInputStream(b);
    }

    @Override
    public java.nio.ByteBuffer parse(InputStream stream) {
      try {
        return Frames.read(stream);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  private final Store store;
  private final GatewayListener listener;
  private final Executor pool;
  private volatile Executor urgentPool;
  private final CollectorMetrics metrics;
  private final Clock clock;
  private final CollectorConfig.Limits limits;
  private volatile Authorizer authorizer;
  private volatile dev.lockstep.collector.store.StoreSpace space;
  private volatile BatchSink sink;
  /** Event and event-byte budgets by agent id ({@link BucketsById}: idle ids are forgotten). */
  private final BucketsById buckets;
  private final BucketsById byteBuckets;
  private final StreamSlots slots;
  private final java.util.concurrent.atomic.AtomicLong connections =
      new java.util.concurrent.atomic.AtomicLong();
  private final ReadAhead readAhead = ReadAhead.forHeap();
  /** One refused stream's line per interval: a loop of refused streams must not flood the log. */
  public static final java.time.Duration REFUSAL_LOG_EVERY = java.time.Duration.ofSeconds(10);
  /**
   * One warning line per interval for each kind (a refusal's reason, the metric's label, or
   * "bounded_labels": a fixed set), so a hostile loop of one kind does not hide the one line saying
   * why a real agent was refused for another.
   */
  private final java.util.Map<String, LogThrottle> throttles = new java.util.concurrent.ConcurrentHashMap<>();

  public AgentGateway(Store store, GatewayListener listener, Executor pool,
      CollectorMetrics metrics, Clock clock) {
    this(store, listener, pool, metrics, clock, CollectorConfig.Limits.DEFAULT);
  }

  public AgentGateway(Store store, GatewayListener listener, Executor pool,
      CollectorMetrics metrics, Clock clock, CollectorConfig.Limits limits) {
    this.limits = limits;
    this.slots = new StreamSlots(limits.maxStreams(), clock);
    this.buckets = new BucketsById(limits.maxEventsPerSecond(), limits.maxEventsBurst(),
        BucketsById.maxIds(limits.maxStreams()), clock);
    // bursts of two full frames: one batch of the largest size always fits
    this.byteBuckets = new BucketsById(limits.maxEventBytesPerSecond(),
        Math.max(2 * limits.maxEventBytesPerSecond(), 2 * TRANSPORT_MAX_BYTES),
        BucketsById.maxIds(limits.maxStreams()), clock);
    this.authorizer = new Authorizer(AuditSink.NONE, clock);
    this.store = store;
    this.listener = listener;
    this.pool = pool;
    this.urgentPool = pool;
    this.metrics = metrics;
    this.clock = clock;
    metrics.bindReadAhead(readAhead::held);
  }

  /**
   * Who may say Hello as whom ({@link Authorizer#requireAgent}); refusals are audited by it.
   * Without a call to this, only the insecure anonymous caller and no one else is accepted.
   */
  public void authorize(Authorizer authorizer) {
    this.authorizer = authorizer;
  }

  /**
   * Where frames that can stop the fleet (a golden report, a mismatch count) and stop acks are
   * handled: a pool of their own, so they never queue behind other streams' routine batches
   * (which wait on fsync). Without a call to this they share the main pool. Set before the
   * server starts.
   */
  public void urgentPool(Executor urgent) {
    this.urgentPool = urgent;
  }

  /** The store's space watch: at the flood stage routine events are refused with a Backoff. */
  public void space(dev.lockstep.collector.store.StoreSpace s) {
    this.space = s;
  }

  /**
   * Where validated batches go instead of the local store (cluster mode: Kafka). Set before the
   * server starts.
   */
  public void sink(BatchSink s) {
    this.sink = s;
  }

  /**
   * Takes validated event batches instead of the local store: {@code take} stores one durably
   * and then calls {@link Outcome#acked}, or {@link Outcome#backoff} when it could not (nothing of
   * the batch is acked then). Batches of one stream come one at a time.
   */
  public interface BatchSink {
    /** The agent's highest seq stored (Welcome.acked_seq, Backoff.resend_after_seq). */
    long ackedSeq(String agentId);

    /**
     * Why batches of routine events should wait now (Backoff; batches that hold or lead to a
     * decisive event are still taken), or null to take every batch.
     */
    default String holdRoutine() {
      return null;
    }

    void take(AgentSession session, List<Event> events, Outcome outcome);
  }

  /** How a {@link BatchSink} answers a batch (any thread). */
  public interface Outcome {
    /** Every event up to {@code uptoSeq} is stored: Ack, then the stream's next frame. */
    void acked(long uptoSeq);

    /** Nothing was stored: Backoff with {@code reason}, the agent resends later. */
    void backoff(String reason);
  }

  private long ackedSeq(String agentId) {
    BatchSink s = sink;
    return s != null ? s.ackedSeq(agentId) : store.highWaterMark(agentId);
  }

  /** The Connect method bound with a raw-bytes request marshaller (parsed by us). */
  public ServerServiceDefinition service() {
    MethodDescriptor<java.nio.ByteBuffer, CollectorFrame> method = AgentGatewayGrpc.getConnectMethod()
        .toBuilder(RAW, ProtoUtils.marshaller(CollectorFrame.getDefaultInstance())).build();
    ServiceDescriptor descriptor = ServiceDescriptor.newBuilder(AgentGatewayGrpc.SERVICE_NAME)
        .setSchemaDescriptor(AgentGatewayGrpc.getServiceDescriptor().getSchemaDescriptor())
        .addMethod(method).build();
    return ServerServiceDefinition.builder(descriptor)
        .addMethod(method, ServerCalls.asyncBidiStreamingCall(this::connect)).build();
  }

  /** Counts streams gRPC itself refused for an oversized message. */
  public ServerStreamTracer.Factory tracer() {
    String method = AgentGatewayGrpc.getConnectMethod().getFullMethodName();
    return new ServerStreamTracer.Factory() {
      @Override
      public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        return new ServerStreamTracer() {
          @Override
          public void streamClosed(Status status) {
            if (fullMethodName.equals(method)
                && status.getCode() == Status.Code.RESOURCE_EXHAUSTED
                && String.valueOf(status.getDescription()).contains("exceeds maximum")) {
              metrics.rejectedFrames.labelValues("oversized_transport").inc();
            }
          }
        };
      }
    };
  }

  public Collection<AgentSession> sessions() {
    return slots.currentStreams();
  }

  public Optional<AgentSession> session(String agentId) {
    return Optional.ofNullable(slots.current(agentId));
  }

  /** Bytes of agent frames held off the heap and not freed yet (by every gateway of this JVM). */
  public static long frameBytesOffHeap() {
    return Frames.liveBytes();
  }

  /** Bytes of frames delivered by gRPC and not yet finished, across every stream. */
  public long readAheadBytes() {
    return readAhead.held();
  }

  public int connected() {
    return slots.connected();
  }

  /**
   * Answers an accepted Hello (call on the thread that owns stop state, after the core decided
   * the agent's desired state): registers the stream as the agent's current one (closing an
   * older one), sends the Welcome, and asks for the agent's next frame. False when the stream is
   * gone meanwhile.
   */
  public boolean welcome(long connectionId, dev.lockstep.proto.v1.StopState desired) {
    AgentSession session = slots.answer(connectionId);
    if (session == null || !session.isOpen()) return false;
    String id = session.agentId();
    // The Welcome is queued before the stream is findable by anyone else who sends to agents
    // (pins, stop resends): it is always the first frame an agent receives.
    long acked;
    try {
      acked = ackedSeq(id);
    } catch (RuntimeException e) {
      // never leave a Hello unanswered: the agent hears why and reconnects
      metrics.internalErrors.labelValues("gateway").inc();
      LOG.log(System.Logger.Level.ERROR, "welcome of agent " + id + ": " + e, e);
      session.close(Status.UNAVAILABLE.withDescription(
          "collector could not read agent " + id + "'s acked sequence: " + e.getMessage()));
      // never its agent's current stream, so its close did not tell the listener
      listener.disconnected(session);
      return false;
    }
    session.send(CollectorFrame.newBuilder().setWelcome(Welcome.newBuilder()
        .setStop(desired)
        .setAckedSeq(acked)
        .setMaxBatchEvents(MAX_BATCH_EVENTS)
        .setMaxFrameBytes(MAX_FRAME_BYTES)
        .setCollectorVersion(VERSION)).build());
    AgentSession previous = slots.welcomed(session);
    if (previous != null && previous != session) {
      previous.close(Status.ABORTED.withDescription(
          "replaced by a newer stream of agent " + id + " from " + session.remoteAddress()));
    }
    session.next();
    return true;
  }

  /** Refuses a Hello the core would not accept. */
  public void refuse(long connectionId, Status status, String reason) {
    AgentSession session = slots.answer(connectionId);
    if (session != null) reject(session, status, reason);
  }

  /** Ends every stream (collector shutdown). */
  public void closeAll() {
    for (AgentSession s : slots.currentStreams()) {
      s.close(Status.UNAVAILABLE.withDescription("collector shutting down"));
    }
  }

  private StreamObserver<java.nio.ByteBuffer> connect(StreamObserver<CollectorFrame> responseObserver) {
    ServerCallStreamObserver<CollectorFrame> out =
        (ServerCallStreamObserver<CollectorFrame>) responseObserver;
    Caller caller = Caller.current();
    AgentSession session = new AgentSession(out, caller.remoteAddress(), caller, clock.instant(),
        connections.incrementAndGet(), readAhead);
    SerialExecutor serial = new SerialExecutor(pool, urgentPool);
    boolean[] ended = {false};
    session.onClose(() -> {
      synchronized (ended) {
        if (ended[0]) return;
        ended[0] = true;
      }
      if (slots.release(session)) listener.disconnected(session);
    });
    out.disableAutoRequest();
    out.setOnReadyHandler(session::drain);
    out.setOnCancelHandler(session::markClosed);
    session.onFinished(() -> {
      try {
        serial.open();
      } catch (RejectedExecutionException e) {
        metrics.rejectedFrames.labelValues("overloaded").inc();
        session.close(Status.UNAVAILABLE.withDescription("collector overloaded, retry later"));
      }
    });
    StreamSlots.Refused refused = slots.open(session);
    if (refused != null) reject(session, refused.status(), refused.reason());
    session.start();
    return new StreamObserver<>() {
      @Override
      public void onNext(java.nio.ByteBuffer bytes) {
        // Its urgency, read from the wire bytes here (gRPC's callback thread), picks the pool it
        // waits in; that pool parses it (routine batches at the ingest threads' low priority).
        // Bytes the scan cannot walk are parsed here, as the parse then decides.
        session.delivered(bytes.remaining());
        int urgency = bytes.remaining() > MAX_FRAME_BYTES ? Urgency.UNKNOWN : Urgency.of(bytes);
        // A small urgent frame may be a stop ack: parsed here, so that it can be taken out of line.
        Parsed early = urgency == Urgency.UNKNOWN
            || (urgency == Urgency.URGENT && bytes.remaining() <= SMALL_URGENT_BYTES)
            ? parseAndFree(bytes) : null;
        if (early != null && early.frame() != null
            && early.frame().getFrameCase() == AgentFrame.FrameCase.STOP_ACK && session.hello() != null) {
          // A stop ack depends on nothing the agent sent before it (it acks a state the collector
          // issued), so it does not wait for the stream's earlier frames: taken on the urgent pool
          // now, without taking those frames along (1,000 acks after a stop under load would
          // otherwise bring every stream's routine backlog onto the urgent pool, ahead of the next
          // mismatch). Its place in the stream's order is kept by a task that only finishes it
          // (read-ahead and the gate count frames in order).
          stopAckOutOfLine(session, early.frame().getStopAck());
          submit(() -> session.begin().run(), false, true);
          return;
        }
        // Handled only once the frame before it is finished (the gate), though read early.
        submit(() -> {
          // parsed (and its buffer freed) whatever becomes of it: this task is the frame's owner
          Parsed parsed = early != null ? early : parseAndFree(bytes);
          Runnable done = session.begin();
          if (!session.isOpen()) {
            done.run();
            return;
          }
          handle(session, parsed, done);
        }, early != null ? early.urgent() : urgency == Urgency.URGENT, true);
      }

      @Override
      public void onError(Throwable t) {
        submit(session::markClosed, false, false);
      }

      @Override
      public void onCompleted() {
        // after the last frame is finished (its Ack sent), like every task of the stream
        submit(() -> session.close(Status.OK), false, false);
      }

      private void submit(Runnable task, boolean urgent, boolean gated) {
        try {
          serial.execute(() -> guarded(session, task), urgent, gated);
        } catch (RejectedExecutionException e) {
          metrics.rejectedFrames.labelValues("overloaded").inc();
          session.close(Status.UNAVAILABLE.withDescription("collector overloaded, retry later"));
        }
      }
    };
  }

  /**
   * Hands a stop ack to the listener on the urgent pool, one at a time per stream: one that
   * arrives while the stream's previous ack is still being taken replaces any other waiting one
   * (only the newest ack can still match the desired state; an agent sending acks in a loop holds
   * at most two).
   */
  private void stopAckOutOfLine(AgentSession session, StopAck ack) {
    switch (session.offerAck(ack)) {
      case AgentSession.ACK_TAKE -> takeStopAck(session, ack);
      case AgentSession.ACK_REPLACED_ONE -> metrics.stopAcksCoalesced.inc();
      default -> { }
    }
  }

  private void takeStopAck(AgentSession session, StopAck ack) {
    try {
      // taken even if the stream has closed since: the agent sent it on its welcomed stream
      urgentPool.execute(() -> guarded(session, () -> {
        java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
        listener.stopAck(session, ack, () -> {
          if (!once.compareAndSet(false, true)) return;
          StopAck next = session.nextAck();
          if (next != null) takeStopAck(session, next);
        });
      }));
    } catch (RejectedExecutionException e) {
      metrics.rejectedFrames.labelValues("overloaded").inc();
      session.close(Status.UNAVAILABLE.withDescription("collector overloaded, retry later"));
    }
  }

  /**
   * Runs one of {@code session}'s tasks; if it throws, the stream ends with the reason (its agent
   * reconnects, resends what is not acked and acks again), and an Error (out of memory, a stack
   * overflow) still reaches the thread's handler.
   */
  private void guarded(AgentSession session, Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      metrics.internalErrors.labelValues("gateway").inc();
      LOG.log(System.Logger.Level.ERROR, "agent stream " + session.agentId() + ": " + e, e);
      session.close(Status.INTERNAL.withDescription("collector error: " + e.getMessage()));
    } catch (Error e) {
      try {
        session.close(Status.INTERNAL.withDescription("collector error: " + e));
        metrics.internalErrors.labelValues("gateway").inc();
      } catch (RuntimeException closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
  }

  private void reject(AgentSession session, Status status, String reason) {
    metrics.rejectedFrames.labelValues(reason).inc();
    String id = session.agentId().isEmpty() ? "(no Hello accepted)" : session.agentId();
    warnThrottled(reason, () -> "closing agent stream " + id + " from " + session.remoteAddress()
        + ": " + status.getCode() + " " + status.getDescription(),
        "streams refused as " + reason, "; see lockstep_gateway_rejected_frames");
    session.close(status);
  }

  /**
   * Logs {@code line} unless a line of {@code kind} was logged in the last {@link
   * #REFUSAL_LOG_EVERY}; the next one logged says how many of {@code what} were not.
   */
  private void warnThrottled(String kind, java.util.function.Supplier<String> line, String what,
      String see) {
    long held = throttles.computeIfAbsent(kind, k -> new LogThrottle(clock, REFUSAL_LOG_EVERY)).pass();
    if (held < 0) return;
    LOG.log(System.Logger.Level.WARNING, line.get() + (held == 0 ? "" : " (and " + held + " more "
        + what + " in the last " + REFUSAL_LOG_EVERY.toSeconds() + " s, not logged" + see + ")"));
  }

  /** A frame as received: parsed, or why not. */
  private record Parsed(int bytes, AgentFrame frame, String problem) {
    /** Whether it can stop the fleet or confirms a stop: handled ahead of routine batches. */
    boolean urgent() {
      if (frame == null) return false;
      return switch (frame.getFrameCase()) {
        case STOP_ACK -> true;
        case EVENTS -> decisive(frame.getEvents());
        default -> false;
      };
    }
  }

  /** Whether a batch holds a decisive event, or is marked as leading to one. */
  private static boolean decisive(EventBatch batch) {
    if (batch.getLeadsToDecisive()) return true;
    for (Event e : batch.getEventsList()) {
      if (dev.lockstep.collector.core.Lane.of(e) == dev.lockstep.collector.core.Lane.DECISIVE) return true;
    }
    return false;
  }

  /** Parses a frame (the parse copies every field out of it), then frees its buffer. */
  private static Parsed parseAndFree(java.nio.ByteBuffer bytes) {
    int n = bytes.remaining();
    try {
      if (n > MAX_FRAME_BYTES) return new Parsed(n, null, null);
      return new Parsed(n, AgentFrame.parseFrom(bytes.duplicate()), null);
    } catch (InvalidProtocolBufferException e) {
      return new Parsed(n, null, e.getMessage());
    } finally {
      Frames.free(bytes);
    }
  }

  /** Handles one frame; {@code done} finishes it (at once, or when its asynchronous end comes). */
  private void handle(AgentSession session, Parsed parsed, Runnable done) {
    if (parsed.bytes() > MAX_FRAME_BYTES) {
      reject(session, Status.RESOURCE_EXHAUSTED.withDescription("frame of " + parsed.bytes()
          + " bytes exceeds the limit of " + MAX_FRAME_BYTES + " bytes (Welcome.max_frame_bytes)"),
          "oversized");
      return;
    }
    if (parsed.frame() == null) {
      reject(session, Status.INVALID_ARGUMENT.withDescription(
          "frame of " + parsed.bytes() + " bytes is not a valid AgentFrame: " + parsed.problem()),
          "garbage");
      return;
    }
    AgentFrame frame = parsed.frame();
    session.seen(clock.instant());
    if (session.hello() == null) {
      if (frame.getFrameCase() != AgentFrame.FrameCase.HELLO) {
        reject(session, Status.INVALID_ARGUMENT.withDescription(
            "the first frame must be Hello, got " + frame.getFrameCase()), "no_hello");
        return;
      }
      hello(session, frame.getHello());
      return;
    }
    switch (frame.getFrameCase()) {
      case HELLO -> reject(session,
          Status.INVALID_ARGUMENT.withDescription("Hello sent twice on one stream"), "hello_twice");
      case EVENTS -> events(session, frame.getEvents(), done);
      case STOP_ACK -> listener.stopAck(session, frame.getStopAck(), done);
      case EVIDENCE -> listener.evidence(session, frame.getEvidence(), done);
      default -> reject(session,
          Status.INVALID_ARGUMENT.withDescription("empty AgentFrame"), "empty");
    }
  }

  private void hello(AgentSession session, Hello hello) {
    String id = hello.getAgentId();
    if (!AGENT_ID.matcher(id).matches()) {
      reject(session, Status.INVALID_ARGUMENT.withDescription(
          "Hello.agent_id must match " + AGENT_ID.pattern() + ", got '"
              + StopRules.bound(id, SHOWN_AGENT_ID) + "'"), "bad_hello");
      return;
    }
    Status allowed = authorizer.requireAgent(session.caller(), "Connect", id);
    if (!allowed.isOk()) {
      metrics.refusedCalls.labelValues("Connect").inc();
      reject(session, allowed, "identity");
      return;
    }
    if (hello.getEnactedStop().getOrdersCount() > MAX_HELLO_ORDERS) {
      reject(session, Status.INVALID_ARGUMENT.withDescription("Hello.enacted_stop names "
          + hello.getEnactedStop().getOrdersCount() + " orders; at most " + MAX_HELLO_ORDERS),
          "bad_hello");
      return;
    }
    Hello.Builder kept = hello.toBuilder()
        .setHostname(StopRules.bound(hello.getHostname(), MAX_HELLO_TEXT))
        .setVersion(StopRules.bound(hello.getVersion(), MAX_HELLO_TEXT));
    List<String> over = LabelLimits.over(hello.getLabelsMap());
    if (!over.isEmpty()) {
      // bounded, never refused: an agent that cannot connect cannot be stopped
      kept.clearLabels().putAllLabels(HelloLabels.bound(hello.getLabelsMap()));
      warnThrottled("bounded_labels", () -> "agent " + id + ": Hello." + over.get(0)
          + (over.size() == 1 ? "" : " (and " + (over.size() - 1) + " more over the limits)")
          + "; docs/protocol.md, section 11", "Hellos with labels over the limits", "");
    }
    session.bucket(buckets.get(id));
    session.byteBucket(byteBuckets.get(id));
    session.hello(kept.build());
    StreamSlots.Refused refused = slots.greet(session);
    if (refused != null) {
      reject(session, refused.status(), refused.reason());
      return;
    }
    listener.hello(session);
  }

  private void events(AgentSession session, EventBatch batch, Runnable done) {
    // descriptive text cut before it is stored or forwarded (EventBounds: cut, never refused)
    List<Event> events = EventBounds.cut(new ArrayList<>(batch.getEventsList()));
    Optional<String> problem = EventRules.batchProblem(events, MAX_BATCH_EVENTS);
    if (problem.isPresent()) {
      reject(session, Status.INVALID_ARGUMENT.withDescription(problem.get()), "bad_event");
      return;
    }
    if (!session.bucket().take(events.size())) {
      reject(session, Status.RESOURCE_EXHAUSTED.withDescription("agent " + session.agentId()
          + " sends more than " + session.bucket().perSecond() + " events/s"
          + " (agents.max_events_per_second); batch not stored, resend after reconnecting"),
          "rate_limited");
      return;
    }
    int bytes = batch.getSerializedSize();
    if (!session.byteBucket().take(bytes)) {
      reject(session, Status.RESOURCE_EXHAUSTED.withDescription("agent " + session.agentId()
          + " sends more than " + (session.byteBucket().perSecond() >> 20) + " MiB/s of events"
          + " (agents.max_event_mb_per_second; this batch: " + bytes + " bytes); batch not stored,"
          + " resend after reconnecting"), "rate_limited_bytes");
      return;
    }
    dev.lockstep.collector.store.StoreSpace sp = space;
    if (batch.getBackoffId() < session.backoffsSent()) {
      // sent before the agent saw our latest Backoff: storing it would skip the refused events
      // ahead of it; the agent resends everything after that Backoff's resend_after_seq
      if (System.nanoTime() - session.lastBackoffNanos() > TimeUnit.MILLISECONDS.toNanos(2L * BACKOFF_MILLIS)) {
        // long after the Backoff: a client that does not act on Backoffs. Reconnecting makes it
        // resend from Welcome.acked_seq, which every client does.
        reject(session, Status.UNAVAILABLE.withDescription("EventBatch.backoff_id " + batch.getBackoffId()
            + " does not echo Backoff " + session.backoffsSent() + " sent "
            + (System.nanoTime() - session.lastBackoffNanos()) / 1_000_000 + " ms ago; batch not"
            + " stored: reconnect and resend after Welcome.acked_seq"), "backoff_ignored");
        return;
      }
      metrics.rejectedFrames.labelValues("before_backoff").inc();
      done.run();
      return;
    }
    BatchSink s = sink;
    if (s != null) {
      String hold = s.holdRoutine();
      if (hold != null && !decisive(batch)) {
        backoff(session, hold, "core_behind", CORE_BEHIND_RETRY_MILLIS, true, done);
        return;
      }
      long started = System.nanoTime();
      s.take(session, events, new Outcome() {
        @Override
        public void acked(long uptoSeq) {
          metrics.batchWriteSeconds.observe((System.nanoTime() - started) / 1e9);
          metrics.batchesIngested.inc();
          session.send(CollectorFrame.newBuilder().setAck(Ack.newBuilder().setUptoSeq(uptoSeq)).build());
          done.run();
        }

        @Override
        public void backoff(String reason) {
          AgentGateway.this.backoff(session, reason, "kafka_failed", BACKOFF_MILLIS, false, done);
        }
      });
      return;
    }
    if (sp != null) sp.refresh();
    if (sp != null && !sp.takesRoutine()) {
      // flood stage: only batches that hold, or lead to, a decisive event; FAILED: none
      if (!sp.writable() || !decisive(batch)) {
        backoff(session, sp.health().detail(), sp.writable() ? "store_flood" : "store_failed",
            BACKOFF_MILLIS, sp.writable(), done);
        return;
      }
    }
    long started = System.nanoTime();
    long ingestedAt = store.ingestMillis(clock.millis());
    Store.IngestResult result;
    listener.storing(ingestedAt);
    boolean[] handedOver = {false};
    try {
      result = store.ingest(session.agentId(), events, ingestedAt, r -> {
        if (!r.stored().isEmpty()) {
          handedOver[0] = true;
          listener.stored(session, r.stored(), ingestedAt, done);
        }
      });
    } catch (IOException | RuntimeException e) {
      if (!handedOver[0]) listener.notStored(ingestedAt);
      metrics.internalErrors.labelValues("store").inc();
      if (sp != null) sp.writeFailed(e);
      backoff(session, "the collector could not store the batch (" + e.getMessage() + ")",
          "store_failed", BACKOFF_MILLIS, false, done);
      return;
    }
    if (result.refusal() != null) {
      listener.notStored(ingestedAt);
      reject(session, Status.INVALID_ARGUMENT.withDescription(result.refusal()), "bad_seq");
      return;
    }
    metrics.batchWriteSeconds.observe((System.nanoTime() - started) / 1e9);
    metrics.batchesIngested.inc();
    metrics.eventsIngested.inc(result.stored().size());
    if (result.duplicates() > 0) metrics.duplicatesDropped.inc(result.duplicates());
    session.send(CollectorFrame.newBuilder()
        .setAck(Ack.newBuilder().setUptoSeq(result.highWaterMark())).build());
    if (!handedOver[0]) {
      listener.notStored(ingestedAt);
      done.run();
    }
  }

  /**
   * Keeps the stream (stop commands must still reach the agent) and tells the agent to send its
   * events again later: nothing of this batch was stored or acked.
   */
  private void backoff(AgentSession session, String reason, String metric, int retryMillis,
      boolean decisiveTaken, Runnable done) {
    metrics.rejectedFrames.labelValues(metric).inc();
    session.send(CollectorFrame.newBuilder().setBackoff(dev.lockstep.proto.v1.Backoff.newBuilder()
        .setId(session.nextBackoffId())
        .setResendAfterSeq(ackedSeq(session.agentId())).setRetryAfterMs(retryMillis)
        .setReason(reason).setDecisiveTaken(decisiveTaken)).build());
    done.run();
  }

  /** How long an agent waits after a Backoff before it sends events again. */
  static final int BACKOFF_MILLIS = 5_000;
  /** The same while the cluster's core works through its backlog: a second or two, usually. */
  static final int CORE_BEHIND_RETRY_MILLIS = 1_000;
}
