package dev.lockstep.collector.host;

import dev.lockstep.collector.correlate.Replica;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.collector.gateway.AgentSession;
import dev.lockstep.collector.incident.Incidents;
import dev.lockstep.collector.store.RocksRunStateStore;
import dev.lockstep.proto.v1.CollectorFrame;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Tells agents which golden files open incidents need kept (level-triggered: each Pins replaces
 * the last). Computed on its own executor from the read models, never on the core thread.
 *
 * <p>When the open runs change, each open run's state is read once for the whole fleet, not once
 * per agent: the change comes with the incident a stop is issued for, and at 10,000 agents reading
 * (and JSON-decoding) it per agent took CPU from that stop's fan-out.
 */
public final class Pins {
  /** Where pins go: every connected agent's stream, or one agent's. */
  interface Streams {
    /** Each connected stream: its agent id, and how to send on it. */
    void forEach(BiConsumer<String, Consumer<CollectorFrame>> action);

    Optional<Consumer<CollectorFrame>> of(String agentId);
  }

  private final Supplier<Set<String>> openRunIds;
  private final Function<String, Optional<RunState>> runs;
  private final Streams streams;
  private final Executor executor;
  private Set<String> last = Set.of();
  private volatile boolean pending;

  public Pins(Incidents incidents, RocksRunStateStore runs, AgentGateway gateway, Executor executor) {
    this(incidents::openRunIds, runs::get, new Streams() {
      @Override
      public void forEach(BiConsumer<String, Consumer<CollectorFrame>> action) {
        for (AgentSession s : gateway.sessions()) action.accept(s.agentId(), s::send);
      }

      @Override
      public Optional<Consumer<CollectorFrame>> of(String agentId) {
        return gateway.session(agentId).map(s -> s::send);
      }
    }, executor);
  }

  Pins(Supplier<Set<String>> openRunIds, Function<String, Optional<RunState>> runs, Streams streams,
      Executor executor) {
    this.openRunIds = openRunIds;
    this.runs = runs;
    this.streams = streams;
    this.executor = executor;
  }

  /** Open incidents changed: send every agent its pins if the set of run ids changed. */
  public void changed() {
    if (pending) return;
    pending = true;
    execute(() -> {
      pending = false;
      Set<String> now = openRunIds.get();
      synchronized (this) {
        if (now.equals(last)) return;
        last = now;
      }
      Map<String, List<String>> paths = pathsByAgent(now);
      streams.forEach((agentId, send) -> send.accept(frame(now, paths.getOrDefault(agentId, List.of()))));
    });
  }

  /** A (re)connected agent gets its pins. */
  public void sendTo(String agentId) {
    execute(() -> streams.of(agentId).ifPresent(send -> {
      Set<String> now = openRunIds.get();
      send.accept(frame(now, pathsByAgent(now).getOrDefault(agentId, List.of())));
    }));
  }

  /** The golden files each agent reported for the runs, reading each run's state once. */
  private Map<String, List<String>> pathsByAgent(Set<String> runIds) {
    Map<String, List<String>> out = new HashMap<>();
    for (String run : runIds) {
      runs.apply(run).ifPresent(state -> {
        for (Replica r : state.replicas()) {
          if (r.path() != null && !r.path().isEmpty()) {
            out.computeIfAbsent(r.agentId(), a -> new ArrayList<>()).add(r.path());
          }
        }
      });
    }
    return out;
  }

  private static CollectorFrame frame(Set<String> runIds, List<String> paths) {
    return CollectorFrame.newBuilder().setPins(dev.lockstep.proto.v1.Pins.newBuilder()
        .addAllRunIds(runIds).addAllPaths(paths)).build();
  }

  private void execute(Runnable r) {
    try {
      executor.execute(r);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      pending = false;
    }
  }
}
