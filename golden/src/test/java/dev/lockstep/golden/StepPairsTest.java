package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Steps are paired exactly as the first, map-based pairing did ({@link ReferenceStepPairs}). */
class StepPairsTest {
  @Test
  void pairsLikeTheReferenceWithRepeatedMissingAndNegativeIndices() {
    Random r = new Random(20261202L);
    for (int t = 0; t < 5000; t++) {
      List<StepSummary> a = steps(r);
      List<StepSummary> b = r.nextInt(4) == 0 ? a : steps(r);
      List<StepPairs.Pair> pairs = StepPairs.of(a, b);
      assertThat(pairs).as("%s / %s", a, b).isEqualTo(ReferenceStepPairs.of(a, b));
      assertThat(StepPairs.reordered(pairs)).isEqualTo(ReferenceStepPairs.reordered(pairs));
    }
    List<StepSummary> many = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      many.add(step(r.nextInt(3) == 0 ? Integer.MIN_VALUE + r.nextInt(3) : r.nextInt(2) == 0 ? Integer.MAX_VALUE - r.nextInt(3) : i));
    }
    List<StepSummary> shuffled = new ArrayList<>(many);
    java.util.Collections.shuffle(shuffled, r);
    assertThat(StepPairs.of(many, shuffled)).isEqualTo(ReferenceStepPairs.of(many, shuffled));
    assertThat(StepPairs.reordered(StepPairs.of(many, shuffled))).isEqualTo(ReferenceStepPairs.reordered(ReferenceStepPairs.of(many, shuffled)));
  }

  private static List<StepSummary> steps(Random r) {
    List<StepSummary> s = new ArrayList<>();
    for (int i = r.nextInt(12); i > 0; i--) {
      s.add(step(r.nextInt(11) - 2));
    }
    return s;
  }

  private static StepSummary step(int index) {
    return new StepSummary(index, "s" + index, "compute", false, "h", "", "", "");
  }
}
