package dev.lockstep.collector.correlate;

/** Where a run stands. */
public enum Verdict { PENDING, MATCH, MISMATCH, MISSING_REPLICA }
