package dev.lockstep.collector.core;

import dev.lockstep.collector.correlate.CorrelationPolicy;

/**
 * What the core is configured with: the stop policy for P0 incidents, how runs correlate, and
 * how much evidence to ask each agent for.
 */
public record CoreConfig(
    StopPolicy stopPolicy,
    CorrelationPolicy correlation,
    long evidenceBytesPerIncident,
    int logTailLines) {

  /** What the collector does to the fleet on a P0 incident. */
  public enum StopPolicy { FLEET, WORKFLOW, HOST, OFF }
}
