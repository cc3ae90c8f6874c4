package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.config.ClusterConfig;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.internal.LocalKafka;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.proto.v1.StopStatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterSmokeTest {
  @TempDir static Path dir;
  static LocalKafka kafka;

  @BeforeAll
  static void brokers() throws Exception {
    kafka = LocalKafka.start(dir.resolve("kafka"), 1, System.out::println);
  }

  @AfterAll
  static void stopBrokers() {
    if (kafka != null) kafka.close();
  }

  Collector collector(String id) throws Exception {
    CollectorConfig c = CollectorConfig.defaults(dir.resolve(id)).withInsecure(true)
        .withListen("127.0.0.1", 0).withCorrelationWindow(Duration.ofSeconds(30));
    return Collector.start(c, ClusterConfig.of(kafka.bootstrap(), id).withReplication(1, 1),
        Clock.systemUTC(), line -> System.out.println("[" + id + "] " + line));
  }

  @Test
  void aMismatchOnOneCollectorStopsAgentsOfBoth() throws Exception {
    try (Collector a = collector("c1"); Collector b = collector("c2");
        RawAgent x = RawAgent.connect(a.port(), "agent-x");
        RawAgent y = RawAgent.connect(b.port(), "agent-y")) {
      x.await("welcome x", f -> f.hasWelcome());
      y.await("welcome y", f -> f.hasWelcome());
      x.report(Goldens.report("run-1", "wf", "primary", "a"), Goldens.report("run-1", "wf", "shadow", "b"));
      x.await("ack", f -> f.hasAck() && f.getAck().getUptoSeq() == 2);
      StopState s = Eventually.value(Duration.ofSeconds(60), "stop at y", () -> {
        StopState l = y.lastStop();
        return l != null && l.getMode() == StopMode.STOPPED ? l : null;
      });
      y.ack(s, true);
      StopState sx = Eventually.value(Duration.ofSeconds(60), "stop at x", () -> {
        StopState l = x.lastStop();
        return l != null && l.getMode() == StopMode.STOPPED ? l : null;
      });
      x.ack(sx, true);
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", b.port()).usePlaintext().build();
      try {
        var op = OperatorGrpc.newBlockingStub(ch);
        Eventually.await(Duration.ofSeconds(30), "both confirmed",
            () -> op.getStopStatus(StopStatusRequest.getDefaultInstance()).getConfirmed() == 2);
        assertThat(op.getStopStatus(StopStatusRequest.getDefaultInstance()).getOrdersCount()).isEqualTo(1);
      } finally {
        ch.shutdownNow();
      }
    }
  }
}
