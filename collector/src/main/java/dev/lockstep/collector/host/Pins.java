package dev.lockstep.collector.host;

import com.google.protobuf.CodedOutputStream;
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
 *
 * <p>A Pins never holds more than {@link #MAX_PINS_BYTES} of run ids and paths, however many runs
 * are open: an agent refuses a frame over 4 MiB by ending its stream, which would cut the whole
 * fleet off from stops. Past the cap the newest runs that fit are pinned (open run ids come newest
 * first) and the rest are left out, counted in a warning: their golden files are then kept only
 * as long as the agents' own retention keeps them.
 */
public final class Pins {
  /** At most this many bytes of run ids and paths in one Pins: a quarter of an agent's frame limit. */
  static final int MAX_PINS_BYTES = 1 << 20;
  private static final System.Logger LOG = System.getLogger(Pins.class.getName());
  private static final int PINS_RUN_IDS = dev.lockstep.proto.v1.Pins.RUN_IDS_FIELD_NUMBER;
  private static final int PINS_PATHS = dev.lockstep.proto.v1.Pins.PATHS_FIELD_NUMBER;

  /** Where pins go: every connected agent's stream, or one agent's. */
  interface Streams {
    /** Each connected stream: its agent id, and how to send on it. */
    void forEach(BiConsumer<String, Consumer<CollectorFrame>> action);

    Optional<Consumer<CollectorFrame>> of(String agentId);
  }

  /** Newest first: past the cap, the order decides which runs are pinned. */
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

  /**
   * Open incidents changed: send every agent its pins if the set of run ids changed (a new order
   * of the same runs alone is not sent: it changes what is pinned only past the cap).
   */
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
      Pinned pinned = pinned(now);
      if (pinned.leftOut() > 0) {
        LOG.log(System.Logger.Level.WARNING, "pins: " + pinned.leftOut() + " of " + now.size()
            + " open runs left out of the Pins sent to agents (more than " + MAX_PINS_BYTES
            + " bytes of run ids and paths); agents' retention may delete their golden files");
      }
      streams.forEach((agentId, send) -> send.accept(pinned.frame(agentId)));
    });
  }

  /** A (re)connected agent gets its pins. */
  public void sendTo(String agentId) {
    execute(() -> streams.of(agentId).ifPresent(send -> send.accept(pinned(openRunIds.get())
        .frame(agentId))));
  }

  /** The runs pinned and the golden files each agent reported for them; how many were left out. */
  private record Pinned(List<String> runIds, Map<String, List<String>> pathsByAgent, int leftOut) {
    CollectorFrame frame(String agentId) {
      return CollectorFrame.newBuilder().setPins(dev.lockstep.proto.v1.Pins.newBuilder()
          .addAllRunIds(runIds).addAllPaths(pathsByAgent.getOrDefault(agentId, List.of()))).build();
    }
  }

  /**
   * The newest runs (and their files) that fit in {@link #MAX_PINS_BYTES}, reading each run's
   * state once. A run counts with every agent's files of it, so each agent's frame fits.
   */
  private Pinned pinned(Set<String> newestFirst) {
    List<String> kept = new ArrayList<>();
    Map<String, List<String>> paths = new HashMap<>();
    long bytes = 0;
    int leftOut = 0;
    for (String run : newestFirst) {
      List<Replica> files = runs.apply(run).map(RunState::replicas).orElse(List.of()).stream()
          .filter(r -> r.path() != null && !r.path().isEmpty()).toList();
      long size = CodedOutputStream.computeStringSize(PINS_RUN_IDS, run);
      for (Replica r : files) size += CodedOutputStream.computeStringSize(PINS_PATHS, r.path());
      if (bytes + size > MAX_PINS_BYTES) {
        leftOut++;
        continue;
      }
      bytes += size;
      kept.add(run);
      for (Replica r : files) paths.computeIfAbsent(r.agentId(), a -> new ArrayList<>()).add(r.path());
    }
    return new Pinned(kept, paths, leftOut);
  }

  private void execute(Runnable r) {
    try {
      executor.execute(r);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      pending = false;
    }
  }
}
