package dev.lockstep.golden;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

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
    TreeMap<Integer, List<Integer>> byIndexA = byIndex(a);
    TreeMap<Integer, List<Integer>> byIndexB = byIndex(b);
    TreeMap<Integer, Boolean> all = new TreeMap<>();
    byIndexA.keySet().forEach(k -> all.put(k, true));
    byIndexB.keySet().forEach(k -> all.put(k, true));
    List<Pair> pairs = new ArrayList<>(Math.max(a.size(), b.size()));
    for (int index : all.keySet()) {
      List<Integer> pa = byIndexA.getOrDefault(index, List.of());
      List<Integer> pb = byIndexB.getOrDefault(index, List.of());
      for (int k = 0; k < Math.max(pa.size(), pb.size()); k++) {
        pairs.add(new Pair(index, k < pa.size() ? pa.get(k) : -1, k < pb.size() ? pb.get(k) : -1));
      }
    }
    return pairs;
  }

  /** Whether the paired steps come in another order in B than in A. */
  static boolean reordered(List<Pair> pairs) {
    TreeMap<Integer, Integer> bByA = new TreeMap<>();
    for (Pair p : pairs) {
      if (p.both()) {
        bByA.put(p.a(), p.b());
      }
    }
    int last = -1;
    for (int b : bByA.values()) {
      if (b < last) {
        return true;
      }
      last = b;
    }
    return false;
  }

  private static TreeMap<Integer, List<Integer>> byIndex(List<StepSummary> steps) {
    TreeMap<Integer, List<Integer>> m = new TreeMap<>();
    for (int i = 0; i < steps.size(); i++) {
      m.computeIfAbsent(steps.get(i).index(), k -> new ArrayList<>(1)).add(i);
    }
    return m;
  }
}
