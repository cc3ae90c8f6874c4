package dev.lockstep.collector.correlate;

import java.util.Collection;
import java.util.Optional;

/**
 * The correlator's keyed state: one {@link RunState} per run_id plus per-host vote statistics.
 * Implementations: {@link InMemoryRunStateStore} (tests) and a RocksDB-backed one in the store
 * package. Later a Kafka Streams state store partitioned by run_id.
 */
public interface RunStateStore {
  Optional<RunState> get(String runId);

  void put(RunState state);

  /** Runs still waiting for replicas. */
  Collection<RunState> pending();

  /** Vote statistics of a host; zero when never seen. */
  HostStats hostStats(String host);

  void putHostStats(HostStats stats);

  /** Every host with statistics. */
  Collection<HostStats> allHostStats();
}
