package dev.lockstep.golden;

/** Applies DESIGN.md's ordered root-cause rules to two replicas' summaries (hashes only). */
public final class Classifier {
  private Classifier() {}

  public static Classification classify(RunSummary a, RunSummary b) {
    throw new UnsupportedOperationException("golden engine: not yet implemented");
  }
}
