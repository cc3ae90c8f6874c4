package dev.lockstep.golden;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** With three or more replicas, the majority canonical hash is good and dissenters are blamed. */
public final class Majority {
  private Majority() {}

  /**
   * @param goodHash the majority canonical hash, null when there is no strict majority
   * @param dissenters keys whose replica differs from the majority, in key order (empty when
   *     there is no strict majority: nobody can be blamed)
   */
  public record Vote<K>(String goodHash, List<K> dissenters) {
    public Vote {
      dissenters = List.copyOf(dissenters);
    }
  }

  public static <K extends Comparable<K>> Vote<K> vote(Map<K, RunSummary> replicas) {
    Map<String, Integer> counts = new HashMap<>();
    for (RunSummary s : replicas.values()) {
      counts.merge(s.canonicalHash(), 1, Integer::sum);
    }
    String good = null;
    for (Map.Entry<String, Integer> e : counts.entrySet()) {
      if (e.getValue() * 2 > replicas.size()) {
        good = e.getKey();
      }
    }
    if (good == null) {
      return new Vote<>(null, List.of());
    }
    List<K> dissenters = new ArrayList<>();
    for (Map.Entry<K, RunSummary> e : new TreeMap<>(replicas).entrySet()) {
      if (!e.getValue().canonicalHash().equals(good)) {
        dissenters.add(e.getKey());
      }
    }
    return new Vote<>(good, dissenters);
  }
}
