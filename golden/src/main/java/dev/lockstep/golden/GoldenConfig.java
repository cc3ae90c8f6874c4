package dev.lockstep.golden;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How golden files are read: size/depth limits, where the fields live (JSON Pointers), and which
 * fields are volatile. Shared by agent, collector and CLI so all three hash the same way.
 */
public record GoldenConfig(Limits limits, Mapping mapping, VolatileMask mask) {

  public static final GoldenConfig DEFAULT =
      new GoldenConfig(Limits.DEFAULT, Mapping.DEFAULT, VolatileMask.DEFAULT);

  /**
   * Reads a config section shaped {@code {limits: {...}, volatile: {...}, mapping: {...}}}, as parsed
   * generically from YAML or JSON (maps, lists, strings, numbers, booleans). Every key is optional and
   * defaults to {@link #DEFAULT}; volatile names and pointers are added to the defaults unless
   * {@code volatile.replace_defaults} is true. A null section is {@link #DEFAULT}.
   *
   * @param where the prefix for error messages, e.g. {@code "agent.yaml: golden"}; one ending in a
   *     space (such as {@code "golden.yaml: "}) is followed by the key directly
   * @throws IllegalArgumentException for an unknown key or a bad value, naming the full key
   */
  public static GoldenConfig fromMap(Map<String, ?> section, String where) {
    return GoldenConfigSection.read(section, where);
  }

  /** Parser limits. A file beyond any of them is refused with a typed error before it is read whole. */
  public record Limits(long maxBytes, int maxDepth, int maxStringLength) {
    public static final Limits DEFAULT = new Limits(64L << 20, 512, 16 << 20);

    /** The deepest nesting a config may allow: diffs walk the tree recursively. */
    public static final int MAX_DEPTH_LIMIT = 4096;

    public Limits {
      if (maxBytes < 1 || maxBytes > Integer.MAX_VALUE - 16) {
        throw new IllegalArgumentException(
            "golden limits: max_bytes must be between 1 and " + (Integer.MAX_VALUE - 16) + ", got " + maxBytes);
      }
      if (maxDepth < 1 || maxDepth > MAX_DEPTH_LIMIT) {
        throw new IllegalArgumentException(
            "golden limits: max_depth must be between 1 and " + MAX_DEPTH_LIMIT + ", got " + maxDepth);
      }
      if (maxStringLength < 1) {
        throw new IllegalArgumentException(
            "golden limits: max_string_length must be positive, got " + maxStringLength);
      }
    }
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

    public Mapping {
      pointer("run_id", runId);
      pointer("workflow", workflow);
      pointer("role", role);
      pointer("seed", seed);
      pointer("run_hash", runHash);
      pointer("output", output);
      pointer("steps", steps);
      pointer("step_index", stepIndex);
      pointer("step_name", stepName);
      pointer("step_kind", stepKind);
      pointer("step_hash", stepHash);
      rngKeys = rngKeys == null ? List.of() : List.copyOf(rngKeys);
      if (runId == null || runId.isEmpty()) {
        throw new IllegalArgumentException("golden mapping: run_id must be a JSON Pointer such as /run_id");
      }
    }

    private static void pointer(String key, String value) {
      if (value != null && !value.isEmpty() && value.charAt(0) != '/') {
        throw new IllegalArgumentException(
            "golden mapping: " + key + " must be a JSON Pointer starting with '/', got \"" + value + "\"");
      }
    }
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

    public VolatileMask {
      names = names == null ? Set.of() : Set.copyOf(names);
      pointerGlobs = pointerGlobs == null ? List.of() : List.copyOf(pointerGlobs);
      for (String glob : pointerGlobs) {
        if (glob.isEmpty() || glob.charAt(0) != '/') {
          throw new IllegalArgumentException(
              "golden volatile: pointer glob must start with '/', got \"" + glob + "\"");
        }
      }
    }
  }
}
