package dev.lockstep.golden;

import java.util.Map;

/**
 * The version of the golden format's canonical form and hashes (docs/golden-format.md). Agents and
 * collectors of different versions may hash the same file differently, and a difference in hashes
 * stops the fleet: every change that could change a hash bumps {@link #VERSION}, and
 * docs/golden-vectors.json (the documents with their canonical bytes and hashes that every
 * implementation must reproduce) is pinned to it by {@link #VECTORS}.
 */
public final class GoldenFormat {
  private GoldenFormat() {}

  /** The current version. Version 1 was the engine before exact integers (not published). */
  public static final int VERSION = 2;

  /**
   * SHA-256 of docs/golden-vectors.json for each released version. A new version adds an entry;
   * a released entry is never edited (a test fails when the file no longer matches).
   */
  public static final Map<Integer, String> VECTORS = Map.of(
      2, "sha256:6497ef395743131c2f2905fcf62193496da97c813e72ab8ea7401099dff29f75");
}
