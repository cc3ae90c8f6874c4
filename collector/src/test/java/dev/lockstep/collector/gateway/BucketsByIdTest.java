package dev.lockstep.collector.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.TestClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class BucketsByIdTest {
  final TestClock clock = new TestClock(Instant.parse("2026-01-01T00:00:00Z"));

  @Test
  void idsCycledThroughAreForgottenOnceTheirBucketsAreFullAgain() {
    // 5 a second, bursts of 60: full again 12 s after being emptied
    BucketsById hellos = new BucketsById(5, 60, 1024, clock);
    for (int round = 0; round < 50; round++) {
      for (int i = 0; i < 500; i++) hellos.get("id-" + round + "-" + i).take(1);
      assertThat(hellos.size()).as("the ids of round " + round + " only").isEqualTo(500);
      clock.advance(Duration.ofSeconds(13));
    }
    hellos.get("last");
    assertThat(hellos.size()).as("every id whose bucket is full again is forgotten").isEqualTo(1);
  }

  /**
   * A sweep (due 12 s after the map was made) forgets only buckets that are full again: a bucket
   * spent a moment before it is kept, so getting it again does not hand out a new burst.
   */
  @Test
  void aSweepKeepsABucketThatIsNotFullAgain() {
    BucketsById hellos = new BucketsById(5, 60, 1024, clock);
    clock.advance(Duration.ofSeconds(11));
    EventBucket storm = hellos.get("storm");
    assertThat(storm.take(60)).isTrue();
    clock.advance(Duration.ofSeconds(1)); // the sweep is due: storm's bucket holds 5 tokens
    assertThat(hellos.get("other")).isNotNull(); // runs the sweep
    assertThat(hellos.get("storm")).as("remembered, not replaced by a full one").isSameAs(storm);
    assertThat(hellos.get("storm").take(6)).isFalse();
  }

  @Test
  void pastMaxIdsTheLeastRecentlyUsedIdIsForgotten() {
    BucketsById hellos = new BucketsById(5, 60, 1024, clock);
    EventBucket first = hellos.get("first");
    first.take(60);
    EventBucket zero = hellos.get("id-0");
    zero.take(1);
    for (int i = 1; i < 5_000; i++) {
      hellos.get("id-" + i).take(1);
      if (i % 100 == 0) assertThat(hellos.get("first")).isSameAs(first);
    }
    assertThat(hellos.size()).isEqualTo(1024);
    assertThat(hellos.get("first")).as("used recently, kept").isSameAs(first);
    assertThat(hellos.get("id-0")).as("the least recently used one was forgotten").isNotSameAs(zero);
    assertThat(hellos.size()).isEqualTo(1024);
  }
}
