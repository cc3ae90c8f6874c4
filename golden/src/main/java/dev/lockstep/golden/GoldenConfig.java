package dev.lockstep.golden;

import java.util.List;
import java.util.Set;

/**
 * How golden files are read: size/depth limits, where the fields live (JSON Pointers), and which
 * fields are volatile. Shared by agent, collector and CLI so all three hash the same way.
 */
public record GoldenConfig(Limits limits, Mapping mapping, VolatileMask mask) {

  public static final GoldenConfig DEFAULT =
      new GoldenConfig(Limits.DEFAULT, Mapping.DEFAULT, VolatileMask.DEFAULT);

  /** Parser limits. A file beyond any of them is refused with a typed error before it is read whole. */
  public record Limits(long maxBytes, int maxDepth, int maxStringLength) {
    public static final Limits DEFAULT = new Limits(64L << 20, 512, 16 << 20);
  }

  /**
   * JSON Pointers to the fields of a golden layout. Step-relative pointers ({@code stepName} …) are
   * evaluated against each element of the {@code steps} array.
   */
  public record Mapping(
      String runId,
      String workflow,
      String role,
      String seed,
      String runHash,
      String output,
      String steps,
      String stepIndex,
      String stepName,
      String stepKind,
      String stepHash,
      List<String> rngKeys,
      String responseKey) {
    public static final Mapping DEFAULT =
        new Mapping("/run_id", "/workflow", "/role", "/seed", "/hash", "/output", "/steps",
            "/index", "/name", "/kind", "/hash", List.of("rng"), "response");
  }

  /**
   * Volatile fields, masked before hashing and comparing: {@code names} match a key at any depth;
   * {@code pointerGlobs} are JSON Pointers where {@code *} matches one path segment and {@code **}
   * any number of segments.
   */
  public record VolatileMask(Set<String> names, List<String> pointerGlobs) {
    public static final VolatileMask DEFAULT = new VolatileMask(
        Set.of("timestamp", "duration_ms", "elapsed_ms", "started_at", "finished_at", "created_at"),
        List.of());
  }
}
