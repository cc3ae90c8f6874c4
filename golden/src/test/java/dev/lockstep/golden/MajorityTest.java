package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MajorityTest {
  static RunSummary withHash(String hash) {
    return new RunSummary("r", "w", "x", 1L, hash, "", "", List.of());
  }

  @Test
  void strictMajorityIsGoodAndTheDissenterIsBlamed() {
    Majority.Vote<String> v = Majority.vote(Map.of(
        "host-a", withHash("h1"), "host-b", withHash("h2"), "host-c", withHash("h1")));
    assertThat(v.goodHash()).isEqualTo("h1");
    assertThat(v.dissenters()).containsExactly("host-b");
  }

  @Test
  void dissentersAreListedInKeyOrder() {
    Majority.Vote<String> v = Majority.vote(Map.of(
        "e", withHash("g"), "d", withHash("x"), "c", withHash("g"), "b", withHash("y"), "a", withHash("g")));
    assertThat(v.goodHash()).isEqualTo("g");
    assertThat(v.dissenters()).containsExactly("b", "d");
  }

  @Test
  void halfIsNotAMajority() {
    Majority.Vote<String> v = Majority.vote(Map.of(
        "a", withHash("h1"), "b", withHash("h2"), "c", withHash("h1"), "d", withHash("h2")));
    assertThat(v.goodHash()).isNull();
    assertThat(v.dissenters()).isEmpty();
  }

  @Test
  void threeWaySplitHasNoMajority() {
    Majority.Vote<Integer> v = Majority.vote(Map.of(1, withHash("a"), 2, withHash("b"), 3, withHash("c")));
    assertThat(v.goodHash()).isNull();
  }

  @Test
  void unanimousReplicasHaveNoDissenters() {
    Majority.Vote<String> v = Majority.vote(Map.of("a", withHash("h"), "b", withHash("h"), "c", withHash("h")));
    assertThat(v.goodHash()).isEqualTo("h");
    assertThat(v.dissenters()).isEmpty();
  }
}
