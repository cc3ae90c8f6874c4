package dev.lockstep.collector.gateway;

import io.grpc.Status;
import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The agent streams that hold one of the collector's {@code agents.max_streams} slots: each
 * agent's current (welcomed) stream, and the Hellos waiting for the core's answer. The invariant:
 * an agent id holds ONE slot while it has a current stream, a waiting Hello, or both, however many
 * streams it opens. A reconnecting agent's Hello replaces its current stream once answered, so it
 * takes no second slot, and only as many agent ids as there are slots can exclude a new agent.
 *
 * <p>At most one Hello per agent id waits: each one is a control input that the core takes ahead
 * of the events that can stop the fleet, so Hellos flooding in from one agent would hold back a
 * mismatch (and, when each took a slot, lock every new agent out). An agent whose stream broke
 * while its Hello waited is refused until that Hello is answered (the core always answers, or
 * the stream's close frees it), then its next Hello replaces that stream. Hellos of one agent id
 * are rate-limited too ({@link AgentGateway#HELLOS_PER_SECOND}, kept across its streams): each
 * answered one is a transaction of the core, so a reconnect storm costs it a few a second.
 *
 * <p>One connection carries at most {@link #MAX_PER_CONNECTION} agent streams: an agent needs one
 * (its old stream may still be closing when it opens the next), and streams opened beyond that
 * are refused before they are read.
 */
final class StreamSlots {
  /** Why a stream, or its Hello, is refused: the stream's status and the metric's reason. */
  record Refused(Status status, String reason) {}

  static final int MAX_PER_CONNECTION = 4;

  private final int max;
  /** Hello rate by agent id (kept across its streams, so a reconnect does not refill it). */
  private final BucketsById hellos;
  /** Each agent's current stream (written under this, read without a lock). */
  private final Map<String, AgentSession> current = new ConcurrentHashMap<>();
  /** Waiting Hellos by agent id, and by stream while not yet taken to be answered (under this). */
  private final Map<String, AgentSession> waiting = new HashMap<>();
  private final Map<Long, AgentSession> unanswered = new HashMap<>();
  /** Agent ids with a current stream or a waiting Hello: one slot each (under this). */
  private final Set<String> holders = new HashSet<>();
  /** Open agent streams by connection (the peer's address and port), under this. */
  private final Map<String, Integer> byConnection = new HashMap<>();

  StreamSlots(int maxStreams, Clock clock) {
    this.max = maxStreams;
    this.hellos = new BucketsById(AgentGateway.HELLOS_PER_SECOND, AgentGateway.HELLO_BURST,
        BucketsById.maxIds(maxStreams), clock);
  }

  /**
   * Counts a newly opened stream on its connection, or says why it may not be read: its
   * connection carries as many agent streams as it may. Every opened stream is {@link #release}d.
   */
  synchronized Refused open(AgentSession session) {
    int streams = byConnection.merge(session.remoteAddress(), 1, Integer::sum);
    if (streams <= MAX_PER_CONNECTION) return null;
    return new Refused(Status.RESOURCE_EXHAUSTED.withDescription("connection from "
        + session.remoteAddress() + " already carries " + (streams - 1) + " agent streams, the"
        + " most one connection may: an agent needs one stream at a time"),
        "too_many_streams_on_connection");
  }

  /**
   * Lets {@code session}'s Hello (its agent id already set) wait for the core's answer, holding its
   * agent's slot; or says why not: that agent said Hello too often, another Hello of it waits, or
   * every slot is held by other agents.
   */
  synchronized Refused greet(AgentSession session) {
    String id = session.agentId();
    EventBucket rate = hellos.get(id);
    if (!rate.take(1)) {
      return new Refused(Status.RESOURCE_EXHAUSTED.withDescription("agent " + id + " says Hello"
          + " more than " + AgentGateway.HELLOS_PER_SECOND + " times a second (bursts of "
          + AgentGateway.HELLO_BURST + "); retry later"), "hello_rate_limited");
    }
    AgentSession other = waiting.get(id);
    if (other != null) {
      return new Refused(Status.RESOURCE_EXHAUSTED.withDescription("agent " + id
          + " already has a Hello waiting for the collector's answer (stream from "
          + other.remoteAddress() + "); one at a time per agent, retry after it is answered"),
          "hello_waiting");
    }
    if (!holders.contains(id) && holders.size() >= max) {
      return new Refused(Status.RESOURCE_EXHAUSTED.withDescription("collector already serves "
          + holders.size() + " agent streams (agents.max_streams " + max + "); retry later"),
          "too_many_streams");
    }
    waiting.put(id, session);
    unanswered.put(session.connectionId(), session);
    holders.add(id);
    return null;
  }

  /**
   * Takes the waiting Hello of stream {@code connectionId} to answer it; null when there is none
   * (answered already, or its stream closed). Its agent keeps the slot until {@link #welcomed} or
   * {@link #release}.
   */
  synchronized AgentSession answer(long connectionId) {
    return unanswered.remove(connectionId);
  }

  /**
   * {@code session}, whose Hello was answered with a Welcome, is its agent's current stream now;
   * returns the stream it replaced, or null. Registers nothing when the stream closed meanwhile.
   */
  synchronized AgentSession welcomed(AgentSession session) {
    String id = session.agentId();
    if (!waiting.remove(id, session)) return null;
    return current.put(id, session);
  }

  /**
   * {@code session} ended: frees what it held (its agent keeps the slot
   * while it has another stream or Hello). True when it was its agent's current stream.
   */
  synchronized boolean release(AgentSession session) {
    byConnection.computeIfPresent(session.remoteAddress(), (k, n) -> n == 1 ? null : n - 1);
    unanswered.remove(session.connectionId(), session);
    String id = session.agentId();
    if (id.isEmpty()) return false;
    waiting.remove(id, session);
    boolean wasCurrent = current.remove(id, session);
    if (!current.containsKey(id) && !waiting.containsKey(id)) holders.remove(id);
    return wasCurrent;
  }

  AgentSession current(String agentId) {
    return current.get(agentId);
  }

  Collection<AgentSession> currentStreams() {
    return List.copyOf(current.values());
  }

  int connected() {
    return current.size();
  }
}
