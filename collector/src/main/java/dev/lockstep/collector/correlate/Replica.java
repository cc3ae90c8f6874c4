package dev.lockstep.collector.correlate;

import dev.lockstep.golden.RunSummary;

/**
 * One replica of a run as an agent reported it: which agent (host), which role, the golden
 * summary and the file path on that host.
 */
public record Replica(String agentId, String role, RunSummary summary, String path,
    long reportedAtMillis) {}
