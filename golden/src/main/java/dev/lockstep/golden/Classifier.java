package dev.lockstep.golden;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Applies DESIGN.md's ordered root-cause rules to two replicas' summaries (hashes only):
 * SEED_MISMATCH, then VOLATILE_LEAK (masked documents equal, an engine hash differs), then at the
 * first divergent step EXTERNAL_CALL, UNSEEDED_RNG, DETERMINISM_VIOLATION. The first divergent
 * step is the lowest step index whose masked content differs, steps paired by index; a step that
 * differs only by its engine hash is a VOLATILE_LEAK finding, never the first divergence. Equal
 * canonical hashes with no engine-hash difference are a match.
 */
public final class Classifier {
  private Classifier() {}

  private static final int STEPS_NAMED = 5;

  public static Classification classify(RunSummary a, RunSummary b) {
    List<StepPairs.Pair> pairs = StepPairs.of(a.steps(), b.steps());
    List<StepRef> leaks = leakingSteps(a, b, pairs);
    if (!Objects.equals(a.seed(), b.seed())) {
      return new Classification(false, Category.SEED_MISMATCH, null,
          "seeds differ: " + seedText(a) + " (" + label(a, "A") + ") vs " + seedText(b) + " (" + label(b, "B") + ")"
              + alsoLeaks(leaks), findings(leaks));
    }
    if (a.canonicalHash().equals(b.canonicalHash())) {
      boolean runHash = !a.engineHash().equals(b.engineHash());
      if (!runHash && leaks.isEmpty()) {
        return Classification.matched();
      }
      List<String> what = new ArrayList<>();
      if (runHash) {
        what.add("run hash");
      }
      if (!leaks.isEmpty()) {
        what.add("hash of " + describe(leaks));
      }
      return new Classification(false, Category.VOLATILE_LEAK, leaks.isEmpty() ? null : leaks.get(0),
          "masked documents are equal but the engine's " + String.join(" and the ", what)
              + " differ: the engine hashes a volatile field");
    }
    StepPairs.Pair first = firstDivergent(a, b, pairs);
    if (first == null) {
      String where = !a.outputHash().equals(b.outputHash()) ? "in the run output"
          : StepPairs.reordered(pairs) ? "in the order of the steps" : "outside the steps";
      return new Classification(false, Category.DETERMINISM_VIOLATION, null,
          "documents differ " + where + "; every step agrees" + alsoLeaks(leaks), findings(leaks));
    }
    StepSummary sa = first.a() >= 0 ? a.steps().get(first.a()) : null;
    StepSummary sb = first.b() >= 0 ? b.steps().get(first.b()) : null;
    StepRef ref = ref(sa != null ? sa : sb);
    String step = describe(ref);
    Category category;
    String why;
    if (sa == null || sb == null) {
      category = Category.DETERMINISM_VIOLATION;
      why = step + " is missing in " + (sa == null ? label(a, "A") : label(b, "B"));
    } else if ((sa.external() || sb.external()) && !sa.responseHash().equals(sb.responseHash())) {
      category = Category.EXTERNAL_CALL;
      why = step + " is an external call and its response differs";
    } else if (!sa.rngHash().equals(sb.rngHash())) {
      category = Category.UNSEEDED_RNG;
      why = step + ": random values differ under the same seed (unseeded RNG?)";
    } else {
      category = Category.DETERMINISM_VIOLATION;
      why = step + ": content differs";
    }
    return new Classification(false, category, ref, why + alsoLeaks(leaks), findings(leaks));
  }

  /** The lowest-index pair whose masked content differs or that misses a side; null if none. */
  static StepPairs.Pair firstDivergent(RunSummary a, RunSummary b, List<StepPairs.Pair> pairs) {
    for (StepPairs.Pair p : pairs) {
      if (!p.both() || !a.steps().get(p.a()).canonicalHash().equals(b.steps().get(p.b()).canonicalHash())) {
        return p;
      }
    }
    return null;
  }

  /** The first divergent step of two replicas (see the class comment), null when every step agrees. */
  public static StepRef firstDivergentStep(RunSummary a, RunSummary b) {
    StepPairs.Pair p = firstDivergent(a, b, StepPairs.of(a.steps(), b.steps()));
    if (p == null) {
      return null;
    }
    return ref(p.a() >= 0 ? a.steps().get(p.a()) : b.steps().get(p.b()));
  }

  /** Paired steps whose masked content is equal but whose engine hash differs. */
  private static List<StepRef> leakingSteps(RunSummary a, RunSummary b, List<StepPairs.Pair> pairs) {
    List<StepRef> out = new ArrayList<>();
    for (StepPairs.Pair p : pairs) {
      if (p.both()) {
        StepSummary sa = a.steps().get(p.a());
        StepSummary sb = b.steps().get(p.b());
        if (sa.canonicalHash().equals(sb.canonicalHash()) && !sa.engineHash().equals(sb.engineHash())) {
          out.add(ref(sa));
        }
      }
    }
    return out;
  }

  private static List<Finding> findings(List<StepRef> leaks) {
    if (leaks.isEmpty()) {
      return List.of();
    }
    return List.of(new Finding(Category.VOLATILE_LEAK, leaks, "the engine's hash of " + describe(leaks)
        + " differs while its masked content is equal: the engine hashes a volatile field"));
  }

  private static String alsoLeaks(List<StepRef> leaks) {
    return leaks.isEmpty() ? "" : "; also VOLATILE_LEAK: engine hash of " + describe(leaks) + " differs";
  }

  private static String describe(List<StepRef> steps) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < Math.min(STEPS_NAMED, steps.size()); i++) {
      names.add(describe(steps.get(i)));
    }
    String s = String.join(", ", names);
    return steps.size() > STEPS_NAMED ? s + " and " + (steps.size() - STEPS_NAMED) + " more steps" : s;
  }

  private static StepRef ref(StepSummary s) {
    return new StepRef(s.index(), s.name());
  }

  static String describe(StepRef step) {
    return "step " + step.index() + (step.name() == null || step.name().isEmpty() ? "" : " '" + step.name() + "'");
  }

  private static String label(RunSummary s, String side) {
    return s.role() == null || s.role().isEmpty() ? side : s.role();
  }

  private static String seedText(RunSummary s) {
    return s.seed() == null ? "none" : s.seedText();
  }
}
