package dev.lockstep.golden;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Structural diff and classification of two golden documents of the same run. The verdict and
 * category come from {@link Classifier} on the two summaries, so a diff never disagrees with what
 * agents and the collector decide from hashes; the diff adds the paths and values behind it.
 */
public final class GoldenDiff {
  private GoldenDiff() {}

  private static final int PATHS_IN_EXPLANATION = 5;

  /** @throws IllegalArgumentException when the documents belong to different runs. */
  public static DiffReport diff(GoldenDocument a, GoldenDocument b, GoldenConfig config) {
    RunSummary sa = a.summary();
    RunSummary sb = b.summary();
    if (!sa.runId().equals(sb.runId())) {
      throw new IllegalArgumentException("refusing to compare different runs: run_id \"" + sa.runId()
          + "\" (" + a.source() + ") vs \"" + sb.runId() + "\" (" + b.source() + ")");
    }
    List<Difference> differences = differences(a.tree(), b.tree(), config);
    Classification c = Classifier.classify(sa, sb);
    String explanation = explain(c, differences, Classifier.firstDivergentPosition(sa, sb), config);
    String workflow = sa.workflow().isEmpty() ? sb.workflow() : sa.workflow();
    return new DiffReport(sa.runId(), workflow, c.match(), c.category(), c.firstDivergentStep(),
        explanation, a.source(), b.source(), differences);
  }

  /** Every difference between two trees, in document order with keys sorted; identity fields skipped. */
  static List<Difference> differences(JsonNode a, JsonNode b, GoldenConfig config) {
    Walk w = new Walk(Mask.volatileOnly(config), identityMask(config));
    w.diff(a, b, false);
    return w.out;
  }

  private static Mask identityMask(GoldenConfig config) {
    String role = config.mapping().role();
    return new Mask(Set.of(), role == null || role.isEmpty() ? List.of() : List.of(role));
  }

  private static final class Walk {
    final Mask volatiles;
    final Mask identity;
    final PathStack path = new PathStack();
    final List<Difference> out = new ArrayList<>();

    Walk(Mask volatiles, Mask identity) {
      this.volatiles = volatiles;
      this.identity = identity;
    }

    void diff(JsonNode x, JsonNode y, boolean vol) {
      if (!sameType(x, y)) {
        add(Difference.Kind.TYPE, text(x), text(y), vol);
        return;
      }
      switch (x.getNodeType()) {
        case OBJECT -> diffObjects(x, y, vol);
        case ARRAY -> diffArrays(x, y, vol);
        case NUMBER -> {
          if (x.doubleValue() != y.doubleValue() || !sameIntegral(x, y)) {
            add(Difference.Kind.VALUE, text(x), text(y), vol);
          }
        }
        case STRING -> {
          if (!x.textValue().equals(y.textValue())) {
            add(Difference.Kind.VALUE, text(x), text(y), vol);
          }
        }
        case BOOLEAN -> {
          if (x.booleanValue() != y.booleanValue()) {
            add(Difference.Kind.VALUE, text(x), text(y), vol);
          }
        }
        default -> { } // null == null
      }
    }

    /** Longs beyond 2^53 are compared exactly when both sides are integers. */
    private static boolean sameIntegral(JsonNode x, JsonNode y) {
      if (x.isIntegralNumber() && y.isIntegralNumber()) {
        return x.bigIntegerValue().equals(y.bigIntegerValue())
            || Es6Number.format(x.doubleValue()).equals(Es6Number.format(y.doubleValue()));
      }
      return true;
    }

    private void diffObjects(JsonNode x, JsonNode y, boolean vol) {
      String[] keys = keys(x, y);
      for (String key : keys) {
        if (identity.masks(path, key)) {
          continue;
        }
        boolean kv = vol || volatiles.masks(path, key);
        JsonNode xv = x.get(key);
        JsonNode yv = y.get(key);
        path.pushKey(key);
        if (yv == null) {
          add(Difference.Kind.MISSING, text(xv), null, kv);
        } else if (xv == null) {
          add(Difference.Kind.EXTRA, null, text(yv), kv);
        } else {
          diff(xv, yv, kv);
        }
        path.pop();
      }
    }

    private static String[] keys(JsonNode x, JsonNode y) {
      String[] keys = new String[x.size() + y.size()];
      int n = 0;
      for (Iterator<String> it = x.fieldNames(); it.hasNext(); ) {
        keys[n++] = it.next();
      }
      for (Iterator<String> it = y.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!x.has(k)) {
          keys[n++] = k;
        }
      }
      keys = Arrays.copyOf(keys, n);
      Arrays.sort(keys);
      return keys;
    }

    private void diffArrays(JsonNode x, JsonNode y, boolean vol) {
      int nx = x.size();
      int ny = y.size();
      if (nx != ny) {
        add(Difference.Kind.ARRAY_LENGTH, Integer.toString(nx), Integer.toString(ny), vol);
      }
      int n = Math.max(nx, ny);
      for (int i = 0; i < n; i++) {
        path.pushIndex(i);
        if (i >= ny) {
          add(Difference.Kind.MISSING, text(x.get(i)), null, vol);
        } else if (i >= nx) {
          add(Difference.Kind.EXTRA, null, text(y.get(i)), vol);
        } else {
          diff(x.get(i), y.get(i), vol);
        }
        path.pop();
      }
    }

    private void add(Difference.Kind kind, String a, String b, boolean vol) {
      out.add(new Difference(path.pointer(), kind, a, b, vol));
    }

    private static boolean sameType(JsonNode x, JsonNode y) {
      return x.getNodeType() == y.getNodeType();
    }

    private static String text(JsonNode n) {
      return Canonical.toText(n);
    }
  }

  private static String explain(Classification c, List<Difference> diffs, int stepPosition, GoldenConfig config) {
    if (c.match()) {
      long vol = diffs.stream().filter(Difference::volatileField).count();
      return vol == 0 ? "replicas agree" : "replicas agree (" + vol + " volatile difference"
          + (vol == 1 ? "" : "s") + " ignored)";
    }
    if (c.category() == Category.SEED_MISMATCH) {
      return c.explanation();
    }
    if (c.category() == Category.VOLATILE_LEAK) {
      List<String> vol = diffs.stream().filter(Difference::volatileField).map(Difference::path).toList();
      return c.explanation() + "; volatile paths that differ: "
          + (vol.isEmpty() ? "none (the engine hash covers something else)" : summarize(vol));
    }
    String prefix = null;
    if (c.firstDivergentStep() != null && stepPosition >= 0) {
      prefix = config.mapping().steps() + "/" + stepPosition;
      if (c.category() == Category.EXTERNAL_CALL) {
        prefix = prefix + pathOf(config.mapping().responseKey());
      }
    }
    List<String> paths = new ArrayList<>();
    for (Difference d : diffs) {
      if (!d.volatileField() && (prefix == null || d.path().equals(prefix) || d.path().startsWith(prefix + "/"))) {
        paths.add(d.path());
      }
    }
    if (c.category() == Category.UNSEEDED_RNG) {
      List<String> rng = paths.stream().filter(p -> isUnderRngKey(p, config)).toList();
      if (!rng.isEmpty()) {
        paths = rng;
      }
    }
    return paths.isEmpty() ? c.explanation() : c.explanation() + " at " + summarize(paths);
  }

  private static boolean isUnderRngKey(String path, GoldenConfig config) {
    for (String key : config.mapping().rngKeys()) {
      String seg = pathOf(key);
      if (path.contains(seg + "/") || path.endsWith(seg)) {
        return true;
      }
    }
    return false;
  }

  private static String pathOf(String keyOrPointer) {
    return keyOrPointer.startsWith("/") ? keyOrPointer : "/" + Pointer.escape(keyOrPointer);
  }

  private static String summarize(List<String> paths) {
    Set<String> unique = new TreeSet<>();
    List<String> ordered = new ArrayList<>();
    for (String p : paths) {
      if (unique.add(p)) {
        ordered.add(p);
      }
    }
    if (ordered.size() <= PATHS_IN_EXPLANATION) {
      return String.join(", ", ordered);
    }
    return String.join(", ", ordered.subList(0, PATHS_IN_EXPLANATION))
        + " and " + (ordered.size() - PATHS_IN_EXPLANATION) + " more";
  }
}
