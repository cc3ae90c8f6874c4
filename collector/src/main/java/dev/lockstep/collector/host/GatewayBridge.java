package dev.lockstep.collector.host;

import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.core.Lane;
import dev.lockstep.collector.core.Refusal;
import dev.lockstep.collector.evidence.EvidenceIntake;
import dev.lockstep.collector.fleet.AgentDirectory;
import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.collector.gateway.AgentSession;
import dev.lockstep.collector.gateway.GatewayListener;
import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.WatchEvent;
import io.grpc.Status;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * Turns what agent streams say into core inputs: a Hello waits for the core's answer (the
 * Welcome is an effect of the committed transaction), stored batches go to the core's bounded
 * events queue, acks to its control queue; evidence goes to the evidence intake. Each stream asks
 * for its next frame only once its current one was taken (see {@link GatewayListener}).
 */
public final class GatewayBridge implements GatewayListener {
  private static final System.Logger LOG = System.getLogger(GatewayBridge.class.getName());
  private final CoreHost host;
  private final AgentDirectory agents;
  private final EvidenceIntake evidence;
  private final Consumer<WatchEvent.Builder> publish;
  private final Clock clock;
  private final Consumer<String> progress;
  private final AckProgress acks;
  private volatile AgentGateway gateway;

  public GatewayBridge(CoreHost host, AgentDirectory agents, EvidenceIntake evidence,
      Consumer<WatchEvent.Builder> publish, Clock clock, Consumer<String> progress,
      AckProgress acks) {
    this.acks = acks;
    this.host = host;
    this.agents = agents;
    this.evidence = evidence;
    this.publish = publish;
    this.clock = clock;
    this.progress = progress;
  }

  public void attach(AgentGateway gateway) {
    this.gateway = gateway;
  }

  @Override
  public void hello(AgentSession session) {
    var hello = session.hello();
    agents.connected(hello, session.remoteAddress(), clock.instant());
    host.submit(new Input.Hello(session.agentId(), session.connectionId(), hello.getLabelsMap(),
        hello.getEnactedStop())).whenComplete((r, e) -> {
          if (e == null) {
            progress.accept("agent " + session.agentId() + " connected from "
                + session.remoteAddress() + " (hostname " + hello.getHostname() + ", enacted "
                + (hello.hasEnactedStop() ? "generation " + hello.getEnactedStop().getGeneration()
                    + " " + hello.getEnactedStop().getMode() : "nothing") + ")");
            agents.get(session.agentId()).ifPresent(a -> publish.accept(WatchEvent.newBuilder().setAgent(a)));
            return;
          }
          Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          Status status = cause instanceof Refusal refusal ? HostStatus.of(refusal)
              : Status.UNAVAILABLE.withDescription("collector cannot accept the Hello now: "
                  + cause.getMessage() + "; retry later");
          gateway.refuse(session.connectionId(), status, "hello_refused");
        });
  }

  @Override
  public void storing(long ingestedAtMillis) {
    host.storing(ingestedAtMillis);
  }

  @Override
  public void notStored(long ingestedAtMillis) {
    host.notStored(ingestedAtMillis);
  }

  @Override
  public void stored(AgentSession session, List<Event> events, long ingestedAtMillis,
      Runnable next) {
    agents.seen(session.agentId(), events.get(events.size() - 1).getSeq(), clock.instant());
    List<Event> decisive = new java.util.ArrayList<>();
    List<Event> routine = new java.util.ArrayList<>(events.size());
    for (Event e : events) (Lane.of(e) == Lane.DECISIVE ? decisive : routine).add(e);
    if (decisive.isEmpty() || routine.isEmpty()) {
      Lane lane = decisive.isEmpty() ? Lane.ROUTINE : Lane.DECISIVE;
      host.submitEvents(new Input.Events(session.agentId(), lane, events, ingestedAtMillis), next);
      return;
    }
    // Two lanes, two inputs (each is processed and marked on its own): the stream's next frame
    // waits until both queues took theirs.
    host.storing(ingestedAtMillis);
    java.util.concurrent.atomic.AtomicInteger both = new java.util.concurrent.atomic.AtomicInteger(2);
    Runnable joined = () -> {
      if (both.decrementAndGet() == 0) next.run();
    };
    host.submitEvents(new Input.Events(session.agentId(), Lane.DECISIVE, decisive, ingestedAtMillis), joined);
    host.submitEvents(new Input.Events(session.agentId(), Lane.ROUTINE, routine, ingestedAtMillis), joined);
  }

  @Override
  public void stopAck(AgentSession session, StopAck ack, Runnable next) {
    host.submit(new Input.Ack(session.agentId(), ack)).whenComplete((counted, e) -> {
      try {
        if (Boolean.TRUE.equals(counted)) acks.counted(session.agentId(), ack);
      } catch (RuntimeException x) {
        LOG.log(System.Logger.Level.ERROR, "ack progress of " + session.agentId() + ": " + x, x);
      } finally {
        next.run();
      }
    });
  }

  @Override
  public void evidence(AgentSession session, EvidenceChunk chunk, Runnable next) {
    evidence.offer(session.agentId(), chunk, next);
  }

  @Override
  public void disconnected(AgentSession session) {
    agents.disconnected(session.agentId(), clock.instant());
    progress.accept("agent " + session.agentId() + " disconnected");
    agents.get(session.agentId()).ifPresent(a -> publish.accept(WatchEvent.newBuilder().setAgent(a)));
  }

  static String firstLine(String s) {
    String l = s.lines().findFirst().orElse("");
    return l.length() > 200 ? l.substring(0, 200) + "…" : l;
  }
}
