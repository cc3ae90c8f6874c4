package dev.lockstep.collector.gateway;

import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.StopAck;
import java.util.List;

/**
 * What the gateway tells the rest of the collector. Called on the gateway's bounded executor, in
 * order per stream; implementations must not block. Every frame-handling call gets {@code next}:
 * the stream asks the agent for its next frame only when {@code next} runs, which is how the
 * collector applies backpressure to one agent without blocking a thread.
 */
public interface GatewayListener {
  /**
   * A Hello passed the identity checks. The listener answers with {@link AgentGateway#welcome}
   * (which registers the stream and sends the Welcome) or {@link AgentGateway#refuse}.
   */
  void hello(AgentSession session);

  /** A batch stamped {@code ingestedAtMillis} is about to be written (then stored or notStored). */
  default void storing(long ingestedAtMillis) {}

  /** The batch stamped {@code ingestedAtMillis} was not written, or held only duplicates. */
  default void notStored(long ingestedAtMillis) {}

  /**
   * Events were durably stored (with ingest time {@code ingestedAtMillis}) and are acked;
   * duplicates already dropped. Called in the agent's seq order (under the agent's store lock).
   */
  void stored(AgentSession session, List<Event> events, long ingestedAtMillis, Runnable next);

  void stopAck(AgentSession session, StopAck ack, Runnable next);

  void evidence(AgentSession session, EvidenceChunk chunk, Runnable next);

  /** The stream ended (any reason), or was replaced by a newer stream of the same agent. */
  void disconnected(AgentSession session);
}
