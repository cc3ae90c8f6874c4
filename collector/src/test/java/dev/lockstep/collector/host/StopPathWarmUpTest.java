package dev.lockstep.collector.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockstep.collector.core.CoreConfig;
import dev.lockstep.collector.correlate.CorrelationPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stop path's JIT warm-up on its own scratch store. */
class StopPathWarmUpTest {
  @TempDir Path dir;

  static CoreConfig config() {
    return new CoreConfig(CoreConfig.StopPolicy.FLEET,
        CorrelationPolicy.primaryShadow(Duration.ofMinutes(5)), 1 << 20, 10);
  }

  @Test
  void issuesAndResumesMadeUpOrdersWithAnAckFromEveryMadeUpAgentThenDeletesItsScratchStore()
      throws Exception {
    Path scratch = dir.resolve("warm-up");
    Files.createDirectories(scratch.resolve("left-over-from-a-crash"));
    try (StopPathWarmUp w = StopPathWarmUp.start(scratch, config(), Clock.systemUTC(), 50, 3)) {
      String line = w.done().get(60, TimeUnit.SECONDS);
      // 3 rounds of one order and its resume; each answered by all 50 made-up agents
      assertThat(line).contains("6 made-up stop orders and resumes for 50 made-up agents, 300 acks");
    }
    assertThat(scratch).doesNotExist();
  }

  @Test
  void closeCancelsItAndWaitsForItsThread() throws Exception {
    Path scratch = dir.resolve("warm-up");
    StopPathWarmUp w = StopPathWarmUp.start(scratch, config(), Clock.systemUTC(), 1_000_000, 1_000);
    // under way: its scratch store is open (it must be cancelled mid-run, not before it began)
    dev.lockstep.collector.Eventually.await(Duration.ofSeconds(30), "the scratch store",
        () -> Files.exists(scratch.resolve("CURRENT")));
    long t0 = System.nanoTime();
    w.close();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
    assertThatThrownBy(() -> w.done().get(1, TimeUnit.SECONDS)).isInstanceOf(java.util.concurrent.CancellationException.class)
        .hasMessageContaining("collector closing");
    assertThat(scratch).doesNotExist();
  }
}
