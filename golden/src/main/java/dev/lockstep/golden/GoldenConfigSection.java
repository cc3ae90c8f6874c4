package dev.lockstep.golden;

import dev.lockstep.golden.GoldenConfig.DiffOptions;
import dev.lockstep.golden.GoldenConfig.Limits;
import dev.lockstep.golden.GoldenConfig.Mapping;
import dev.lockstep.golden.GoldenConfig.VolatileMask;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the {@code limits}/{@code volatile}/{@code mapping}/{@code diff} config section into a {@link GoldenConfig}.
 * The one parser agent, collector and CLI share, so all three hash and diff the same way; every
 * error names the full key.
 */
final class GoldenConfigSection {
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KB|KiB|MB|MiB|GB|GiB)?", Pattern.CASE_INSENSITIVE);

  private final String where;

  private GoldenConfigSection(String where) {
    this.where = where == null || where.isEmpty() ? "golden" : where;
  }

  static GoldenConfig read(Map<String, ?> section, String where) {
    GoldenConfigSection r = new GoldenConfigSection(where);
    if (section == null) {
      return GoldenConfig.DEFAULT;
    }
    r.keys(section, "", Set.of("limits", "volatile", "mapping", "diff"));
    return new GoldenConfig(r.limits(r.map(section, "limits")), r.mapping(r.map(section, "mapping")),
        r.mask(r.map(section, "volatile")), r.diff(r.map(section, "diff")));
  }

  private DiffOptions diff(Map<String, ?> m) {
    keys(m, "diff", Set.of("array_keys", "max_differences"));
    long max = whole(m.get("max_differences"), "diff.max_differences", DiffOptions.DEFAULT.maxDifferences());
    range("diff.max_differences", max, 1, 1_000_000);
    Map<String, String> arrayKeys = new LinkedHashMap<>();
    Map<String, ?> given = map(m, "array_keys", "diff.array_keys");
    for (Map.Entry<String, ?> e : given.entrySet()) {
      String full = "diff.array_keys." + e.getKey();
      if (e.getKey().isEmpty() || e.getKey().charAt(0) != '/') {
        throw error(full, "must be a JSON Pointer glob of an array starting with '/'");
      }
      Object v = e.getValue();
      if (v == null || v instanceof Map<?, ?> || v instanceof List<?> || v.toString().isEmpty()) {
        throw error(full, "must name the member that identifies the array's elements, e.g. id");
      }
      arrayKeys.put(e.getKey(), v.toString());
    }
    if (arrayKeys.size() > DiffOptions.MAX_ARRAY_KEYS) {
      throw error("diff.array_keys", "may list at most " + DiffOptions.MAX_ARRAY_KEYS + " arrays");
    }
    return new DiffOptions(arrayKeys, (int) max);
  }

  private Limits limits(Map<String, ?> m) {
    Limits d = Limits.DEFAULT;
    keys(m, "limits", Set.of("max_bytes", "max_depth", "max_string_length"));
    long maxBytes = size(m.get("max_bytes"), "limits.max_bytes", d.maxBytes());
    long maxDepth = whole(m.get("max_depth"), "limits.max_depth", d.maxDepth());
    long maxString = size(m.get("max_string_length"), "limits.max_string_length", d.maxStringLength());
    range("limits.max_bytes", maxBytes, 1, Integer.MAX_VALUE - 16);
    range("limits.max_depth", maxDepth, 1, Limits.MAX_DEPTH_LIMIT);
    range("limits.max_string_length", maxString, 1, Integer.MAX_VALUE);
    return new Limits(maxBytes, (int) maxDepth, (int) maxString);
  }

  private Mapping mapping(Map<String, ?> m) {
    Mapping d = Mapping.DEFAULT;
    keys(m, "mapping", Set.of("run_id", "workflow", "role", "seed", "run_hash", "output", "steps", "step_index",
        "step_name", "step_kind", "step_hash", "rng_keys", "response_key"));
    String runId = pointer(m, "run_id", d.runId());
    if (runId.isEmpty()) {
      throw error("mapping.run_id", "must be a JSON Pointer such as /run_id, got \"\"");
    }
    List<String> rngKeys = m.containsKey("rng_keys") && m.get("rng_keys") != null
        ? strings(m.get("rng_keys"), "mapping.rng_keys") : d.rngKeys();
    if (rngKeys.size() > Mapping.MAX_RNG_KEYS) {
      throw error("mapping.rng_keys", "may list at most " + Mapping.MAX_RNG_KEYS + " keys, got " + rngKeys.size());
    }
    for (int i = 0; i < rngKeys.size(); i++) literal("mapping.rng_keys[" + i + "]", rngKeys.get(i));
    return new Mapping(runId, pointer(m, "workflow", d.workflow()), pointer(m, "role", d.role()),
        pointer(m, "seed", d.seed()), pointer(m, "run_hash", d.runHash()), pointer(m, "output", d.output()),
        pointer(m, "steps", d.steps()), pointer(m, "step_index", d.stepIndex()),
        pointer(m, "step_name", d.stepName()), pointer(m, "step_kind", d.stepKind()),
        pointer(m, "step_hash", d.stepHash()), rngKeys,
        literal("mapping.response_key", string(m, "response_key", "mapping.response_key", d.responseKey())));
  }

  /**
   * {@code s} (a mapping pointer or key) with no segment {@code *} or {@code **}: those are
   * wildcards in volatile.pointers, and the masking and reading code treats them as wildcards
   * wherever it meets them, so a mapping such as /* /role would also mask the role member of
   * every other object at that depth (a real difference there would read as a match), against
   * the spec's literal pointers.
   */
  private String literal(String key, String s) {
    for (String segment : s.split("/", -1)) {
      if (segment.equals("*") || segment.equals("**")) {
        throw error(key, "must be literal: '*' and '**' are wildcards only in volatile.pointers, got \""
            + s + "\"");
      }
    }
    return s;
  }

  private VolatileMask mask(Map<String, ?> m) {
    VolatileMask d = VolatileMask.DEFAULT;
    keys(m, "volatile", Set.of("names", "pointers", "replace_defaults"));
    boolean replace = bool(m, "replace_defaults", "volatile.replace_defaults");
    Set<String> names = new LinkedHashSet<>(replace ? Set.of() : d.names());
    if (m.get("names") != null) {
      List<String> given = strings(m.get("names"), "volatile.names");
      for (int i = 0; i < given.size(); i++) {
        if (given.get(i).isEmpty()) {
          throw error("volatile.names[" + i + "]", "must not be empty");
        }
      }
      names.addAll(given);
    }
    List<String> globs = new ArrayList<>(replace ? List.of() : d.pointerGlobs());
    if (m.get("pointers") != null) {
      List<String> given = strings(m.get("pointers"), "volatile.pointers");
      for (int i = 0; i < given.size(); i++) {
        String g = given.get(i);
        if (g.isEmpty() || g.charAt(0) != '/') {
          throw error("volatile.pointers[" + i + "]", "must be a JSON Pointer glob starting with '/', got \"" + g + "\"");
        }
      }
      globs.addAll(given);
    }
    return new VolatileMask(names, globs);
  }

  // ---------------------------------------------------------------------------------- readers

  private IllegalArgumentException error(String key, String problem) {
    // "agent.yaml: golden" + ".mapping.run_id", or "golden.yaml: " + "mapping.run_id" for a top-level section
    return new IllegalArgumentException(where + (where.endsWith(" ") ? "" : ".") + key + " " + problem);
  }

  private void keys(Map<String, ?> m, String at, Set<String> allowed) {
    for (String k : m.keySet()) {
      if (!allowed.contains(k)) {
        throw error((at.isEmpty() ? "" : at + ".") + k,
            "is not a known key (known: " + String.join(", ", new TreeSet<>(allowed)) + ")");
      }
    }
  }

  private Map<String, ?> map(Map<String, ?> parent, String key) {
    return map(parent, key, key);
  }

  @SuppressWarnings("unchecked")
  private Map<String, ?> map(Map<String, ?> parent, String key, String full) {
    Object v = parent.get(key);
    if (v == null) {
      return Map.of();
    }
    if (!(v instanceof Map<?, ?> m)) {
      throw error(full, "must be a mapping");
    }
    for (Object k : m.keySet()) {
      if (!(k instanceof String)) {
        throw error(full, "must have string keys, got " + k);
      }
    }
    return (Map<String, ?>) m;
  }

  private String pointer(Map<String, ?> m, String key, String def) {
    String s = string(m, key, "mapping." + key, def);
    if (!s.isEmpty() && s.charAt(0) != '/') {
      throw error("mapping." + key, "must be a JSON Pointer starting with '/', got \"" + s + "\"");
    }
    return literal("mapping." + key, s);
  }

  private String string(Map<String, ?> m, String key, String full, String def) {
    Object v = m.get(key);
    if (v == null) {
      return def;
    }
    if (v instanceof Map<?, ?> || v instanceof List<?>) {
      throw error(full, "must be a string");
    }
    return v.toString();
  }

  private List<String> strings(Object v, String full) {
    if (v instanceof String s) {
      return List.of(s);
    }
    if (!(v instanceof List<?> list)) {
      throw error(full, "must be a list of strings");
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      Object e = list.get(i);
      if (e == null || e instanceof Map<?, ?> || e instanceof List<?>) {
        throw error(full + "[" + i + "]", "must be a string");
      }
      out.add(e.toString());
    }
    return out;
  }

  private boolean bool(Map<String, ?> m, String key, String full) {
    Object v = m.get(key);
    if (v == null) {
      return false;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    String s = v.toString().toLowerCase(Locale.ROOT);
    if (s.equals("true") || s.equals("yes") || s.equals("on")) {
      return true;
    }
    if (s.equals("false") || s.equals("no") || s.equals("off")) {
      return false;
    }
    throw error(full, "must be true or false, got \"" + v + "\"");
  }

  private long whole(Object v, String full, long def) {
    if (v == null) {
      return def;
    }
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof String s && s.trim().matches("\\d{1,18}")) {
      return Long.parseLong(s.trim());
    }
    throw error(full, "must be a whole number, got " + quoted(v));
  }

  private long size(Object v, String full, long def) {
    if (v == null) {
      return def;
    }
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof String s) {
      Matcher x = SIZE.matcher(s.trim());
      if (x.matches() && x.group(1).length() <= 12) {
        long n = Long.parseLong(x.group(1));
        String unit = x.group(2) == null ? "B" : x.group(2).toUpperCase(Locale.ROOT);
        return switch (unit) {
          case "KB", "KIB" -> n << 10;
          case "MB", "MIB" -> n << 20;
          case "GB", "GIB" -> n << 30;
          default -> n;
        };
      }
    }
    if (v instanceof BigInteger) {
      return Long.MAX_VALUE; // out of every range; range() names it
    }
    throw error(full, "must be a size like 65536, 512KiB, 64MiB, got " + quoted(v));
  }

  private void range(String full, long v, long min, long max) {
    if (v < min || v > max) {
      throw error(full, "must be between " + min + " and " + max + ", got " + v);
    }
  }

  private static String quoted(Object v) {
    return v instanceof String ? "\"" + v + "\"" : String.valueOf(v);
  }
}
