package dev.lockstep.golden;

import java.util.List;

/**
 * The full comparison of two golden documents: verdict, category, first divergent step and every
 * difference. Its JSON form ({@link #toJson()}) is the stable output of {@code lockstep diff -o json}.
 */
public record DiffReport(
    String runId,
    String workflow,
    boolean match,
    Category category,
    StepRef firstDivergentStep,
    String explanation,
    String sourceA,
    String sourceB,
    List<Difference> differences) {

  public DiffReport {
    differences = List.copyOf(differences);
  }

  public String toJson() {
    throw new UnsupportedOperationException("golden engine: not yet implemented");
  }

  public static DiffReport fromJson(String json) {
    throw new UnsupportedOperationException("golden engine: not yet implemented");
  }

  /** The report an operator reads: category, why, first divergent step, paths with both values. */
  public String renderTable(boolean verbose) {
    throw new UnsupportedOperationException("golden engine: not yet implemented");
  }
}
