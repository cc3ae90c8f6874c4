package dev.lockstep.collector.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.Eventually;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A stop of a large fleet prints a few ack lines and a summary, not one line per agent. */
class AckProgressTest {
  final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
  final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  final AckProgress acks = new AckProgress(lines::add, scheduler, nanos::get);

  final java.util.concurrent.CountDownLatch schedulerHeld = new java.util.concurrent.CountDownLatch(1);

  /** The scheduled flush cannot run (however slow this machine) until {@link #schedulerHeld} is released. */
  @org.junit.jupiter.api.BeforeEach
  void holdTheScheduler() {
    scheduler.execute(() -> {
      try {
        schedulerHeld.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }

  @AfterEach
  void stop() {
    schedulerHeld.countDown();
    scheduler.shutdownNow();
  }

  static StopAck ack(boolean ok) {
    return StopAck.newBuilder().setGeneration(7).setMode(StopMode.STOPPED).setEnacted(ok).setVerified(ok)
        .setDetail(ok ? "stopped" : "on_stop hook failed\nexit 3").build();
  }

  @Test
  void pastTwentyASecondTheRestAreSummedUpInOneLine() {
    for (int i = 0; i < 1_000; i++) acks.counted("host-" + i, ack(true));
    assertThat(lines).hasSize(AckProgress.LINES_PER_SECOND);
    assertThat(lines.get(0)).isEqualTo("ack from host-0: generation 7 STOPPED CONFIRMED (stopped)");
    // the summary comes once the second is over, without another ack
    schedulerHeld.countDown();
    Eventually.await(Duration.ofSeconds(10), "the summary line", () -> lines.size() == 21);
    assertThat(lines.get(20)).isEqualTo("acks from 980 more agents (20 a second are listed one by one):"
        + " 980 × generation 7 STOPPED CONFIRMED");
  }

  @Test
  void aFailedAckAlwaysGetsItsOwnLineAndANewSecondListsAcksAgain() {
    for (int i = 0; i < 30; i++) acks.counted("host-" + i, ack(true));
    acks.counted("host-bad", ack(false));
    assertThat(lines).hasSize(21).last().isEqualTo("ack from host-bad: generation 7 STOPPED FAILED (on_stop hook failed)");
    nanos.addAndGet(TimeUnit.SECONDS.toNanos(1));
    acks.counted("host-next", ack(true));
    // the last second's summary first (its flush has not run yet), then the new ack
    assertThat(lines.subList(21, lines.size())).containsExactly(
        "acks from 10 more agents (20 a second are listed one by one): 10 × generation 7 STOPPED CONFIRMED",
        "ack from host-next: generation 7 STOPPED CONFIRMED (stopped)");
    acks.flush();
    assertThat(lines).as("nothing held any more: no second summary").hasSize(23);
  }
}
