package dev.lockstep.collector.host;

import dev.lockstep.collector.core.Core;
import dev.lockstep.collector.core.CoreConfig;
import dev.lockstep.collector.core.Effect;
import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.core.Tx;
import dev.lockstep.collector.incident.Incidents;
import dev.lockstep.collector.store.AuditLog;
import dev.lockstep.collector.store.RocksRunStateStore;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopCommand;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Warms the JIT up on the stop path after start-up. Stops are rare, so without it the first real
 * stops of a collector's life ran the per-agent work — each agent's new desired state, its
 * encoding and commit, its stop frame, then each agent's ack, its audit entry and its commit —
 * interpreted or half-compiled, while the JIT compiled that very code on the same CPUs. Measured
 * in the core alone at 1,000 agents: the acks of one stop took 250–700 ms to handle for the first
 * stops, ~40 ms once compiled (about 10,000 acks later); in the fleet bench the JIT compiler was
 * among the busiest collector threads while a stop went out.
 *
 * <p>It runs the same classes on a world of its own: a scratch RocksDB store in {@code dir}
 * (deleted before and after), its own {@link Core} and {@link StoreState}, made-up agents
 * ({@code warm-up.agent-N}), made-up fleet orders issued, acked, resumed and acked again, each
 * transaction committed as the real host commits it (so the JIT sees the same types at the same
 * call sites, and compiles nothing it must throw away at the first real stop). It shares nothing
 * with the real core: it never reads or writes the real store, and its effects are dropped, so
 * nothing of it reaches an agent or an operator. Its one thread runs at the lowest priority.
 */
public final class StopPathWarmUp implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(StopPathWarmUp.class.getName());
  static final String AGENT_PREFIX = "warm-up.agent-";

  private final Path dir;
  private final CoreConfig config;
  private final Clock clock;
  private final int agents;
  private final int rounds;
  private final CompletableFuture<String> done = new CompletableFuture<>();
  private final Thread thread;
  private volatile boolean cancelled;

  private StopPathWarmUp(Path dir, CoreConfig config, Clock clock, int agents, int rounds) {
    this.dir = dir;
    this.config = config;
    this.clock = clock;
    this.agents = agents;
    this.rounds = rounds;
    this.thread = new Thread(this::run, "lockstep-warm-up");
    thread.setDaemon(true);
    thread.setPriority(Thread.MIN_PRIORITY);
  }

  /**
   * Starts it on its own thread; the future completes with a one-line summary (or fails: harmless,
   * the first stops are only slower). {@link #close()} cancels it and waits for its thread.
   */
  public static StopPathWarmUp start(Path dir, CoreConfig config, Clock clock, int agents, int rounds) {
    StopPathWarmUp w = new StopPathWarmUp(dir, config, clock, agents, rounds);
    w.thread.start();
    return w;
  }

  public CompletableFuture<String> done() {
    return done;
  }

  private void run() {
    long t0 = System.nanoTime();
    long acks = 0;
    int decisions = 0;
    try {
      delete(dir);
      try (Store store = Store.open(dir, false, 8 << 20, 8 << 20)) {
        StoreState state = new StoreState(store, new RocksRunStateStore(store), new Incidents(store),
            new AuditLog(store, clock));
        Core core = new Core(config, new Random(0));
        for (int i = 0; i < agents && !cancelled; i++) {
          commit(state, core, new Input.Hello(AGENT_PREFIX + i, -1, Map.of(), StopState.getDefaultInstance()));
        }
        for (int r = 0; r < rounds && !cancelled; r++) {
          for (boolean resume : new boolean[] {false, true}) {
            Input decision = resume
                ? new Input.Resume(state.activeOrders().stream().map(o -> o.getId()).toList(), true,
                    "warm-up", "collector warm-up", "system", "")
                : new Input.IssueOrder(StopScope.newBuilder().setFleet(true).build(), "warm-up",
                    "collector warm-up", "system", "");
            List<Effect.SendStop> sends = new ArrayList<>();
            for (Effect e : commit(state, core, decision).effects()) {
              if (e instanceof Effect.SendStop s) {
                sends.add(s);
                CollectorFrame.newBuilder().setStop(StopCommand.newBuilder().setState(s.desired()))
                    .build().toByteArray();
              }
            }
            decisions++;
            for (Effect.SendStop s : sends) {
              if (cancelled) break;
              byte[] frame = AgentFrame.newBuilder().setStopAck(StopAck.newBuilder()
                  .setGeneration(s.desired().getGeneration()).setMode(s.desired().getMode())
                  .setEnacted(true).setVerified(true).setDetail("warm-up")).build().toByteArray();
              commit(state, core, new Input.Ack(s.agentId(), AgentFrame.parseFrom(frame).getStopAck()));
              acks++;
            }
          }
        }
      }
      delete(dir);
      if (cancelled) {
        done.completeExceptionally(new java.util.concurrent.CancellationException("collector closing"));
      } else {
        done.complete("stop path warmed up in " + (System.nanoTime() - t0) / 1_000_000 + " ms ("
            + decisions + " made-up stop orders and resumes for " + agents + " made-up agents, "
            + acks + " acks, in a scratch store; nothing of it was stored or sent)");
      }
    } catch (Exception | StackOverflowError e) {
      try {
        delete(dir);
      } catch (RuntimeException again) {
        e.addSuppressed(again);
      }
      done.completeExceptionally(e);
    }
  }

  /** One input in its own transaction, committed as the embedded host commits. */
  private Tx commit(StoreState state, Core core, Input in) {
    Tx tx = new Tx(state, clock.millis());
    core.apply(tx, in);
    state.commit(tx.changes(), false, clock.instant());
    return tx;
  }

  private static void delete(Path dir) {
    if (!Files.exists(dir)) return;
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the warm-up's scratch store " + dir, e);
    }
  }

  /** Cancels it and waits for its thread (it stops within one commit). */
  @Override
  public void close() throws InterruptedException {
    cancelled = true;
    thread.join(TimeUnit.SECONDS.toMillis(10));
    if (thread.isAlive()) {
      LOG.log(System.Logger.Level.WARNING, "stop path warm-up did not end within 10 s");
    }
  }
}
