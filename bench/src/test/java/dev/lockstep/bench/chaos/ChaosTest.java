package dev.lockstep.bench.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short run of {@code bench/run chaos} in every build: a real collector and three real agents,
 * SIGKILLed at chosen moments while mismatches and operator actions flow. The seed is printed
 * and in every failure message ({@code -Dlockstep.seed=N} replays it).
 */
class ChaosTest {
  @TempDir Path dir;

  @Test
  void killsAtAnyMomentNeitherUndoAStopNorLoseAMismatch() throws Exception {
    long seed = Long.getLong("lockstep.seed", System.nanoTime());
    ChaosBench.Result r = ChaosBench.run(dir, seed, 3, Duration.ofSeconds(40), line -> System.out.println(line));
    System.out.println(r.json(40 / 60.0, 3, seed));
    String where = "seed " + seed + ": " + r.problems();
    assertThat(r.mismatches()).as(where).isPositive();
    assertThat(r.collectorKills()).as(where).isPositive();
    assertThat(r.agentKills()).as(where).isPositive();
    assertThat(r.unsafe()).as("unsafe; " + where).isZero();
    assertThat(r.lostMismatches()).as("lost mismatches; " + where).isZero();
    assertThat(r.duplicated()).as("duplicated; " + where).isZero();
  }
}
