package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.collector.gateway.AgentSession;
import dev.lockstep.collector.gateway.GatewayListener;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.security.IdentityInterceptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hellos and {@code agents.max_streams} on a gateway whose core answers a Hello only when the
 * test says so (and whose clock the test moves): at most one Hello per agent id waits for the core
 * (a second one is refused before it reaches the core), an agent id holds one slot however many
 * streams it opens, and an agent id's Hellos are rate-limited.
 */
class HelloSlotsTest {
  @TempDir Path dir;
  /** Hellos handed to the core and not answered yet, in arrival order. */
  final BlockingQueue<AgentSession> hellos = new LinkedBlockingQueue<>();
  final CollectorMetrics metrics = new CollectorMetrics();
  final ExecutorService pool = Executors.newFixedThreadPool(2);
  final List<RawAgent> agents = new ArrayList<>();
  final TestClock clock = new TestClock(java.time.Instant.parse("2025-01-01T00:00:00Z"));
  Store store;
  AgentGateway gateway;
  Server server;

  void start(int maxStreams) throws Exception {
    store = Store.open(dir.resolve("db"), false, 8 << 20, 8 << 20);
    gateway = new AgentGateway(store, new GatewayListener() {
      @Override
      public void hello(AgentSession session) {
        hellos.add(session);
      }

      @Override
      public void disconnected(AgentSession session) {
      }

      // frames after the Welcome go on at once
      @Override
      public void stored(AgentSession session, List<Event> events, long at, Runnable next) {
        next.run();
      }

      @Override
      public void stopAck(AgentSession session, StopAck ack, Runnable next) {
        next.run();
      }

      @Override
      public void evidence(AgentSession session, EvidenceChunk chunk, Runnable next) {
        next.run();
      }
    }, pool, metrics, clock,
        new CollectorConfig.Limits(maxStreams, 20_000, 40_000, Duration.ofHours(1)));
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(gateway.service(), IdentityInterceptor.insecure()))
        .build().start();
  }

  @AfterEach
  void stop() throws Exception {
    agents.forEach(RawAgent::close);
    if (server != null) server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    pool.shutdownNow();
    pool.awaitTermination(30, TimeUnit.SECONDS);
    if (store != null) store.close();
  }

  RawAgent hello(String id) {
    RawAgent a = RawAgent.connect(server.getPort(), id);
    agents.add(a);
    return a;
  }

  /** The next Hello handed to the core. */
  AgentSession nextHello(String what) throws InterruptedException {
    AgentSession s = hellos.poll(10, TimeUnit.SECONDS);
    assertThat(s).as(what).isNotNull();
    return s;
  }

  /** Answers a waiting Hello as the core does. */
  void welcome(AgentSession s) {
    gateway.welcome(s.connectionId(), StopState.newBuilder().setGeneration(1).setMode(StopMode.RUNNING).build());
  }

  static void awaitClosed(RawAgent a, String what) {
    Eventually.await(Duration.ofSeconds(10), what, () -> a.closedWith != null);
  }

  @Test
  void aSecondHelloOfAnAgentWhileItsFirstWaitsIsRefusedAndNeverReachesTheCore() throws Exception {
    start(10);
    RawAgent first = hello("host-a");
    AgentSession waitingOne = nextHello("first Hello");
    RawAgent second = hello("host-a");
    awaitClosed(second, "second Hello refused");
    assertThat(second.closedWith.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(second.closedWith.getDescription())
        .contains("agent host-a already has a Hello waiting for the collector's answer");
    assertThat(hellos).as("the refused Hello never reached the core").isEmpty();
    assertThat(metrics.rejectedFrames.labelValues("hello_waiting").getLongValue()).isEqualTo(1);
    welcome(waitingOne);
    first.await("welcome", f -> f.hasWelcome());
    // once answered, the agent's next Hello waits again and replaces the first stream
    RawAgent third = hello("host-a");
    welcome(nextHello("third Hello"));
    third.await("welcome of the replacing stream", f -> f.hasWelcome());
    awaitClosed(first, "replaced stream closed");
    assertThat(first.closedWith.getCode()).isEqualTo(Status.Code.ABORTED);
    assertThat(gateway.connected()).isEqualTo(1);
  }

  @Test
  void aReconnectingAgentTakesNoSecondSlotFromANewAgent() throws Exception {
    start(2);
    RawAgent evil = hello("evil");
    welcome(nextHello("evil's Hello"));
    evil.await("welcome", f -> f.hasWelcome());
    RawAgent evilAgain = hello("evil");
    AgentSession replacing = nextHello("evil's second stream waits (a reconnect)");
    RawAgent newcomer = hello("host-a");
    welcome(nextHello("a new agent's Hello is taken: evil holds one slot, however many streams"));
    newcomer.await("newcomer welcome", f -> f.hasWelcome());
    // now two agent ids hold the two slots
    RawAgent third = hello("host-b");
    awaitClosed(third, "third agent refused");
    assertThat(third.closedWith.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(third.closedWith.getDescription()).contains("agents.max_streams 2");
    welcome(replacing);
    evilAgain.await("the reconnect is welcome", f -> f.hasWelcome());
    awaitClosed(evil, "evil's old stream replaced");
    assertThat(gateway.connected()).isEqualTo(2);
  }

  @Test
  void anAgentWhoseStreamDroppedBeforeItsHelloWasAnsweredGetsInAgain() throws Exception {
    start(1);
    RawAgent lost = hello("host-a");
    AgentSession stale = nextHello("first Hello");
    lost.close(); // the connection drops while the core has not answered
    // as the agent does: Hello again until one is taken (refused while the old one still waits)
    AgentSession taken = Eventually.value(Duration.ofSeconds(10), "a later Hello taken", () -> {
      RawAgent again = hello("host-a");
      try {
        AgentSession s = hellos.poll(200, TimeUnit.MILLISECONDS);
        if (s == null) awaitClosed(again, "refused Hello closed");
        return s;
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(gateway.welcome(stale.connectionId(), StopState.getDefaultInstance()))
        .as("the dropped stream's late answer registers nothing").isFalse();
    welcome(taken);
    agents.get(agents.size() - 1).await("welcome", f -> f.hasWelcome());
    assertThat(gateway.session("host-a")).hasValueSatisfying(s ->
        assertThat(s.connectionId()).isEqualTo(taken.connectionId()));
  }

  @Test
  void anAgentsHelloStormIsRateLimitedWhileOtherAgentsStillGetIn() throws Exception {
    start(10);
    for (int i = 0; i < AgentGateway.HELLO_BURST; i++) {
      RawAgent again = hello("storm");
      welcome(nextHello("Hello " + (i + 1) + " of the burst"));
      again.await("welcome", f -> f.hasWelcome());
    }
    RawAgent over = hello("storm");
    awaitClosed(over, "a Hello over the rate refused");
    assertThat(over.closedWith.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(over.closedWith.getDescription()).contains("agent storm says Hello more than "
        + AgentGateway.HELLOS_PER_SECOND + " times a second");
    assertThat(hellos).as("the refused Hello never reached the core").isEmpty();
    assertThat(metrics.rejectedFrames.labelValues("hello_rate_limited").getLongValue()).isEqualTo(1);
    assertThat(gateway.session("storm")).as("the agent keeps its current stream").isPresent();
    hello("host-a");
    nextHello("another agent's Hello is taken");
    clock.advance(Duration.ofSeconds(1));
    hello("storm");
    nextHello("a second later the storm's agent gets in again");
  }

  /**
   * A loop of refused streams writes one line per {@link AgentGateway#REFUSAL_LOG_EVERY} and
   * reason, and the next line says how many it did not write; the metric counts every one. A
   * refusal for another reason is still said.
   */
  @Test
  void refusedStreamsAreLoggedOncePerIntervalWithACountOfTheOthers() throws Exception {
    java.util.logging.Logger log = java.util.logging.Logger.getLogger(AgentGateway.class.getName());
    List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Handler handler = new java.util.logging.Handler() {
      @Override
      public void publish(java.util.logging.LogRecord r) {
        if (r.getLevel() == java.util.logging.Level.WARNING) lines.add(r.getMessage());
      }

      @Override
      public void flush() {
      }

      @Override
      public void close() {
      }
    };
    log.addHandler(handler);
    try {
      start(10);
      for (int i = 0; i < 20; i++) {
        RawAgent a = new RawAgent(server.getPort(), "noisy-" + i);
        agents.add(a);
        a.events(Event.newBuilder().setSeq(1).build());
        awaitClosed(a, "stream " + i + " refused");
      }
      assertThat(metrics.rejectedFrames.labelValues("no_hello").getLongValue()).isEqualTo(20);
      assertThat(lines).singleElement().asString().contains("the first frame must be Hello")
          .doesNotContain("more streams refused");
      // a refusal for another reason in the same interval is still said: the loop does not hide it
      RawAgent garbled = new RawAgent(server.getPort(), "garbled");
      agents.add(garbled);
      garbled.sendBytes(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
      awaitClosed(garbled, "the garbled frame refused");
      assertThat(lines).hasSize(2);
      assertThat(lines.get(1)).contains("is not a valid AgentFrame");
      lines.remove(1);
      clock.advance(AgentGateway.REFUSAL_LOG_EVERY);
      RawAgent a = new RawAgent(server.getPort(), "noisy-last");
      agents.add(a);
      a.events(Event.newBuilder().setSeq(1).build());
      awaitClosed(a, "the last stream refused");
      assertThat(lines).hasSize(2);
      assertThat(lines.get(1)).contains("(and 19 more streams refused as no_hello in the last 10 s, not logged;");
    } finally {
      log.removeHandler(handler);
    }
  }
}
