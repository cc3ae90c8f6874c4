package dev.lockstep.agent.uplink;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.internal.Text;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.agent.spool.Spool;
import dev.lockstep.proto.lite.v1.Ack;
import dev.lockstep.proto.lite.v1.AgentFrame;
import dev.lockstep.proto.lite.v1.CaptureRequest;
import dev.lockstep.proto.lite.v1.CollectorFrame;
import dev.lockstep.proto.lite.v1.Hello;
import dev.lockstep.proto.lite.v1.Pins;
import dev.lockstep.proto.lite.v1.StopState;
import dev.lockstep.proto.lite.v1.Welcome;
import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.ConnectivityState;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import dev.lockstep.security.SecuritySetupException;
import dev.lockstep.security.Tls;
import dev.lockstep.security.TlsFiles;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The agent's one bidirectional stream to the collector. Sends Hello, then every spooled event
 * above the collector's acked seq in batches, plus direct frames (stop acks, evidence); applies
 * acks to the spool; hands welcome/stop/capture/pins to its {@link Handler}. Reconnects with
 * backoff (initial ×1.6, ±20 % jitter, capped; reset after a Welcome).
 *
 * <p>Threading: every callback and every send runs on one uplink thread (the channel's executor),
 * so stream state needs no locks; other threads only post tasks. Flow control: frames are written
 * only while the call {@code isReady()}, and at most {@link #MAX_INFLIGHT_BATCHES} batches are in
 * flight unacked.
 */
public final class Uplink implements AutoCloseable {
  /**
   * How far above the collector's acked seq a spool that lost its state numbers its events: more
   * than a collector could have acked before its mark reached Kafka (agents send at most 4 batches
   * of 500 unacked). Seqs are 64-bit; a gap costs the collector one ledger entry.
   */
  public static final long REBASE_GAP = 1L << 20;
  /** The random part of a rebase's offset (2^32: 2^31 rebases fit below 2^63). */
  public static final long REBASE_SPREAD = 1L << 32;

  private static final System.Logger LOG = System.getLogger(Uplink.class.getName());
  static final int MAX_BATCH_EVENTS = 500;
  static final int MAX_FRAME_BYTES = 4 * 1024 * 1024;
  static final int MAX_INFLIGHT_BATCHES = 8;

  /** What the agent does with collector frames. Called on the uplink thread; must not block. */
  public interface Handler {
    void welcomed(Welcome welcome);

    void stopCommand(StopState state);

    void capture(CaptureRequest request);

    void pins(Pins pins);

    void disconnected();
  }

  private final AgentConfig.Collector config;
  private final Spool spool;
  private final AgentMetrics metrics;
  private final Supplier<Hello> hello;
  private final Handler handler;
  private final Consumer<String> progress;
  private final ScheduledExecutorService executor;
  private final EventLoopGroup eventLoop;
  // name resolution (a DNS lookup of a collector's host name blocks): gRPC's default is its shared
  // cached pool, whose guava ThreadFactoryBuilder formats "grpc-default-executor-%d" with
  // Locale.ROOT and so loads the JDK's locale data into the agent for good; this one is the same
  // kind of pool (threads made on demand, gone after 60 s idle) with a plain name
  private final ThreadPoolExecutor offload;
  // one channel per collector address; a new stream goes to the next after one ends
  private final List<String> targets;
  private final ManagedChannel[] channels;
  private int current;
  private ManagedChannel channel;
  private final ArrayDeque<AgentFrame> direct = new ArrayDeque<>();
  private final ArrayDeque<Iterator<AgentFrame>> streams = new ArrayDeque<>();

  // uplink-thread state
  private ClientCallStreamObserver<Frame> call;
  private int generation;
  private boolean welcomed;
  private long sentUpTo;
  private int maxBatchEvents = MAX_BATCH_EVENTS;
  private int maxFrameBytes = MAX_FRAME_BYTES;
  private Duration nextBackoff;
  private ScheduledFuture<?> reconnect;
  private boolean everConnected;
  private boolean closed;
  private boolean preferEvents;
  private boolean firstWelcome = true;
  private long eventsPausedUntilNanos;
  private static final long HOLD_LOG_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
  private long holdLoggedNanos;
  /** Holds asked for since the last line about them; -1 before the first. */
  private long holdsUnlogged = -1;
  // the collector's flood stage: while paused, batches up to a decisive event still go
  private boolean decisiveTaken;
  // the latest Backoff's id on this stream, echoed in every batch
  private long lastBackoffId;

  private volatile boolean connected;

  public Uplink(AgentConfig.Collector config, Spool spool, AgentMetrics metrics, Supplier<Hello> hello,
      Handler handler, Consumer<String> progress) throws IOException {
    this.config = config;
    this.spool = spool;
    this.metrics = metrics;
    this.hello = hello;
    this.handler = handler;
    this.progress = progress;
    this.nextBackoff = config.reconnectInitial();
    ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "lockstep-uplink");
      t.setDaemon(true);
      return t;
    });
    ex.setRemoveOnCancelPolicy(true);
    this.executor = ex;
    this.eventLoop = new MultiThreadIoEventLoopGroup(1, r -> {
      Thread t = new Thread(r, "lockstep-uplink-io");
      t.setDaemon(true);
      return t;
    }, NioIoHandler.newFactory());
    this.offload = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
        new SynchronousQueue<>(), r -> {
          Thread t = new Thread(r, "lockstep-uplink-resolve");
          t.setDaemon(true);
          return t;
        });
    this.targets = config.targets().isEmpty() ? List.of(config.target()) : config.targets();
    this.channels = new ManagedChannel[targets.size()];
    ChannelCredentials credentials = credentials(config, executor);
    for (int i = 0; i < channels.length; i++) {
      channels[i] = NettyChannelBuilder.forTarget(targets.get(i), credentials)
          .eventLoopGroup(eventLoop)
          .channelType(NioSocketChannel.class)
          .executor(executor)
          .offloadExecutor(offload)
          .keepAliveTime(30, TimeUnit.SECONDS)
          .keepAliveTimeout(10, TimeUnit.SECONDS)
          .keepAliveWithoutCalls(true)
          .maxInboundMessageSize(MAX_FRAME_BYTES)
          .build();
    }
    this.channel = channels[0];
  }

  /**
   * Plaintext only with {@code insecure}; otherwise mTLS from the three PEM files, re-read every
   * minute on the uplink thread so rotated certificates are used for the next connection.
   */
  private static ChannelCredentials credentials(AgentConfig.Collector c,
      ScheduledExecutorService reloader) throws IOException {
    if (c.insecure()) {
      return InsecureChannelCredentials.create();
    }
    try {
      return Tls.channelCredentials(new TlsFiles(c.caFile(), c.certFile(), c.keyFile()), reloader,
          Duration.ofMinutes(1));
    } catch (SecuritySetupException | NullPointerException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  public void start() {
    executor.execute(this::connect);
    spool.onAppend(this::wake);
  }

  /** Something new is in the spool. Any thread. */
  public void wake() {
    post(this::pump);
  }

  /** Queues a frame sent ahead of events (stop acks). Dropped if the stream breaks. Any thread. */
  public void sendDirect(AgentFrame frame) {
    post(() -> {
      direct.add(frame);
      pump();
    });
  }

  /** Queues a lazily produced frame sequence (evidence), pulled only while the stream is ready. */
  public void sendStream(Iterator<AgentFrame> frames) {
    post(() -> {
      streams.add(frames);
      pump();
    });
  }

  public boolean isConnected() {
    return connected;
  }

  private void post(Runnable r) {
    try {
      executor.execute(r);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
  }

  private void connect() {
    if (closed) {
      return;
    }
    reconnect = null;
    if (everConnected || generation > 0) {
      metrics.reconnects.inc();
    }
    channel = channels[current];
    if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
      channel.resetConnectBackoff();
    }
    int gen = ++generation;
    welcomed = false;
    ClientCalls.asyncBidiStreamingCall(channel.newCall(Frame.CONNECT, CallOptions.DEFAULT),
        new ClientResponseObserver<Frame, CollectorFrame>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<Frame> requestStream) {
        call = requestStream;
        requestStream.setOnReadyHandler(() -> {
          if (gen == generation) {
            pump();
          }
        });
      }

      @Override
      public void onNext(CollectorFrame frame) {
        if (gen == generation) {
          receive(frame);
        }
      }

      @Override
      public void onError(Throwable t) {
        if (gen == generation) {
          Status status = Status.fromThrowable(t);
          broken(status.getCode() == Status.Code.UNAVAILABLE
              ? Tls.explain(status, targets.get(current), config.insecure())
              : status.getCode() + " " + shortDescription(t));
        }
      }

      @Override
      public void onCompleted() {
        if (gen == generation) {
          broken("collector closed the stream");
        }
      }
    });
    call.onNext(Frame.of(AgentFrame.newBuilder().setHello(hello.get()).build()));
  }

  private static String shortDescription(Throwable t) {
    String d = Status.fromThrowable(t).getDescription();
    return d == null ? "" : d.lines().findFirst().orElse("");
  }

  private void receive(CollectorFrame frame) {
    try {
      switch (frame.getFrameCase()) {
        case WELCOME -> welcome(frame.getWelcome());
        case ACK -> ack(frame.getAck());
        case STOP -> handler.stopCommand(frame.getStop().getState());
        case CAPTURE -> handler.capture(frame.getCapture());
        case PINS -> handler.pins(frame.getPins());
        case BACKOFF -> backoff(frame.getBackoff());
        default -> { }
      }
    } catch (IOException | RuntimeException e) {
      metrics.errors.labelValues("uplink").inc();
      LOG.log(System.Logger.Level.ERROR, "uplink: handling " + frame.getFrameCase() + " failed: " + e);
    }
  }

  private void welcome(Welcome w) throws IOException {
    welcomed = true;
    eventsPausedUntilNanos = 0;
    decisiveTaken = false;
    lastBackoffId = 0;
    connected = true;
    everConnected = true;
    nextBackoff = config.reconnectInitial();
    metrics.connected.set(1);
    boolean stateLost = firstWelcome && spool.startedEmpty() && w.getAckedSeq() > 0;
    firstWelcome = false;
    if (stateLost || w.getAckedSeq() > spool.lastSeq()) {
      // the collector holds seqs this spool did not assign (state dir wiped or replaced): go on
      // well above what it says it holds, since in cluster mode that is its acked mark, which may
      // lag the truth; events numbered right above a lagging mark would be taken as ones the
      // core already processed, and dropped without a word
      // (plus a random offset: if the mark still lags at a second wipe, the new seqs must not be
      // the ones the first wipe took)
      spool.rebaseAbove(w.getAckedSeq() + REBASE_GAP
          + java.util.concurrent.ThreadLocalRandom.current().nextLong(REBASE_SPREAD));
    } else if (w.getAckedSeq() > spool.lastAckedSeq()) {
      spool.ackUpTo(w.getAckedSeq());
    }
    sentUpTo = Math.max(spool.lastAckedSeq(), w.getAckedSeq());
    maxBatchEvents = w.getMaxBatchEvents() > 0 ? Math.min(w.getMaxBatchEvents(), MAX_BATCH_EVENTS) : MAX_BATCH_EVENTS;
    maxFrameBytes = w.getMaxFrameBytes() > 0 ? Math.min(w.getMaxFrameBytes(), MAX_FRAME_BYTES) : MAX_FRAME_BYTES;
    progress.accept("connected to " + targets.get(current) + " (collector holds seq " + w.getAckedSeq()
        + ", spool up to " + spool.lastSeq() + "; stop generation " + w.getStop().getGeneration() + " "
        + (w.getStop().getMode().name()) + ")");
    handler.welcomed(w);
    pump();
  }

  /**
   * The collector did not store our latest events (its disk is full): keep them, send no events
   * for a while, then resend from what it holds. The stream stays, so stops still arrive.
   */
  private void backoff(dev.lockstep.proto.lite.v1.Backoff b) throws IOException {
    long held = b.getResendAfterSeq();
    if (held > spool.lastAckedSeq() && held <= spool.lastSeq()) spool.ackUpTo(held);
    sentUpTo = spool.lastAckedSeq();
    long millis = Math.max(100, Math.min(b.getRetryAfterMs(), 300_000));
    long now = System.nanoTime();
    eventsPausedUntilNanos = now + TimeUnit.MILLISECONDS.toNanos(millis);
    decisiveTaken = b.getDecisiveTaken();
    lastBackoffId = Math.max(lastBackoffId, b.getId());
    metrics.backoffs.inc();
    // once a minute at most: a cluster holding routine events asks again every second while its
    // core catches up (a fail-over: a minute of it), and a line per ask buries the log
    if (holdsUnlogged < 0 || now - holdLoggedNanos >= HOLD_LOG_EVERY_NANOS) {
      progress.accept("collector asked to hold events for " + millis + " ms: " + b.getReason()
          + (decisiveTaken ? " (they stay in the spool; golden reports still go)" : " (they stay in the spool)")
          + (holdsUnlogged > 0 ? "; asked " + holdsUnlogged + " more times since the last such line" : ""));
      holdLoggedNanos = now;
      holdsUnlogged = 0;
    } else {
      holdsUnlogged++;
    }
    executor.schedule(this::resumeEvents, millis, TimeUnit.MILLISECONDS);
    pump();
  }

  private void resumeEvents() {
    if (eventsPausedUntilNanos != 0 && System.nanoTime() >= eventsPausedUntilNanos) {
      eventsPausedUntilNanos = 0;
      pump();
    }
  }

  private void ack(Ack a) throws IOException {
    spool.ackUpTo(a.getUptoSeq());
    pump();
  }

  private void broken(String why) {
    boolean was = connected;
    connected = false;
    welcomed = false;
    metrics.connected.set(0);
    if (call != null) {
      try {
        call.onCompleted();
      } catch (RuntimeException e) {
        // the call is already gone
      }
    }
    call = null;
    direct.clear();
    closeStreams();
    if (closed) {
      return;
    }
    if (was) {
      handler.disconnected();
    }
    long base = nextBackoff.toMillis();
    long delay = (long) (base * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
    nextBackoff = Duration.ofMillis(Math.min((long) (base * 1.6), config.reconnectMax().toMillis()));
    String from = targets.get(current);
    current = (current + 1) % channels.length;
    progress.accept((was ? "disconnected from " : "cannot reach collector ") + from + " ("
        + why.trim() + "); retrying " + (channels.length > 1 ? targets.get(current) + " " : "")
        + "in " + Text.oneDecimal(delay / 1000.0) + " s");
    reconnect = executor.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
  }

  private void closeStreams() {
    for (Iterator<AgentFrame> s : streams) {
      if (s instanceof AutoCloseable c) {
        try {
          c.close();
        } catch (Exception e) {
          // dropped anyway
        }
      }
    }
    streams.clear();
  }

  private void pump() {
    if (call == null || !welcomed || closed) {
      return;
    }
    try {
      while (call.isReady()) {
        if (!direct.isEmpty()) {
          call.onNext(Frame.of(direct.poll()));
          continue;
        }
        boolean sentEvents = false;
        boolean triedEvents = preferEvents || streams.isEmpty();
        if (triedEvents) {
          sentEvents = sendEventBatch();
          preferEvents = false;
          if (sentEvents) {
            continue;
          }
        }
        // the first stream with a frame at hand: evidence is read on its own thread (which wakes
        // us), and one stuck reading a file holds up neither events nor other answers
        Iterator<AgentFrame> s = null;
        for (Iterator<AgentFrame> c : streams) {
          if (!(c instanceof dev.lockstep.agent.evidence.Prefetch p) || p.ready()) {
            s = c;
            break;
          }
        }
        if (s == null && !streams.isEmpty()) {
          if (!triedEvents && sendEventBatch()) {
            continue;
          }
          break;
        }
        if (s != null) {
          preferEvents = true;
          if (s.hasNext()) {
            call.onNext(Frame.of(s.next()));
          } else {
            streams.remove(s);
          }
          continue;
        }
        if (!sentEvents) {
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      metrics.errors.labelValues("uplink").inc();
      LOG.log(System.Logger.Level.ERROR, "uplink: sending failed: " + e);
      if (call != null) {
        call.cancel("agent send failure", e);
      }
    }
  }

  private boolean sendEventBatch() throws IOException {
    long upTo = Long.MAX_VALUE;
    if (eventsPausedUntilNanos != 0) {
      // held back by the collector; at its flood stage, everything up to a decisive event still goes
      upTo = decisiveTaken ? spool.lastDecisiveSeq() : 0;
      if (upTo <= sentUpTo) {
        return false;
      }
    }
    if (sentUpTo - spool.lastAckedSeq() >= (long) MAX_INFLIGHT_BATCHES * maxBatchEvents) {
      return false;
    }
    List<Spool.Record> batch = spool.readAfter(sentUpTo, maxBatchEvents, maxFrameBytes - 64 * 1024);
    if (upTo != Long.MAX_VALUE) {
      int keep = 0;
      while (keep < batch.size() && batch.get(keep).seq() <= upTo) keep++;
      batch = batch.subList(0, keep);
    }
    if (batch.isEmpty()) {
      return false;
    }
    call.onNext(Frame.batch(batch, upTo != Long.MAX_VALUE, lastBackoffId));
    sentUpTo = batch.get(batch.size() - 1).seq();
    metrics.eventsSent.inc(batch.size());
    return true;
  }

  @Override
  public void close() {
    try {
      executor.submit(() -> {
        closed = true;
        connected = false;
        closeStreams();
        if (reconnect != null) {
          reconnect.cancel(false);
        }
        if (call != null) {
          try {
            call.onCompleted();
          } catch (RuntimeException e) {
            // already gone
          }
          call = null;
        }
      }).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // fall through to a hard shutdown
    }
    for (ManagedChannel c : channels) c.shutdown();
    try {
      for (ManagedChannel c : channels) {
        if (!c.awaitTermination(2, TimeUnit.SECONDS)) {
          c.shutdownNow();
          c.awaitTermination(2, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      for (ManagedChannel c : channels) c.shutdownNow();
    }
    executor.shutdownNow();
    offload.shutdownNow();
    eventLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
  }
}
