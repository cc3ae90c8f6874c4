package dev.lockstep.collector.correlate;

/**
 * Where a run stands. REPLICA_CONFLICT: one role was reported twice with different canonical
 * hashes (two agents, or one agent re-reporting), so the run cannot be compared.
 */
public enum Verdict { PENDING, MATCH, MISMATCH, MISSING_REPLICA, REPLICA_CONFLICT }
