package dev.lockstep.golden;

import java.util.List;

/**
 * A cause seen beside a classification's category: {@code category} (VOLATILE_LEAK), the steps it
 * concerns (empty when it is about the whole run) and one line for a human.
 */
public record Finding(Category category, List<StepRef> steps, String explanation) {
  public Finding {
    steps = steps == null ? List.of() : List.copyOf(steps);
  }
}
