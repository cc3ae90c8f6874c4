package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.security.CertsInit;
import dev.lockstep.security.SecuritySetupException;
import dev.lockstep.security.Tls;
import dev.lockstep.security.TlsFiles;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One agent floods Hellos against a real collector under mTLS with {@code agents.max_streams} 3:
 * streams on one connection, each saying Hello as that agent (its certificate's id), at least
 * 3,000 of them and 500 unanswered at any time, for as long as other agents connect. New agents
 * are welcomed at their first Hello, a mismatch they report still stops the fleet, and agents
 * reconnecting (old stream still open, or dropped) still get in.
 */
class HelloFloodTest {
  static final int FLOOD = 3_000;
  static final int UNANSWERED = 500;
  @TempDir Path dir;
  CertsInit.Result certs;
  Collector collector;
  final List<ManagedChannel> connections = new ArrayList<>();
  /** Set when the test is over, however it ended: the flood stops. */
  final AtomicBoolean over = new AtomicBoolean();
  Thread flooder;

  @BeforeEach
  void start() throws Exception {
    certs = CertsInit.run(dir.resolve("certs"), List.of("evil", "host-a", "host-b"), List.of(),
        List.of(), List.of(), Duration.ofDays(1));
    TlsFiles server = certs.tlsFilesFor("collector");
    collector = Collector.start(CollectorConfig.defaults(dir.resolve("data"))
        .withListen("127.0.0.1", 0)
        .withTls(new CollectorConfig.Tls(server.ca(), server.cert(), server.key()))
        .withStopPolicy(CollectorConfig.StopPolicy.FLEET)
        .withLimits(new CollectorConfig.Limits(3, 20_000, 40_000, Duration.ofHours(1))),
        Clock.systemUTC(), l -> { });
  }

  @AfterEach
  void stop() throws InterruptedException {
    over.set(true);
    if (flooder != null) flooder.join();
    connections.forEach(ManagedChannel::shutdownNow);
    collector.close();
  }

  /** A new connection with {@code name}'s certificate. */
  ManagedChannel connectionAs(String name) throws SecuritySetupException {
    ManagedChannel c = Grpc.newChannelBuilder("localhost:" + collector.port(),
        Tls.channelCredentials(certs.tlsFilesFor(name))).build();
    connections.add(c);
    return c;
  }

  static boolean answered(RawAgent s) {
    return s.closedWith != null || !s.received.isEmpty();
  }

  /**
   * Says Hello as {@code id} on new streams of {@code connection} until {@code until} says stop or
   * the test is over.
   */
  Thread flood(ManagedChannel connection, String id, List<RawAgent> sent, BooleanSupplier until) {
    Thread t = new Thread(() -> {
      ArrayDeque<RawAgent> unanswered = new ArrayDeque<>();
      while (!until.getAsBoolean() && !over.get()) {
        while (!unanswered.isEmpty() && answered(unanswered.peek())) unanswered.poll();
        if (unanswered.size() >= UNANSWERED) {
          LockSupport.parkNanos(100_000); // the flooder's pace, not a wait for the test
          continue;
        }
        RawAgent s = new RawAgent(connection, id).hello();
        sent.add(s);
        unanswered.add(s);
      }
    }, "test-flood");
    t.start();
    return t;
  }

  static RawAgent welcomed(ManagedChannel connection, String id) {
    RawAgent a = new RawAgent(connection, id).hello();
    Eventually.await(Duration.ofSeconds(30), id + "'s Hello answered", () -> answered(a));
    assertThat(a.closedWith).as(id + "'s Hello refused").isNull();
    assertThat(a.received.get(0).hasWelcome()).as(id + "'s first frame is the Welcome").isTrue();
    return a;
  }

  @Test
  void oneAgentFloodingHellosOnOneConnectionLocksNoOtherAgentOut() throws Exception {
    ManagedChannel evilConnection = connectionAs("evil");
    welcomed(evilConnection, "evil");
    List<RawAgent> flood = new CopyOnWriteArrayList<>();
    AtomicBoolean othersDone = new AtomicBoolean();
    long started = System.nanoTime();
    flooder = flood(evilConnection, "evil", flood, () -> othersDone.get() && flood.size() >= FLOOD);
    Eventually.await(Duration.ofSeconds(30), "flood under way", () -> flood.size() >= 2 * UNANSWERED);

    RawAgent a = welcomed(connectionAs("host-a"), "host-a");
    ManagedChannel bConnection = connectionAs("host-b");
    RawAgent b = welcomed(bConnection, "host-b");
    StopLoopTest.mismatch(a, b, "run-during-flood");
    StopLoopTest.awaitStopped(a);
    StopLoopTest.awaitStopped(b);

    // host-a reconnects while its old stream still looks open; host-b after its connection dropped
    RawAgent aAgain = welcomed(connectionAs("host-a"), "host-a");
    Eventually.await(Duration.ofSeconds(10), "host-a's old stream replaced", () -> a.closedWith != null);
    assertThat(a.closedWith.getCode()).isEqualTo(Status.Code.ABORTED);
    bConnection.shutdownNow();
    RawAgent bAgain = welcomed(connectionAs("host-b"), "host-b");
    assertThat(aAgain.lastStop().getMode()).isEqualTo(StopMode.STOPPED);
    assertThat(bAgain.lastStop().getMode()).isEqualTo(StopMode.STOPPED);

    othersDone.set(true);
    flooder.join();
    long seconds = (System.nanoTime() - started) / 1_000_000_000L + 1;
    Eventually.await(Duration.ofSeconds(60), "every flood stream answered", () ->
        flood.stream().allMatch(HelloFloodTest::answered));
    long welcomedFlood = flood.stream().filter(s -> s.received.stream().anyMatch(f -> f.hasWelcome())).count();
    assertThat(welcomedFlood).as("flood Hellos that reached the core, of " + flood.size())
        .isLessThanOrEqualTo(AgentGateway.HELLO_BURST + AgentGateway.HELLOS_PER_SECOND * seconds);
    assertThat(flood).filteredOn(s -> s.closedWith != null
            && s.closedWith.getCode() == Status.Code.RESOURCE_EXHAUSTED)
        .hasSize((int) (flood.size() - welcomedFlood));
    assertThat(collector.fleet().connectedCount()).isLessThanOrEqualTo(3);
    assertThat(collector.fleet().connected("host-a")).isTrue();
    assertThat(collector.fleet().connected("host-b")).isTrue();
  }
}
