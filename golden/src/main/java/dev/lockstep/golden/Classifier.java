package dev.lockstep.golden;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Applies DESIGN.md's ordered root-cause rules to two replicas' summaries (hashes only):
 * SEED_MISMATCH, then VOLATILE_LEAK, then at the first divergent step EXTERNAL_CALL, UNSEEDED_RNG,
 * DETERMINISM_VIOLATION. Equal canonical hashes with no engine-hash difference are a match.
 */
public final class Classifier {
  private Classifier() {}

  public static Classification classify(RunSummary a, RunSummary b) {
    if (!Objects.equals(a.seed(), b.seed())) {
      return new Classification(false, Category.SEED_MISMATCH, null,
          "seeds differ: " + seedText(a.seed()) + " (" + label(a, "A") + ") vs "
              + seedText(b.seed()) + " (" + label(b, "B") + ")");
    }
    if (a.canonicalHash().equals(b.canonicalHash())) {
      List<String> engineDiffs = engineHashDifferences(a, b);
      if (engineDiffs.isEmpty()) {
        return Classification.matched();
      }
      StepRef first = firstDivergentStep(a, b);
      return new Classification(false, Category.VOLATILE_LEAK, first,
          "masked documents are equal but the engine's " + String.join(", ", engineDiffs)
              + " differ: the engine hashes a volatile field");
    }
    StepRef first = firstDivergentStep(a, b);
    if (first == null) {
      String where = a.outputHash().equals(b.outputHash()) ? "outside the steps" : "in the run output";
      return new Classification(false, Category.DETERMINISM_VIOLATION, null,
          "documents differ " + where + "; every step agrees");
    }
    int i = firstDivergentPosition(a, b);
    StepSummary sa = i < a.steps().size() ? a.steps().get(i) : null;
    StepSummary sb = i < b.steps().size() ? b.steps().get(i) : null;
    String step = describe(first);
    if (sa == null || sb == null) {
      return new Classification(false, Category.DETERMINISM_VIOLATION, first,
          step + " is missing in " + (sa == null ? label(a, "A") : label(b, "B")));
    }
    if ((sa.external() || sb.external()) && !sa.responseHash().equals(sb.responseHash())) {
      return new Classification(false, Category.EXTERNAL_CALL, first,
          step + " is an external call and its response differs");
    }
    if (!sa.rngHash().equals(sb.rngHash())) {
      return new Classification(false, Category.UNSEEDED_RNG, first,
          step + ": random values differ under the same seed (unseeded RNG?)");
    }
    String what = sa.canonicalHash().equals(sb.canonicalHash())
        ? "engine step hash differs" : "content differs";
    return new Classification(false, Category.DETERMINISM_VIOLATION, first, step + ": " + what);
  }

  /**
   * The lowest step position whose canonical or engine hash differs; a missing or extra step
   * diverges at its position. Null when every step agrees.
   */
  static StepRef firstDivergentStep(RunSummary a, RunSummary b) {
    int i = firstDivergentPosition(a, b);
    if (i < 0) {
      return null;
    }
    StepSummary s = i < a.steps().size() ? a.steps().get(i) : b.steps().get(i);
    return new StepRef(s.index(), s.name());
  }

  /** Position in the steps array of the first divergent step, -1 when every step agrees. */
  static int firstDivergentPosition(RunSummary a, RunSummary b) {
    int n = Math.max(a.steps().size(), b.steps().size());
    for (int i = 0; i < n; i++) {
      StepSummary sa = i < a.steps().size() ? a.steps().get(i) : null;
      StepSummary sb = i < b.steps().size() ? b.steps().get(i) : null;
      if (sa == null || sb == null
          || !sa.canonicalHash().equals(sb.canonicalHash())
          || !sa.engineHash().equals(sb.engineHash())) {
        return i;
      }
    }
    return -1;
  }

  private static List<String> engineHashDifferences(RunSummary a, RunSummary b) {
    List<String> out = new ArrayList<>();
    if (!a.engineHash().equals(b.engineHash())) {
      out.add("run hash");
    }
    int n = Math.min(a.steps().size(), b.steps().size());
    for (int i = 0; i < n; i++) {
      StepSummary sa = a.steps().get(i);
      if (!sa.engineHash().equals(b.steps().get(i).engineHash())) {
        out.add(describe(new StepRef(sa.index(), sa.name())) + " hash");
      }
    }
    return out;
  }

  static String describe(StepRef step) {
    return "step " + step.index() + (step.name() == null || step.name().isEmpty() ? "" : " '" + step.name() + "'");
  }

  private static String label(RunSummary s, String side) {
    return s.role() == null || s.role().isEmpty() ? side : s.role();
  }

  private static String seedText(Long seed) {
    return seed == null ? "none" : seed.toString();
  }
}
