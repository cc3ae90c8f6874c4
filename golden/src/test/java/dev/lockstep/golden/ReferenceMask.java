package dev.lockstep.golden;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Test reference: decides which object members are left out: volatile names at any depth and JSON-Pointer globs
 * ({@code *} one segment, {@code **} any number of segments). Globs apply to object members.
 */
final class ReferenceMask {
  private final Set<String> names;
  private final List<String[]> globs;
  private final boolean[] hasDoubleStar;

  ReferenceMask(Set<String> names, List<String> pointerGlobs) {
    this.names = Set.copyOf(names);
    List<String[]> g = new ArrayList<>();
    for (String glob : pointerGlobs) {
      g.add(Pointer.split(glob).toArray(new String[0]));
    }
    this.globs = List.copyOf(g);
    this.hasDoubleStar = new boolean[g.size()];
    for (int i = 0; i < g.size(); i++) {
      this.hasDoubleStar[i] = java.util.Arrays.asList(g.get(i)).contains("**");
    }
  }

  static ReferenceMask volatileOnly(GoldenConfig config) {
    return new ReferenceMask(config.mask().names(), config.mask().pointerGlobs());
  }

  /**
   * Volatile fields, the replica's role (primary and shadow always differ there) and the engine's
   * own run and step hash fields (compared separately).
   */
  static ReferenceMask forContent(GoldenConfig config) {
    List<String> globs = new ArrayList<>(config.mask().pointerGlobs());
    GoldenConfig.Mapping m = config.mapping();
    if (m.role() != null && !m.role().isEmpty()) {
      globs.add(m.role());
    }
    if (m.runHash() != null && !m.runHash().isEmpty()) {
      globs.add(m.runHash());
    }
    if (m.steps() != null && m.stepHash() != null && !m.stepHash().isEmpty()) {
      globs.add(m.steps() + "/*" + m.stepHash());
    }
    return new ReferenceMask(config.mask().names(), globs);
  }

  boolean isEmpty() {
    return names.isEmpty() && globs.isEmpty();
  }

  /** Whether member {@code key} of the object at {@code path} is masked. */
  boolean masks(ReferencePath path, String key) {
    if (names.contains(key)) {
      return true;
    }
    if (globs.isEmpty()) {
      return false;
    }
    int n = path.depth() + 1;
    for (int i = 0; i < globs.size(); i++) {
      String[] g = globs.get(i);
      if (!hasDoubleStar[i]) {
        // cheap rejections first: exact length, last segment
        if (g.length != n) {
          continue;
        }
        String last = g[n - 1];
        if (!last.equals("*") && !last.equals(key)) {
          continue;
        }
      }
      if (matches(g, 0, path, key, n, 0)) {
        return true;
      }
    }
    return false;
  }

  private static boolean matches(String[] g, int gi, ReferencePath path, String key, int n, int pi) {
    while (true) {
      if (gi == g.length) {
        return pi == n;
      }
      String tok = g[gi];
      if (tok.equals("**")) {
        for (int skip = pi; skip <= n; skip++) {
          if (matches(g, gi + 1, path, key, n, skip)) {
            return true;
          }
        }
        return false;
      }
      if (pi == n) {
        return false;
      }
      if (!tok.equals("*")) {
        String seg = pi == n - 1 ? key : path.segment(pi);
        if (!tok.equals(seg)) {
          return false;
        }
      }
      gi++;
      pi++;
    }
  }
}
