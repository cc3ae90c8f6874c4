package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.collector.gateway.AgentSession;
import dev.lockstep.collector.gateway.GatewayListener;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.security.IdentityInterceptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Frames that can stop the fleet, and stop acks, do not wait for an ingest thread: with every
 * ingest thread busy (here: held by a latch, as a long fsync would), a golden report is still
 * stored and handed on, and a stop ack still taken, while routine batches wait their turn.
 */
class UrgentFramesTest {
  @TempDir Path dir;
  final CountDownLatch ingestBusy = new CountDownLatch(1);
  final ExecutorService ingest = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-ingest"));
  final ExecutorService urgent = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-urgent"));
  final ExecutorService core = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-core"));
  /** Per agent: the name of the thread that handed each kind of frame on. */
  final Map<String, String> handledOn = new ConcurrentHashMap<>();
  final java.util.Set<String> disconnected = ConcurrentHashMap.newKeySet();
  /** The generations of the stop acks handed on, in order. */
  final List<Long> acksTaken = new java.util.concurrent.CopyOnWriteArrayList<>();
  volatile boolean holdFirstAck;
  final java.util.concurrent.CompletableFuture<Runnable> heldAck = new java.util.concurrent.CompletableFuture<>();
  final CollectorMetrics metrics = new CollectorMetrics();
  Store store;
  AgentGateway gateway;
  Server server;

  @BeforeEach
  void start() throws Exception {
    store = Store.open(dir.resolve("db"), false, 8 << 20, 8 << 20);
    gateway = new AgentGateway(store, new GatewayListener() {
      @Override
      public void hello(AgentSession session) {
        // as the collector does: the core thread welcomes, and an effect that throws is logged
        core.execute(() -> {
          try {
            gateway.welcome(session.connectionId(), StopState.newBuilder().setGeneration(1)
                .setMode(StopMode.RUNNING).build());
          } catch (RuntimeException e) {
            // logged by the effect runner; the stream must not be left waiting
          }
        });
      }

      @Override
      public void stored(AgentSession session, List<Event> events, long at, Runnable next) {
        String kind = events.get(0).hasGolden() ? "golden" : "routine";
        handledOn.put(session.agentId() + "/" + kind, Thread.currentThread().getName());
        next.run();
      }

      @Override
      public void stopAck(AgentSession session, StopAck ack, Runnable next) {
        handledOn.put(session.agentId() + "/ack", Thread.currentThread().getName());
        acksTaken.add(ack.getGeneration());
        if (holdFirstAck && acksTaken.size() == 1) {
          heldAck.complete(next); // the core is slow to take this one
          return;
        }
        next.run();
      }

      @Override
      public void evidence(AgentSession session, EvidenceChunk chunk, Runnable next) {
        next.run();
      }

      @Override
      public void disconnected(AgentSession session) {
        disconnected.add(session.agentId());
      }
    }, ingest, metrics, Clock.systemUTC());
    gateway.urgentPool(urgent);
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(gateway.service(), IdentityInterceptor.insecure()))
        .build().start();
  }

  @AfterEach
  void stop() throws Exception {
    ingestBusy.countDown();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    ingest.shutdownNow();
    urgent.shutdownNow();
    core.shutdownNow();
    // before the store closes: a frame still being stored would write to a closed RocksDB
    for (ExecutorService e : List.of(ingest, urgent, core)) e.awaitTermination(30, TimeUnit.SECONDS);
    store.close();
  }

  /** Takes every ingest thread until the test ends (or ingestBusy is counted down). */
  void occupyTheIngestThread() {
    ingest.execute(() -> {
      try {
        ingestBusy.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }

  @Test
  void aGoldenReportAndAStopAckOvertakeRoutineBatchesWhileEveryIngestThreadIsBusy() {
    RawAgent routine = RawAgent.connect(server.getPort(), "host-routine");
    RawAgent decisive = RawAgent.connect(server.getPort(), "host-decisive");
    routine.await("welcome", f -> f.hasWelcome());
    decisive.await("welcome", f -> f.hasWelcome());
    occupyTheIngestThread(); // as a long fsync would
    routine.events(GatewayTest.notice(1));
    decisive.report(Goldens.report("run-1", "wf", "primary", "a"));
    decisive.await("the golden report acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 1);
    assertThat(handledOn).containsEntry("host-decisive/golden", "test-urgent");
    decisive.send(AgentFrame.newBuilder().setStopAck(StopAck.newBuilder().setGeneration(1)
        .setMode(StopMode.RUNNING).setEnacted(true).setVerified(true)).build());
    Eventually.await(Duration.ofSeconds(10), "the stop ack handed on",
        () -> handledOn.containsKey("host-decisive/ack"));
    assertThat(handledOn).containsEntry("host-decisive/ack", "test-urgent");

    // routine work runs on the ingest threads once they are free, never on the urgent one
    ingestBusy.countDown();
    routine.await("the routine batch acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 1);
    assertThat(handledOn).containsEntry("host-routine/routine", "test-ingest");
    decisive.events(GatewayTest.notice(2));
    decisive.await("a routine batch after the golden acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 2);
    assertThat(handledOn).containsEntry("host-decisive/routine", "test-ingest");
  }

  @Test
  void aGoldenReportSentBehindRoutineBatchesIsHandledWithThemOnTheUrgentPool() {
    RawAgent a = RawAgent.connect(server.getPort(), "host-window");
    a.await("welcome", f -> f.hasWelcome());
    occupyTheIngestThread(); // as a long fsync, or other streams' backlog, would
    // an agent's window: routine batches sent before its golden report existed, then the report
    a.events(GatewayTest.notice(1));
    a.events(GatewayTest.notice(2));
    a.events(GatewayTest.notice(3));
    a.seq(3);
    a.report(Goldens.report("run-1", "wf", "primary", "a"));
    // Without read-ahead the report stays in the transport until the routine batches ahead of it
    // were handled, which waits for the busy ingest thread: this ack would never come.
    a.await("everything up to the golden report acked while the ingest thread is still busy",
        f -> f.hasAck() && f.getAck().getUptoSeq() == 4);
    assertThat(handledOn).containsEntry("host-window/golden", "test-urgent")
        .containsEntry("host-window/routine", "test-urgent");
    assertThat(ingestBusy.getCount()).as("the ingest thread was busy throughout").isEqualTo(1);
  }

  /**
   * A stop ack acks a state the collector issued, so it depends on nothing its agent sent before
   * it: it is taken at once, without the routine batches ahead of it in its stream. Were it
   * drained in order on the urgent pool, every ack after a stop under load would bring its
   * stream's routine backlog onto the urgent pool, and the next mismatching report would wait
   * behind all of them (seen in the fleet bench: a stop 10.8 s late under overload).
   */
  @Test
  void aStopAckIsTakenWithoutTheRoutineBatchesAheadOfItInItsStream() {
    RawAgent a = RawAgent.connect(server.getPort(), "host-acks");
    a.await("welcome", f -> f.hasWelcome());
    occupyTheIngestThread();
    a.events(GatewayTest.notice(1));
    a.events(GatewayTest.notice(2));
    a.send(AgentFrame.newBuilder().setStopAck(StopAck.newBuilder().setGeneration(1)
        .setMode(StopMode.RUNNING).setEnacted(true).setVerified(true)).build());
    Eventually.await(Duration.ofSeconds(10), "the stop ack handed on",
        () -> handledOn.containsKey("host-acks/ack"));
    assertThat(handledOn).containsEntry("host-acks/ack", "test-urgent")
        .as("the routine batches ahead of the ack wait for the ingest thread")
        .doesNotContainKey("host-acks/routine");

    ingestBusy.countDown();
    a.await("the routine batches acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 2);
    assertThat(handledOn).containsEntry("host-acks/routine", "test-ingest");
    // the ack's place in the stream was kept: later frames are read and handled as before
    a.events(GatewayTest.notice(3));
    a.await("a batch after the ack acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 3);
  }

  /**
   * Frames read ahead wait for the ingest threads off the Java heap (young collections copied them
   * all), and each is freed as soon as it is parsed, not after a collection.
   */
  @Test
  void framesWaitingForTheIngestThreadAreOffTheHeapAndFreedOnceHandled() {
    RawAgent a = RawAgent.connect(server.getPort(), "host-big");
    a.await("welcome", f -> f.hasWelcome());
    occupyTheIngestThread();
    long framesBefore = AgentGateway.frameBytesOffHeap();
    String text = "x".repeat(400);
    int batches = 3;
    for (int b = 0; b < batches; b++) {
      List<Event> events = new java.util.ArrayList<>();
      for (int i = 1; i <= 500; i++) {
        long seq = b * 500L + i;
        events.add(Event.newBuilder().setSeq(seq).setNotice(dev.lockstep.proto.v1.AgentNotice
            .newBuilder().setKind(dev.lockstep.proto.v1.AgentNotice.Kind.SPOOL_NEAR_CAP)
            .setMessage(text)).build());
      }
      a.events(events.toArray(new Event[0]));
    }
    // 3 batches of ~200 KB wait behind the busy ingest thread, in direct buffers the gateway
    // counts (awaited on that count: the JVM's whole direct pool also holds gRPC's buffers, and
    // once grew by 570 KB while only two of the frames had arrived, in a full build)
    Eventually.await(Duration.ofSeconds(10), "the three waiting frames held off the heap",
        () -> AgentGateway.frameBytesOffHeap() - framesBefore >= 3 * 190_000);
    ingestBusy.countDown();
    a.await("every batch acked", f -> f.hasAck() && f.getAck().getUptoSeq() == batches * 500L);
    // each frame is freed right after its parse, before its events are stored and acked. The
    // frames' own count, not the JVM's direct pool: that also holds gRPC's and the JDK's buffers,
    // which grew by over 100 KB during this test once in a full build and failed it
    assertThat(AgentGateway.frameBytesOffHeap() - framesBefore)
        .as("frame bytes not freed once every frame was handled").isLessThanOrEqualTo(0);
  }

  /**
   * Acks of one stream are taken one at a time; those that arrive meanwhile do not queue up: the
   * newest replaces any waiting one (an agent acking in a loop holds at most two).
   */
  @Test
  void acksArrivingWhileOneIsTakenWaitAsOneTheNewest() {
    holdFirstAck = true;
    RawAgent a = RawAgent.connect(server.getPort(), "host-loop");
    a.await("welcome", f -> f.hasWelcome());
    for (long g = 1; g <= 20; g++) {
      a.send(AgentFrame.newBuilder().setStopAck(StopAck.newBuilder().setGeneration(g)
          .setMode(StopMode.RUNNING).setEnacted(true).setVerified(true)).build());
    }
    Eventually.await(Duration.ofSeconds(10), "acks 3 to 20 each replaced a waiting one",
        () -> metrics.stopAcksCoalesced.get() == 18);
    assertThat(acksTaken).as("taken while the first is held").containsExactly(1L);

    heldAck.join().run();
    Eventually.await(Duration.ofSeconds(10), "the newest ack taken", () -> acksTaken.size() == 2);
    assertThat(acksTaken).containsExactly(1L, 20L);
    a.events(GatewayTest.notice(1));
    a.await("a batch after the acks acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 1);
    assertThat(acksTaken).containsExactly(1L, 20L);
  }

  /**
   * Cluster mode answers a batch asynchronously (the Kafka produce): the batches read ahead behind
   * it are held, not handled, until it is answered, so batches of one stream reach the sink one
   * at a time and in order (a later batch's success must never overtake an earlier one's failure).
   */
  @Test
  void aBatchReadAheadIsNotHandledBeforeTheOneAheadOfItIsAnswered() throws Exception {
    List<Long> taken = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    java.util.concurrent.BlockingQueue<AgentGateway.Outcome> answers = new java.util.concurrent.LinkedBlockingQueue<>();
    gateway.sink(new AgentGateway.BatchSink() {
      @Override
      public long ackedSeq(String agentId) {
        return 0;
      }

      @Override
      public void take(AgentSession session, List<Event> events, AgentGateway.Outcome outcome) {
        taken.add(events.get(0).getSeq());
        answers.add(outcome);
      }
    });
    RawAgent a = RawAgent.connect(server.getPort(), "host-sink");
    a.await("welcome", f -> f.hasWelcome());
    long frames = 0;
    for (long seq = 1; seq <= 3; seq++) {
      a.events(GatewayTest.notice(seq));
      frames += AgentFrame.newBuilder().setEvents(dev.lockstep.proto.v1.EventBatch.newBuilder()
          .addEvents(GatewayTest.notice(seq))).build().getSerializedSize();
    }
    long all = frames;
    Eventually.await(Duration.ofSeconds(10), "the three batches delivered to the gateway",
        () -> gateway.readAheadBytes() >= all);
    // every frame task given to the ingest thread so far has run
    ingest.submit(() -> { }).get(10, TimeUnit.SECONDS);
    assertThat(taken).as("batches handed to the sink while the first is unanswered")
        .containsExactly(1L);
    for (long seq = 1; seq <= 3; seq++) {
      long s = seq;
      Eventually.await(Duration.ofSeconds(10), "batch " + s + " handed on", () -> taken.size() == s);
      answers.take().acked(s);
      a.await("batch " + s + " acked", f -> f.hasAck() && f.getAck().getUptoSeq() == s);
    }
    assertThat(taken).containsExactly(1L, 2L, 3L);
  }

  /**
   * A Hello is never left unanswered: when the Welcome cannot be built (the store cannot say what
   * the agent's acked sequence is), the stream ends with a status naming why, and the agent
   * reconnects, instead of waiting forever for its Welcome.
   */
  @Test
  void aWelcomeThatCannotBeBuiltEndsTheStreamWithTheReason() {
    gateway.sink(new AgentGateway.BatchSink() {
      @Override
      public long ackedSeq(String agentId) {
        throw new IllegalStateException("store read failed");
      }

      @Override
      public void take(AgentSession session, List<Event> events, AgentGateway.Outcome outcome) {
        outcome.acked(events.get(events.size() - 1).getSeq());
      }
    });
    RawAgent a = RawAgent.connect(server.getPort(), "host-unwelcome");
    Eventually.await(Duration.ofSeconds(10), "the stream ended", () -> a.closedWith != null);
    assertThat(a.closedWith.getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
    assertThat(a.closedWith.getDescription()).contains("host-unwelcome").contains("store read failed");
    Eventually.await(Duration.ofSeconds(10), "the agent shown as disconnected",
        () -> disconnected.contains("host-unwelcome"));
    a.close();
  }

  /**
   * Cluster mode: while the core is too far behind on the events topic (the sink says so), a
   * batch of routine events gets a Backoff that still takes decisive batches, and a golden report
   * sent during it is taken at once, so it does not queue behind more routine events. Once the
   * core has caught up, the routine batch sent again is taken.
   */
  @Test
  void whileTheClusterCoreIsBehindRoutineBatchesWaitAndAGoldenReportIsTaken() {
    List<Long> taken = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicReference<String> hold =
        new java.util.concurrent.atomic.AtomicReference<>("the cluster's core is 900 records behind");
    gateway.sink(new AgentGateway.BatchSink() {
      @Override
      public long ackedSeq(String agentId) {
        return taken.isEmpty() ? 0 : taken.get(taken.size() - 1);
      }

      @Override
      public String holdRoutine() {
        return hold.get();
      }

      @Override
      public void take(AgentSession session, List<Event> events, AgentGateway.Outcome outcome) {
        long last = events.get(events.size() - 1).getSeq();
        taken.add(last);
        outcome.acked(last);
      }
    });
    RawAgent a = RawAgent.connect(server.getPort(), "host-behind");
    a.await("welcome", f -> f.hasWelcome());
    a.events(GatewayTest.notice(1));
    var backoff = a.await("a Backoff for the routine batch", f -> f.hasBackoff()).getBackoff();
    assertThat(backoff.getDecisiveTaken()).as("decisive batches still taken").isTrue();
    assertThat(backoff.getReason()).contains("900 records behind");
    assertThat(backoff.getRetryAfterMs()).isEqualTo(1000);
    assertThat(metrics.rejectedFrames.labelValues("core_behind").get()).isEqualTo(1.0);
    // as an agent holding a golden report behind its backed-off routine event sends them
    a.send(AgentFrame.newBuilder().setEvents(dev.lockstep.proto.v1.EventBatch.newBuilder()
        .addEvents(GatewayTest.notice(1)).setLeadsToDecisive(true).setBackoffId(backoff.getId())).build());
    a.send(AgentFrame.newBuilder().setEvents(dev.lockstep.proto.v1.EventBatch.newBuilder()
        .addEvents(Goldens.golden(2, Goldens.report("run-1", "wf", "primary", "a")))
        .setBackoffId(backoff.getId())).build());
    a.await("the golden report acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 2);
    assertThat(taken).containsExactly(1L, 2L);

    a.send(AgentFrame.newBuilder().setEvents(dev.lockstep.proto.v1.EventBatch.newBuilder()
        .addEvents(GatewayTest.notice(3)).setBackoffId(backoff.getId())).build());
    a.await("a second Backoff", f -> f.hasBackoff() && f.getBackoff().getId() == backoff.getId() + 1);
    assertThat(taken).containsExactly(1L, 2L);
    hold.set(null); // the core caught up
    a.send(AgentFrame.newBuilder().setEvents(dev.lockstep.proto.v1.EventBatch.newBuilder()
        .addEvents(GatewayTest.notice(3)).setBackoffId(backoff.getId() + 1)).build());
    a.await("the routine batch acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 3);
    assertThat(taken).containsExactly(1L, 2L, 3L);
  }
}
