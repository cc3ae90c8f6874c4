package dev.lockstep.agent.stop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.Eventually;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.proto.lite.v1.StopAck;
import dev.lockstep.proto.lite.v1.StopMode;
import dev.lockstep.proto.lite.v1.StopOrder;
import dev.lockstep.proto.lite.v1.StopScope;
import dev.lockstep.proto.lite.v1.StopState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A remediation's restart and a STOP on the enactor: whichever comes first, the stop wins. */
class StopAndRestartTest {
  @TempDir Path root;

  private static StopState stopped(long generation) {
    return StopState.newBuilder().setGeneration(generation).setMode(StopMode.STOPPED)
        .addOrders(StopOrder.newBuilder().setId("ORD-" + generation).setScope(StopScope.newBuilder().setFleet(true)))
        .build();
  }

  /**
   * A restart let through before the STOP arrived is still running: the stop's on_stop hook runs
   * only after it has ended (so it stops what the restart started), and a restart asked for once
   * the STOP arrived is not run at all.
   */
  @Test
  void onStopWaitsForARestartLetThroughAndLaterRestartsAreRefused() throws Exception {
    Path log = root.resolve("order.log");
    AgentConfig.Stop config = AgentConfig.defaults("a1", "h:1", root).withStopFile(root.resolve("run/STOP"))
        .withHooks("echo on_stop >> " + log, null, null).stop();
    List<StopAck> acks = new CopyOnWriteArrayList<>();
    try (AgentMetrics metrics = new AgentMetrics()) {
      StopEnactor stop = new StopEnactor("a1", config, root.resolve("state"), Clock.systemUTC(), metrics,
          acks::add, notice -> { }, line -> { });
      try {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread restart = new Thread(() -> stop.unlessStopped(Optional::empty, () -> {
          inside.countDown();
          try {
            release.await(30, TimeUnit.SECONDS);
            Files.writeString(log, "restart\n", java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        }));
        restart.start();
        assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
        stop.offer(stopped(2), false);
        Eventually.await("the stop under way", () -> stop.current().stopped());
        Thread.sleep(300);
        assertThat(Files.exists(log) ? Files.readAllLines(log) : List.of())
            .as("on_stop waits for the restart in flight").isEmpty();
        release.countDown();
        restart.join(10_000);
        Eventually.value(Duration.ofSeconds(10), "ack", () -> acks.isEmpty() ? null : acks.get(0));
        assertThat(acks.get(0).getEnacted()).as(acks.get(0).getDetail()).isTrue();
        assertThat(Files.readAllLines(log)).containsExactly("restart", "on_stop");
        Optional<String> refused = stop.unlessStopped(Optional::empty, () -> {
          throw new AssertionError("a restart ran after the STOP");
        });
        assertThat(refused).as("the enactor's own state refuses it, whatever covering says").isPresent();
      } finally {
        stop.close();
      }
    }
  }
}
