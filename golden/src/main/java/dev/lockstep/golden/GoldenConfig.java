package dev.lockstep.golden;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How golden files are read: size/depth limits, where the fields live (JSON Pointers), which
 * fields are volatile, and how diffs align arrays. Shared by agent, collector and CLI so all three
 * hash the same way ({@code diff} changes only how differences are listed, never a hash).
 */
public record GoldenConfig(Limits limits, Mapping mapping, VolatileMask mask, DiffOptions diff) {

  public static final GoldenConfig DEFAULT =
      new GoldenConfig(Limits.DEFAULT, Mapping.DEFAULT, VolatileMask.DEFAULT, DiffOptions.DEFAULT);

  public GoldenConfig {
    if (limits == null || mapping == null || mask == null) {
      throw new IllegalArgumentException("golden config: limits, mapping and volatile are required");
    }
    diff = diff == null ? DiffOptions.DEFAULT : diff;
  }

  /** A config with the default diff options. */
  public GoldenConfig(Limits limits, Mapping mapping, VolatileMask mask) {
    this(limits, mapping, mask, DiffOptions.DEFAULT);
  }

  /**
   * Reads a config section shaped {@code {limits: {...}, volatile: {...}, mapping: {...}, diff: {...}}}, as parsed
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

  /**
   * Parser limits. A file beyond any of them is refused with a typed error. {@code maxStringLength}
   * counts the bytes of a string (or member name) as written between its quotes.
   */
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
    /** At most this many rng keys. */
    public static final int MAX_RNG_KEYS = 16;

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
      if (rngKeys.size() > MAX_RNG_KEYS) {
        throw new IllegalArgumentException("golden mapping: rng_keys may list at most " + MAX_RNG_KEYS
            + " keys, got " + rngKeys.size());
      }
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

  /**
   * How {@code lockstep diff} lists differences (hashes never depend on it): {@code arrayKeys} maps a
   * pointer glob of an array (e.g. {@code /steps/*}{@code /output/accounts}) to the member that
   * identifies its elements (e.g. {@code id}), so those elements are paired by that member instead
   * of by position; {@code maxDifferences} caps the differences a report lists (the rest are
   * counted).
   */
  public record DiffOptions(java.util.Map<String, String> arrayKeys, int maxDifferences) {
    public static final int MAX_ARRAY_KEYS = 32;
    public static final DiffOptions DEFAULT = new DiffOptions(java.util.Map.of(), 1000);

    public DiffOptions {
      arrayKeys = arrayKeys == null ? java.util.Map.of()
          : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(arrayKeys));
      if (arrayKeys.size() > MAX_ARRAY_KEYS) {
        throw new IllegalArgumentException("golden diff: array_keys may list at most " + MAX_ARRAY_KEYS
            + " arrays, got " + arrayKeys.size());
      }
      for (java.util.Map.Entry<String, String> e : arrayKeys.entrySet()) {
        if (e.getKey() == null || e.getKey().isEmpty() || e.getKey().charAt(0) != '/') {
          throw new IllegalArgumentException(
              "golden diff: array_keys pointer must start with '/', got \"" + e.getKey() + "\"");
        }
        if (e.getValue() == null || e.getValue().isEmpty()) {
          throw new IllegalArgumentException("golden diff: array_keys." + e.getKey() + " must name a member");
        }
      }
      if (maxDifferences < 1 || maxDifferences > 1_000_000) {
        throw new IllegalArgumentException(
            "golden diff: max_differences must be between 1 and 1000000, got " + maxDifferences);
      }
    }
  }
}
