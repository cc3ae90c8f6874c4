package dev.lockstep.collector.gateway;

import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopState;
import java.util.List;

/**
 * What the gateway tells the rest of the collector. Called on the gateway's bounded executor, in
 * order per stream; implementations must not block for long.
 */
public interface GatewayListener {
  /** A Hello was accepted; returns the stop state this agent must run under (for the Welcome). */
  StopState accepted(AgentSession session);

  /** The Welcome was sent; a good moment to send pins. */
  void welcomed(AgentSession session);

  /**
   * Events were durably stored (with ingest time {@code ingestedAtMillis}) and acked; duplicates
   * already dropped.
   */
  void stored(AgentSession session, List<Event> events, long ingestedAtMillis);

  void stopAck(AgentSession session, StopAck ack);

  void evidence(AgentSession session, EvidenceChunk chunk);

  /** The stream ended (any reason), or was replaced by a newer stream of the same agent. */
  void disconnected(AgentSession session);
}
