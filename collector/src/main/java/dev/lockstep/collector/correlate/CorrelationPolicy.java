package dev.lockstep.collector.correlate;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How many replicas a run needs and how long to wait for them. An expectation names roles
 * ({@code count == 0}) or asks for any {@code count} replicas.
 */
public record CorrelationPolicy(Duration window, Expected defaults, Map<String, Expected> perWorkflow) {

  public record Expected(List<String> roles, int count) {
    public Expected {
      roles = List.copyOf(roles);
    }
  }

  public CorrelationPolicy {
    perWorkflow = Map.copyOf(perWorkflow);
  }

  public static CorrelationPolicy primaryShadow(Duration window) {
    return new CorrelationPolicy(window, new Expected(List.of("primary", "shadow"), 0), Map.of());
  }

  Expected expectedFor(String workflow) {
    return perWorkflow.getOrDefault(workflow == null ? "" : workflow, defaults);
  }
}
