package dev.lockstep.collector.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.collector.gateway.AgentSession;
import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.StopCommand;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopState;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Every agent's desired stop state as the core committed it (the stops topic, read whole by every
 * collector), pushed to the agents whose streams THIS collector holds: on every change, and again
 * every resend interval until the agent's ack for exactly that (generation, mode) is committed.
 * Nothing here decides a state: what goes out is always a state the core wrote, so losing any
 * collector, the one running the core included, never stops a stop already issued from reaching
 * the agents of the others.
 */
final class StopFanout {
  private final Map<String, AgentStopRecord> records = new ConcurrentHashMap<>();
  private final ConcurrentSkipListMap<String, StopOrder> orders = new ConcurrentSkipListMap<>();
  private final LongAdder sent = new LongAdder();
  private volatile AgentGateway gateway;

  void attach(AgentGateway g) {
    this.gateway = g;
  }

  /** A record of the stops topic (reader thread). */
  void applied(String key, byte[] value) throws InvalidProtocolBufferException {
    if (key == null) return;
    if (key.startsWith(StateCodec.ORDER)) {
      String id = key.substring(StateCodec.ORDER.length());
      if (value == null) {
        orders.remove(id);
      } else {
        orders.put(id, StopOrder.parseFrom(value));
      }
      return;
    }
    if (!key.startsWith(StateCodec.AGENT) || value == null) return;
    AgentStopRecord r = AgentStopRecord.parseFrom(value);
    AgentStopRecord[] was = new AgentStopRecord[1];
    // Never back to an older generation: the core's generations only grow, so an older record is
    // one read again (a batch the reader hands over again record by record after a failure), and
    // taking it would send an agent a stop it was since told to leave (or the reverse).
    AgentStopRecord now = records.compute(r.getAgentId(), (k, prev) -> {
      was[0] = prev;
      return prev != null && prev.getDesired().getGeneration() > r.getDesired().getGeneration() ? prev : r;
    });
    if (now == r && (was[0] == null || was[0].getDesired().getGeneration() != r.getDesired().getGeneration())) {
      session(r.getAgentId()).ifPresent(s -> send(s, r.getDesired()));
    }
  }

  Optional<AgentStopRecord> record(String agentId) {
    return Optional.ofNullable(records.get(agentId));
  }

  List<StopOrder> orders() {
    return List.copyOf(orders.values());
  }

  /**
   * After a Welcome carrying {@code welcomed}: a newer state committed meanwhile goes out now
   * rather than at the next resend.
   */
  void welcomed(AgentSession s, StopState welcomed) {
    AgentStopRecord r = records.get(s.agentId());
    if (r != null && r.getDesired().getGeneration() > welcomed.getGeneration()) send(s, r.getDesired());
  }

  /** Resends its desired state to every agent of this collector whose ack does not match it. */
  void resendPending() {
    AgentGateway g = gateway;
    if (g == null) return;
    for (AgentSession s : g.sessions()) {
      AgentStopRecord r = records.get(s.agentId());
      if (r == null) continue;
      StopState d = r.getDesired();
      if (!r.hasAck() || r.getAck().getGeneration() != d.getGeneration()
          || r.getAck().getMode() != d.getMode()) {
        send(s, d);
      }
    }
  }

  /** StopCommands this collector sent. */
  long sent() {
    return sent.sum();
  }

  private Optional<AgentSession> session(String agentId) {
    AgentGateway g = gateway;
    return g == null ? Optional.empty() : g.session(agentId);
  }

  private void send(AgentSession s, StopState d) {
    s.send(CollectorFrame.newBuilder().setStop(StopCommand.newBuilder().setState(d)).build());
    sent.increment();
  }
}
