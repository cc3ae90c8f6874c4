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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
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
   * A restart let through before the STOP arrived hangs (restart.timeout is a minute): the STOP
   * does not wait for it. Its process group is killed, on_stop runs at once (after what the restart
   * did, so it stops what the restart started) and the STOP is acked; a restart asked for once the
   * STOP arrived is not started at all. (Found by review: on_stop, verify and the ack waited for
   * the restart command to end, up to its timeout.)
   */
  @Test
  void aStopKillsARestartInFlightAndRunsOnStopAtOnceAndLaterRestartsAreRefused() throws Exception {
    Path log = root.resolve("order.log");
    AgentConfig.Stop config = AgentConfig.defaults("a1", "h:1", root).withStopFile(root.resolve("run/STOP"))
        .withHooks("echo on_stop >> " + log, null, null).stop();
    List<StopAck> acks = new CopyOnWriteArrayList<>();
    try (AgentMetrics metrics = new AgentMetrics()) {
      StopEnactor stop = new StopEnactor("a1", config, root.resolve("state"), Clock.systemUTC(), metrics,
          acks::add, notice -> { }, line -> { });
      try {
        Path started = root.resolve("restart-started");
        AtomicReference<StopEnactor.Restart> restarted = new AtomicReference<>();
        Thread restart = new Thread(() -> restarted.set(stop.unlessStopped(Optional::empty,
            () -> Hook.start("echo restart >> " + log + "; : > " + started + "; sleep 60", Map.of(), 1024),
            Duration.ofSeconds(60)))); // a restart command that hangs until its timeout
        restart.setDaemon(true);
        restart.start();
        Eventually.await("the restart command running", () -> Files.exists(started));
        long t0 = System.nanoTime();
        stop.offer(stopped(2), false);
        StopAck ack = Eventually.value(Duration.ofSeconds(10), "the STOP's ack while a restart hangs",
            () -> acks.isEmpty() ? null : acks.get(0));
        assertThat(ack.getEnacted()).as(ack.getDetail()).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("on_stop did not wait for the restart")
            .isLessThan(Duration.ofSeconds(8));
        assertThat(Files.readAllLines(log)).containsExactly("restart", "on_stop");
        restart.join(10_000);
        assertThat(restarted.get()).as("the restart's await returned").isNotNull();
        assertThat(restarted.get().result().killed()).as(restarted.get().result().describe()).isTrue();
        assertThat(restarted.get().stop()).hasValueSatisfying(why -> assertThat(why).contains("ORD-2"));
        StopEnactor.Restart refused = stop.unlessStopped(Optional::empty, () -> {
          throw new AssertionError("a restart started after the STOP");
        }, Duration.ofSeconds(60));
        assertThat(refused.refused()).as("the enactor's own state refuses it, whatever covering says").isTrue();
      } finally {
        stop.close();
      }
    }
  }
}
