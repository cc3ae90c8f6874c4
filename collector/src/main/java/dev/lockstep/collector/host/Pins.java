package dev.lockstep.collector.host;

import dev.lockstep.collector.correlate.Replica;
import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.collector.gateway.AgentSession;
import dev.lockstep.collector.incident.Incidents;
import dev.lockstep.collector.store.RocksRunStateStore;
import dev.lockstep.proto.v1.CollectorFrame;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Tells agents which golden files open incidents need kept (level-triggered: each Pins replaces
 * the last). Computed on its own executor from the read models, never on the core thread.
 */
public final class Pins {
  private final Incidents incidents;
  private final RocksRunStateStore runs;
  private final AgentGateway gateway;
  private final Executor executor;
  private Set<String> last = Set.of();
  private volatile boolean pending;

  public Pins(Incidents incidents, RocksRunStateStore runs, AgentGateway gateway, Executor executor) {
    this.incidents = incidents;
    this.runs = runs;
    this.gateway = gateway;
    this.executor = executor;
  }

  /** Open incidents changed: send every agent its pins if the set of run ids changed. */
  public void changed() {
    if (pending) return;
    pending = true;
    execute(() -> {
      pending = false;
      Set<String> now = incidents.openRunIds();
      synchronized (this) {
        if (now.equals(last)) return;
        last = now;
      }
      for (AgentSession s : gateway.sessions()) send(s, now);
    });
  }

  /** A (re)connected agent gets its pins. */
  public void sendTo(String agentId) {
    execute(() -> gateway.session(agentId).ifPresent(s -> send(s, incidents.openRunIds())));
  }

  private void send(AgentSession s, Set<String> runIds) {
    dev.lockstep.proto.v1.Pins.Builder b = dev.lockstep.proto.v1.Pins.newBuilder().addAllRunIds(runIds);
    for (String run : runIds) {
      runs.get(run).ifPresent(state -> {
        for (Replica r : state.replicas()) {
          if (r.agentId().equals(s.agentId()) && r.path() != null && !r.path().isEmpty()) {
            b.addPaths(r.path());
          }
        }
      });
    }
    s.send(CollectorFrame.newBuilder().setPins(b).build());
  }

  private void execute(Runnable r) {
    try {
      executor.execute(r);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      pending = false;
    }
  }
}
