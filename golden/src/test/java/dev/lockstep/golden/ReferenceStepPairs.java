package dev.lockstep.golden;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The step pairing as first written (TreeMaps of boxed indices), kept as the reference that
 * {@link StepPairs} must agree with (StepPairsTest).
 */
final class ReferenceStepPairs {
  private ReferenceStepPairs() {}

  static List<StepPairs.Pair> of(List<StepSummary> a, List<StepSummary> b) {
    TreeMap<Integer, List<Integer>> byIndexA = byIndex(a);
    TreeMap<Integer, List<Integer>> byIndexB = byIndex(b);
    TreeMap<Integer, Boolean> all = new TreeMap<>();
    byIndexA.keySet().forEach(k -> all.put(k, true));
    byIndexB.keySet().forEach(k -> all.put(k, true));
    List<StepPairs.Pair> pairs = new ArrayList<>(Math.max(a.size(), b.size()));
    for (int index : all.keySet()) {
      List<Integer> pa = byIndexA.getOrDefault(index, List.of());
      List<Integer> pb = byIndexB.getOrDefault(index, List.of());
      for (int k = 0; k < Math.max(pa.size(), pb.size()); k++) {
        pairs.add(new StepPairs.Pair(index, k < pa.size() ? pa.get(k) : -1, k < pb.size() ? pb.get(k) : -1));
      }
    }
    return pairs;
  }

  /** Whether the paired steps come in another order in B than in A. */
  static boolean reordered(List<StepPairs.Pair> pairs) {
    TreeMap<Integer, Integer> bByA = new TreeMap<>();
    for (StepPairs.Pair p : pairs) {
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
