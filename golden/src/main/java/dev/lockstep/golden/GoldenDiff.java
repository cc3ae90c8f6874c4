package dev.lockstep.golden;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Structural diff and classification of two golden documents of the same run. The verdict and
 * category come from {@link Classifier} on the two summaries, so a diff never disagrees with what
 * agents and the collector decide from hashes; the diff adds the paths and values behind it.
 */
public final class GoldenDiff {
  private GoldenDiff() {}

  private static final int PATHS_IN_EXPLANATION = 5;

  /** The report and the two documents drawn side by side, from one walk. */
  public record Compared(DiffReport report, SideBySide sideBySide) {}

  /** @throws IllegalArgumentException when the documents belong to different runs. */
  public static DiffReport diff(GoldenDocument a, GoldenDocument b, GoldenConfig config) {
    return compare(a, b, config, null).report();
  }

  /**
   * {@link #diff} plus the documents side by side ({@link SideBySide}), drawn from the same walk
   * so the view shows exactly what the report counts.
   *
   * @throws IllegalArgumentException when the documents belong to different runs.
   */
  public static Compared diffSideBySide(GoldenDocument a, GoldenDocument b, GoldenConfig config,
      SideBySide.Limits limits) {
    return compare(a, b, config, java.util.Objects.requireNonNull(limits, "limits"));
  }

  private static Compared compare(GoldenDocument a, GoldenDocument b, GoldenConfig config,
      SideBySide.Limits limits) {
    RunSummary sa = a.summary();
    RunSummary sb = b.summary();
    if (!sa.runId().equals(sb.runId())) {
      throw new IllegalArgumentException("refusing to compare different runs: run_id \"" + sa.runId()
          + "\" (" + a.source() + ") vs \"" + sb.runId() + "\" (" + b.source() + ")");
    }
    Classification c = Classifier.classify(sa, sb);
    GoldenDocument.Canonical ca = a.canonical();
    GoldenDocument.Canonical cb = b.canonical();
    CanonicalDiff walk = new CanonicalDiff(ca, cb, config, sa, sb);
    SideBySideDrawing drawing = limits == null ? null
        : new SideBySideDrawing(ca, cb, sa, sb, c.firstDivergentStep(), limits);
    walk.visit(drawing).run();
    List<Difference> listed = walk.listed();
    List<String> causes = causes(c, listed, stepPosition(c, sa, sb), config);
    String explanation = explain(c, listed, walk.volatileCount, causes);
    String workflow = sa.workflow().isEmpty() ? sb.workflow() : sa.workflow();
    DiffReport report = new DiffReport(sa.runId(), workflow, c.match(), c.category(), c.firstDivergentStep(),
        explanation, a.source(), b.source(), listed, c.findings(), walk.realCount, walk.volatileCount);
    return new Compared(report, drawing == null ? null
        : drawing.finish(a.source(), b.source(), causes.isEmpty() ? null : causes.get(0)));
  }

  /** Where the first divergent step sits in A's steps array (B's when A lacks it), or -1. */
  private static int stepPosition(Classification c, RunSummary a, RunSummary b) {
    if (c.firstDivergentStep() == null || c.category() == Category.SEED_MISMATCH) {
      return -1;
    }
    List<StepPairs.Pair> pairs = StepPairs.of(a.steps(), b.steps());
    StepPairs.Pair p = c.category() == Category.VOLATILE_LEAK ? null : Classifier.firstDivergent(a, b, pairs);
    if (p == null) {
      for (StepPairs.Pair q : pairs) {
        if (q.index() == c.firstDivergentStep().index()) {
          p = q;
          break;
        }
      }
    }
    return p == null ? -1 : p.a() >= 0 ? p.a() : p.b();
  }

  private static String explain(Classification c, List<Difference> diffs, long volatileCount, List<String> causes) {
    if (c.match()) {
      return volatileCount == 0 ? "replicas agree" : "replicas agree (" + volatileCount + " volatile difference"
          + (volatileCount == 1 ? "" : "s") + " ignored)";
    }
    if (c.category() == Category.SEED_MISMATCH) {
      return c.explanation();
    }
    if (c.category() == Category.VOLATILE_LEAK) {
      List<String> vol = diffs.stream().filter(Difference::volatileField).map(Difference::path).toList();
      return c.explanation() + "; volatile paths that differ: "
          + (vol.isEmpty() ? "none (the engine hash covers something else)" : summarize(vol));
    }
    return causes.isEmpty() ? c.explanation() : c.explanation() + " at " + summarize(causes);
  }

  /**
   * The real differences that explain a mismatch, in report order: those inside the first
   * divergent step (its response for an external call, its rng values for unseeded randomness
   * when there are any), or every real one when no step diverges. Empty for a match, a seed
   * mismatch or a volatile leak.
   */
  private static List<String> causes(Classification c, List<Difference> diffs, int stepPosition, GoldenConfig config) {
    if (c.match() || c.category() == Category.SEED_MISMATCH || c.category() == Category.VOLATILE_LEAK) {
      return List.of();
    }
    String prefix = null;
    if (stepPosition >= 0) {
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
    return paths;
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
    Set<String> ordered = new LinkedHashSet<>(paths);
    List<String> list = new ArrayList<>(ordered);
    if (list.size() <= PATHS_IN_EXPLANATION) {
      return String.join(", ", list);
    }
    return String.join(", ", list.subList(0, PATHS_IN_EXPLANATION))
        + " and " + (list.size() - PATHS_IN_EXPLANATION) + " more";
  }
}
