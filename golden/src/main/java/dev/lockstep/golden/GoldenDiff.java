package dev.lockstep.golden;

/** Structural diff and classification of two golden documents of the same run. */
public final class GoldenDiff {
  private GoldenDiff() {}

  /** @throws IllegalArgumentException when the documents belong to different runs. */
  public static DiffReport diff(GoldenDocument a, GoldenDocument b, GoldenConfig config) {
    throw new UnsupportedOperationException("golden engine: not yet implemented");
  }
}
