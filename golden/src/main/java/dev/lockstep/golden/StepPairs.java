package dev.lockstep.golden;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Steps of two replicas paired by their index (docs/golden-format.md, "First divergent step"):
 * pairs in ascending index order, the k-th step with an index in one replica paired with the k-th
 * step with that index in the other; a step without a partner is missing on one side.
 */
final class StepPairs {
  private StepPairs() {}

  /** Positions in each replica's steps array ({@code -1}: that replica has no such step). */
  record Pair(int index, int a, int b) {
    boolean both() {
      return a >= 0 && b >= 0;
    }
  }

  static List<Pair> of(List<StepSummary> a, List<StepSummary> b) {
    long[] ka = byIndex(a);
    long[] kb = byIndex(b);
    List<Pair> pairs = new ArrayList<>(Math.max(a.size(), b.size()));
    int i = 0;
    int j = 0;
    while (i < ka.length || j < kb.length) {
      int index = j == kb.length || (i < ka.length && index(ka[i]) <= index(kb[j])) ? index(ka[i]) : index(kb[j]);
      while (true) { // the k-th step with this index in A with the k-th in B
        boolean inA = i < ka.length && index(ka[i]) == index;
        boolean inB = j < kb.length && index(kb[j]) == index;
        if (!inA && !inB) {
          break;
        }
        pairs.add(new Pair(index, inA ? (int) ka[i++] : -1, inB ? (int) kb[j++] : -1));
      }
    }
    return pairs;
  }

  /** Whether the paired steps come in another order in B than in A. */
  static boolean reordered(List<Pair> pairs) {
    long[] ab = new long[pairs.size()];
    int n = 0;
    for (Pair p : pairs) {
      if (p.both()) {
        ab[n++] = ((long) p.a() << 32) | p.b();
      }
    }
    Arrays.sort(ab, 0, n);
    for (int k = 1; k < n; k++) {
      if ((int) ab[k] < (int) ab[k - 1]) {
        return true;
      }
    }
    return false;
  }

  /**
   * Each step as its index (high half) and position (low half), sorted: by index, and steps
   * sharing an index by position. Primitive longs, not maps of boxed integers: a golden file may
   * have a hundred thousand steps, and a diff pairs them several times.
   */
  private static long[] byIndex(List<StepSummary> steps) {
    long[] k = new long[steps.size()];
    for (int i = 0; i < k.length; i++) {
      k[i] = ((long) steps.get(i).index() << 32) | i;
    }
    Arrays.sort(k);
    return k;
  }

  private static int index(long key) {
    return (int) (key >> 32);
  }

}
