package dev.lockstep.golden;

/**
 * Verdict on two replicas of a run. {@code category} and {@code firstDivergentStep} are null for a
 * match; {@code explanation} is one line for a human ("seeds differ: 1234 vs 999").
 */
public record Classification(
    boolean match, Category category, StepRef firstDivergentStep, String explanation) {

  public static Classification matched() {
    return new Classification(true, null, null, "replicas agree");
  }
}
