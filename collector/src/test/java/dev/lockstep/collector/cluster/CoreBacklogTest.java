package dev.lockstep.collector.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CoreBacklogTest {
  @Test
  void aBacklogTheCoreWorksThroughWithinTheBoundHoldsNothing() {
    CoreBacklog b = new CoreBacklog(1_000);
    b.measured(0, 0, 50);
    b.measured(1_000, 1_000, 1_600); // 1,000 records/s, 600 behind: 0.6 s of work
    assertThat(b.holdRoutine(1_100)).isNull();
  }

  @Test
  void aBacklogOfMoreThanTheBoundHoldsRoutineEventsAndSaysWhy() {
    CoreBacklog b = new CoreBacklog(1_000);
    b.measured(0, 0, 500);
    b.measured(1_000, 100, 1_600); // 100 records/s, 1,500 behind: 15 s of work
    assertThat(b.holdRoutine(1_100)).contains("1500 records behind").contains("about 15.0 s")
        .contains("cluster.max_core_backlog");
    b.measured(2_000, 1_500, 1_600); // caught up: 100 behind at 1,400/s
    assertThat(b.holdRoutine(2_100)).isNull();
  }

  @Test
  void aCoreThatDoesNotMoveHoldsRoutineEvents() {
    CoreBacklog b = new CoreBacklog(1_000);
    b.measured(0, 700, 800);
    b.measured(1_000, 700, 900); // fail-over: nothing processed
    assertThat(b.holdRoutine(1_000)).contains("200 records behind").contains("not moving");
  }

  @Test
  void aSmallBacklogNeverCountsThoughTheCoreLooksSlow() {
    CoreBacklog b = new CoreBacklog(1_000);
    b.measured(0, 0, 10);
    b.measured(1_000, 5, 99); // a quiet fleet: the core's rate is only what arrives
    assertThat(b.holdRoutine(1_000)).isNull();
  }

  @Test
  void anOldMeasurementOrASingleOneOrABoundOfZeroHoldsNothing() {
    CoreBacklog b = new CoreBacklog(1_000);
    b.measured(0, 0, 5_000);
    assertThat(b.holdRoutine(0)).as("no rate yet").isNull();
    b.measured(1_000, 0, 6_000);
    assertThat(b.holdRoutine(1_000)).isNotNull();
    assertThat(b.holdRoutine(1_000 + CoreBacklog.STALE_MILLIS + 1))
        .as("Kafka could not be asked for 5 s: ingest is not held on an old figure").isNull();
    CoreBacklog off = new CoreBacklog(0);
    off.measured(0, 0, 5_000);
    off.measured(1_000, 0, 6_000);
    assertThat(off.holdRoutine(1_000)).isNull();
  }
}
