package dev.lockstep.collector.core;

import dev.lockstep.proto.v1.CaptureRequest;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.StopState;
import java.util.List;

/**
 * What the host must do after it committed a transaction, as values. Effects never change core
 * state; losing one in a crash is repaired by level-triggered resends (stop states) or by
 * reconnects (Welcome, pins, pending captures).
 */
public sealed interface Effect {

  /** Push {@code desired} to the agent if it is connected. */
  record SendStop(String agentId, StopState desired) implements Effect {}

  /** Answer the Hello on stream {@code connectionId} with a Welcome carrying {@code desired}. */
  record Welcome(String agentId, long connectionId, StopState desired) implements Effect {}

  /** Refuse the Hello on stream {@code connectionId} (the stream is closed with this reason). */
  record RefuseHello(String agentId, long connectionId, String reason) implements Effect {}

  /** Send a capture request to the agent if it is connected (it is kept and resent on connect). */
  record SendCapture(String agentId, CaptureRequest request) implements Effect {}

  /** The set of run ids open incidents need kept changed. */
  record PinsChanged() implements Effect {}

  /** An incident changed (for watchers). */
  record IncidentChanged(Incident incident, IncidentRules.Change change) implements Effect {}

  /** Orders or desired states changed (for watchers). */
  record StopChanged() implements Effect {}

  /** Compute the golden diff of an incident's stored documents (off the core). */
  record DiffWanted(String incidentId) implements Effect {}

  /** Delete an incident's stored evidence (off the core). */
  record DeleteEvidence(String incidentId) implements Effect {}

  /** A run was decided: metrics and per-agent counters. */
  record RunDecided(String verdict, long lagMillis, List<String> hosts, List<String> blamed)
      implements Effect {
    public RunDecided {
      hosts = List.copyOf(hosts);
      blamed = List.copyOf(blamed);
    }
  }

  /** The latest sample of one probe (for the agent directory). */
  record ProbeSeen(String agentId, HealthSample sample) implements Effect {}

  /** An ack did not match the agent's desired state and was not counted. */
  record AckRefused(String agentId, String reason) implements Effect {}

  /** A line for the operator's progress log. */
  record Progress(String line) implements Effect {}
}
