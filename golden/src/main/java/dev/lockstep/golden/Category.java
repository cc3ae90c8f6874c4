package dev.lockstep.golden;

/** Root cause of a mismatch, in the order the classifier tries them (first match wins). */
public enum Category {
  SEED_MISMATCH,
  VOLATILE_LEAK,
  EXTERNAL_CALL,
  UNSEEDED_RNG,
  DETERMINISM_VIOLATION,
  MISSING_REPLICA
}
