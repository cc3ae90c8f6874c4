package dev.lockstep.collector.core;

import dev.lockstep.collector.correlate.HostStats;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.store.v1.CaptureRecord;
import dev.lockstep.proto.store.v1.ResumedOrder;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.StopOrder;
import java.util.Collection;
import java.util.Optional;

/**
 * The committed state the core reads: runs, incidents, stop orders, agents' stop records,
 * capture requests and how far each agent's events were processed. Hosts implement it (over
 * RocksDB and in-memory indexes in embedded mode); {@link Tx} layers a transaction's own writes
 * over it. Read-only: the core never writes through this interface.
 */
public interface CoreState {
  Optional<RunState> run(String runId);

  /** Runs still waiting for replicas. */
  Collection<RunState> pendingRuns();

  HostStats hostStats(String host);

  Collection<HostStats> allHostStats();

  Optional<Incident> incident(String id);

  /** The unresolved incident with this signature, if any. */
  Optional<String> openIncident(String signature);

  /** Every incident that is not resolved. */
  Collection<Incident> openIncidents();

  /** A counter (incident and order sequence numbers); 0 when never set. */
  long counter(String name);

  Optional<StopOrder> activeOrder(String id);

  /** Active orders in id order. */
  Collection<StopOrder> activeOrders();

  Optional<ResumedOrder> resumedOrder(String id);

  Collection<ResumedOrder> resumedOrders();

  Optional<AgentStopRecord> agentStop(String agentId);

  /** Every agent with a stop record (every agent that ever said Hello), in id order. */
  Collection<String> agents();

  Optional<CaptureRecord> capture(String requestId);

  /** Capture requests of this agent not yet answered completely. */
  Collection<CaptureRecord> openCaptures(String agentId);

  /** Capture requests of this incident. */
  Collection<CaptureRecord> capturesOf(String incidentId);

  /** Highest seq of this agent's events of {@code lane} the core has processed (0 when none). */
  long processedSeq(String agentId, Lane lane);
}
