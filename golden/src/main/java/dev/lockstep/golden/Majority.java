package dev.lockstep.golden;

import java.util.List;
import java.util.Map;

/** With three or more replicas, the majority canonical hash is good and dissenters are blamed. */
public final class Majority {
  private Majority() {}

  /**
   * @param goodHash the majority canonical hash, null when there is no strict majority
   * @param dissenters keys whose replica differs from the majority, in key order
   */
  public record Vote<K>(String goodHash, List<K> dissenters) {}

  public static <K extends Comparable<K>> Vote<K> vote(Map<K, RunSummary> replicas) {
    throw new UnsupportedOperationException("golden engine: not yet implemented");
  }
}
