package dev.lockstep.collector.core;

import dev.lockstep.collector.correlate.HostStats;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.store.v1.CaptureRecord;
import dev.lockstep.proto.store.v1.ResumedOrder;
import dev.lockstep.proto.v1.AuditEntry;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.StopOrder;

/**
 * One write of a transaction, as a value. A host commits every change of a transaction together
 * (one RocksDB WriteBatch in embedded mode), then updates its indexes, then carries out the
 * effects.
 */
public sealed interface Change {
  record PutRun(RunState run) implements Change {}

  record PutHostStats(HostStats stats) implements Change {}

  record PutIncident(Incident incident) implements Change {}

  record DeleteIncident(String id) implements Change {}

  record PutCounter(String name, long value) implements Change {}

  /** Stores an active order. */
  record PutOrder(StopOrder order) implements Change {}

  /** Removes an active order and keeps the record of its resume. */
  record ResumeOrder(ResumedOrder resumed) implements Change {}

  record DeleteResumedOrder(String id) implements Change {}

  record PutAgentStop(AgentStopRecord record) implements Change {}

  record PutCapture(CaptureRecord capture) implements Change {}

  record DeleteCapture(String requestId) implements Change {}

  /** The agent's events of {@code lane} up to {@code seq} are processed. */
  record Processed(String agentId, Lane lane, long seq) implements Change {}

  /** Appends to the audit log. */
  record Audit(AuditEntry entry) implements Change {}

  /** Queues an alert about {@code incident} ("opened", "escalated", "resolved") in the outbox. */
  record Alert(Incident incident, String event) implements Change {}
}
