package dev.lockstep.collector.core;

import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EvidenceInfo;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopState;
import java.util.List;
import java.util.Map;

/**
 * Everything the core reacts to, as values. Hosts turn agent frames, operator calls and timers
 * into inputs; {@link Core#apply} turns one input plus the current state into state changes and
 * effects. Inputs carry no time: the host passes "now" separately, so the core stays a function.
 */
public sealed interface Input {

  /**
   * Stored events of one agent, all of one {@link Lane}, in seq order (already durably stored
   * and acked).
   */
  record Events(String agentId, Lane lane, List<Event> events, long ingestedAtMillis)
      implements Input {
    public Events {
      events = List.copyOf(events);
    }
  }

  /**
   * An agent stream said Hello (identity already checked by the gateway). {@code connectionId}
   * names the stream for the Welcome effect; {@code enacted} is what the agent says it enacted.
   */
  record Hello(String agentId, long connectionId, Map<String, String> labels, StopState enacted)
      implements Input {
    public Hello {
      labels = Map.copyOf(labels);
    }
  }

  /** An agent's StopAck. */
  record Ack(String agentId, StopAck ack) implements Input {}

  /** Timer: decide runs whose correlation window closed. */
  record Sweep() implements Input {}

  /** An operator issues a stop order. */
  record IssueOrder(StopScope scope, String reason, String who, String role, String remote)
      implements Input {}

  /** An operator resumes orders: the ones named, or all of them. */
  record Resume(List<String> orderIds, boolean all, String reason, String who, String role,
      String remote) implements Input {
    public Resume {
      orderIds = List.copyOf(orderIds);
    }
  }

  /** An operator acknowledges or resolves an incident. */
  record IncidentAction(String incidentId, boolean resolve, String note, String who, String role,
      String remote) implements Input {}

  /** An evidence artifact was stored completely for a capture request. */
  record EvidenceStored(String requestId, EvidenceInfo info) implements Input {}

  /** The agent finished answering a capture request (EvidenceChunk.done). */
  record CaptureDone(String requestId) implements Input {}

  /** The golden diff of an incident's stored documents, computed off the core. */
  record DiffComputed(String incidentId, DiffResult diff) implements Input {}

  /** An alert sink keeps failing (P3). */
  record SinkFailing(String sink, String detail) implements Input {}

  /**
   * The collector's store changed state (OK, LOW, FLOOD, FAILED): a P1 about the collector while
   * it is not OK, resolved automatically when it is again.
   */
  record StoreSpace(String state, long freeBytes, String detail) implements Input {}

  /** Retention: forget these resolved incidents (and their capture records). */
  record ForgetIncidents(List<String> incidentIds) implements Input {
    public ForgetIncidents {
      incidentIds = List.copyOf(incidentIds);
    }
  }

  /** Retention: forget resumed-order records resumed before this time. */
  record ForgetResumedOrders(long resumedBeforeMillis) implements Input {}

  /** What a golden diff concluded, in the incident's terms. */
  record DiffResult(String category, int firstStepIndex, String firstStepName,
      String explanation, List<dev.lockstep.proto.v1.Difference> differences, String roles,
      int totalDifferences) {
    public DiffResult {
      differences = List.copyOf(differences);
    }
  }
}
