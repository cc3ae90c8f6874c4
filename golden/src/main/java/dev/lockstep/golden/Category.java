package dev.lockstep.golden;

/**
 * Root cause of a mismatch. The first five are decided by {@link Classifier} from two replicas, in
 * this order (first match wins; VOLATILE_LEAK is also a {@link Finding} beside any other); the
 * last two are about which replicas arrived, decided by whoever correlates reports (the
 * collector, {@code lockstep summary}).
 */
public enum Category {
  SEED_MISMATCH,
  VOLATILE_LEAK,
  EXTERNAL_CALL,
  UNSEEDED_RNG,
  DETERMINISM_VIOLATION,
  /** An expected replica never reported within the correlation window. */
  MISSING_REPLICA,
  /** Two different reports for the same run and role (two primaries, or a re-report with another hash). */
  REPLICA_CONFLICT
}
