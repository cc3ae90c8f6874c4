package dev.lockstep.collector.cluster;

import dev.lockstep.collector.core.Change;
import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.core.Refusal;
import dev.lockstep.collector.evidence.EvidenceIntake;
import dev.lockstep.collector.fleet.AgentDirectory;
import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.collector.gateway.AgentSession;
import dev.lockstep.collector.gateway.GatewayListener;
import dev.lockstep.collector.host.HostStatus;
import dev.lockstep.collector.host.Pins;
import dev.lockstep.collector.host.StoreState;
import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.store.v1.CaptureRecord;
import dev.lockstep.proto.v1.CaptureRequest;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopState;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Turns what agent streams say into cluster records. A Hello goes to the core; when the stops
 * table already holds the agent's committed desired state, the Welcome carries it at once (an
 * agent reconnecting after its collector died is served even while the core task fails over),
 * otherwise the Welcome waits for the core's answer. Stop acks go to the core, the stream's next
 * frame once Kafka took them. Capture requests the core committed go to the agents of this
 * collector, on connect and when they appear.
 */
final class ClusterBridge implements GatewayListener {
  private static final Duration HELLO_TIMEOUT = Duration.ofSeconds(30);

  private final ClusterNode node;
  private final AgentDirectory agents;
  private final EvidenceIntake evidence;
  private final StoreState copy;
  private final Clock clock;
  private final Consumer<String> progress;
  private final dev.lockstep.collector.host.AckProgress acks;
  private final Map<String, Set<String>> capturesSent = new ConcurrentHashMap<>();
  private volatile AgentGateway gateway;
  private volatile Pins pins;

  ClusterBridge(ClusterNode node, AgentDirectory agents, EvidenceIntake evidence, StoreState copy,
      Clock clock, Consumer<String> progress, dev.lockstep.collector.host.AckProgress acks) {
    this.acks = acks;
    this.node = node;
    this.agents = agents;
    this.evidence = evidence;
    this.copy = copy;
    this.clock = clock;
    this.progress = progress;
  }

  void attach(AgentGateway g, Pins p) {
    this.gateway = g;
    this.pins = p;
    node.stops().attach(g);
  }

  @Override
  public void hello(AgentSession session) {
    var hello = session.hello();
    agents.connected(hello, session.remoteAddress(), clock.instant());
    ClusterNode.Request r = node.request(new Input.Hello(session.agentId(), session.connectionId(),
        hello.getLabelsMap(), hello.getEnactedStop()), session.agentId(), false);
    Optional<AgentStopRecord> known = node.stops().record(session.agentId());
    boolean[] welcomed = {false};
    if (known.isPresent()) {
      welcomed[0] = welcome(session, known.get().getDesired());
    }
    r.answer().orTimeout(HELLO_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).whenComplete((v, e) -> {
      AgentGateway g = gateway;
      if (e == null) {
        if (!welcomed[0] && v instanceof StopState desired) welcome(session, desired);
        return;
      }
      Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
      Status status = cause instanceof Refusal refusal ? HostStatus.of(refusal)
          : Status.UNAVAILABLE.withDescription("collector cannot accept the Hello now: "
              + (cause instanceof java.util.concurrent.TimeoutException
                  ? "the core did not answer within " + HELLO_TIMEOUT.toSeconds() + " s" : cause.getMessage())
              + "; retry later");
      if (!welcomed[0]) {
        g.refuse(session.connectionId(), status, "hello_refused");
      } else if (cause instanceof Refusal) {
        session.close(status);
      }
    });
  }

  private boolean welcome(AgentSession session, StopState desired) {
    AgentGateway g = gateway;
    if (g == null || !g.welcome(session.connectionId(), desired)) return false;
    String id = session.agentId();
    Pins p = pins;
    if (p != null) p.sendTo(id);
    node.stops().welcomed(session, desired);
    Set<String> sent = ConcurrentHashMap.newKeySet();
    capturesSent.put(id, sent);
    for (CaptureRecord c : copy.openCaptures(id)) sendCapture(session, c, sent);
    var hello = session.hello();
    progress.accept("agent " + id + " connected from " + session.remoteAddress() + " (hostname "
        + hello.getHostname() + ", enacted " + (hello.hasEnactedStop() ? "generation "
            + hello.getEnactedStop().getGeneration() + " " + hello.getEnactedStop().getMode() : "nothing")
        + ")");
    return true;
  }

  private static void sendCapture(AgentSession s, CaptureRecord c, Set<String> sent) {
    if (c.getDone() || !sent.add(c.getRequestId())) return;
    s.send(CollectorFrame.newBuilder().setCapture(CaptureRequest.newBuilder()
        .setRequestId(c.getRequestId()).setIncidentId(c.getIncidentId())
        .addAllRunIds(c.getRunIdsList()).setIncludeLogs(c.getIncludeLogs())
        .setLogTailLines(c.getLogTailLines()).setIncludeSnapshot(c.getIncludeSnapshot())
        .setMaxBytes(c.getMaxBytes())).build());
  }

  /** The copy applied committed changes: new capture requests go to this collector's agents. */
  void copied(List<Change> changes) {
    AgentGateway g = gateway;
    if (g == null) return;
    boolean pinsChanged = false;
    for (Change c : changes) {
      if (c instanceof Change.PutCapture p) {
        CaptureRecord r = p.capture();
        Set<String> sent = capturesSent.get(r.getAgentId());
        if (sent != null) g.session(r.getAgentId()).ifPresent(s -> sendCapture(s, r, sent));
      } else if (c instanceof Change.PutIncident || c instanceof Change.DeleteIncident) {
        pinsChanged = true;
      }
    }
    Pins p = pins;
    if (pinsChanged && p != null) p.changed();
  }

  /** Events Kafka took from one of this collector's agents: the directory's view of it. */
  void ingested(String agentId, List<Event> events) {
    agents.seen(agentId, events.get(events.size() - 1).getSeq(), clock.instant());
    for (Event e : events) {
      if (e.hasHealth()) agents.probe(agentId, e.getHealth());
    }
  }

  @Override
  public void stored(AgentSession session, List<Event> events, long ingestedAtMillis, Runnable next) {
    // cluster mode stores through EventsProducer; nothing reaches the local store
    next.run();
  }

  @Override
  public void stopAck(AgentSession session, StopAck ack, Runnable next) {
    ClusterNode.Request r = node.request(new Input.Ack(session.agentId(), ack), session.agentId(), false);
    r.taken().whenComplete((v, e) -> {
      if (e != null) {
        session.close(Status.UNAVAILABLE.withDescription("Kafka did not take the stop ack ("
            + e.getMessage() + "); reconnect and ack again"));
        return;
      }
      next.run();
    });
    r.answer().whenComplete((counted, e) -> {
      if (Boolean.TRUE.equals(counted)) acks.counted(session.agentId(), ack);
    });
  }

  @Override
  public void evidence(AgentSession session, EvidenceChunk chunk, Runnable next) {
    evidence.offer(session.agentId(), chunk, next);
  }

  @Override
  public void disconnected(AgentSession session) {
    capturesSent.remove(session.agentId());
    agents.disconnected(session.agentId(), clock.instant());
    progress.accept("agent " + session.agentId() + " disconnected");
  }
}
