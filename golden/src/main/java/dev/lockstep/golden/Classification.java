package dev.lockstep.golden;

import java.util.List;

/**
 * Verdict on two replicas of a run. {@code category} and {@code firstDivergentStep} are null for a
 * match; {@code explanation} is one line for a human ("seeds differ: 1234 vs 999"). {@code findings}
 * are further causes seen beside the category (a VOLATILE_LEAK at a step whose masked content is
 * equal while a real divergence decides the category), empty when there are none.
 */
public record Classification(
    boolean match, Category category, StepRef firstDivergentStep, String explanation, List<Finding> findings) {

  public Classification {
    findings = findings == null ? List.of() : List.copyOf(findings);
  }

  /** A verdict without findings. */
  public Classification(boolean match, Category category, StepRef firstDivergentStep, String explanation) {
    this(match, category, firstDivergentStep, explanation, List.of());
  }

  public static Classification matched() {
    return new Classification(true, null, null, "replicas agree");
  }
}
