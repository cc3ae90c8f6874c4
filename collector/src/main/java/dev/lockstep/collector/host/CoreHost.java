package dev.lockstep.collector.host;

import dev.lockstep.collector.core.Core;
import dev.lockstep.collector.core.Effect;
import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.core.Lane;
import dev.lockstep.collector.core.Refusal;
import dev.lockstep.collector.core.Tx;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.Event;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Runs the {@link Core} in embedded mode: ONE core thread takes inputs from a bounded inbox,
 * applies them in a {@link Tx}, commits the transaction to RocksDB ({@link StoreState#commit}),
 * then hands its effects to the effect runner.
 *
 * <p>Stops never wait behind other work: control inputs (operator calls, Hellos, acks, timers) go
 * first, then DECISIVE events (golden reports, log lines reporting mismatches — what can stop the
 * fleet), then ROUTINE ones, re-checked between any two transactions. One exception: while only
 * stop acks are waiting, DECISIVE events go ahead of them. A fleet acking a stop or a resume
 * (thousands of acks) would otherwise hold the next mismatch back for as many transactions; an
 * ack only confirms, it issues and resumes nothing, so taking a decision before it changes no
 * outcome (an ack that became stale is refused, and the agent acks the new state). Any other
 * control input keeps its place ahead of the events: an operator's resume queued before a
 * mismatch must not resume the order that mismatch issues. Both events queues are
 * bounded. The decisive one applies backpressure (the stream is not asked for its next frame
 * until the queue drained). The routine one never does: routine events are already durable in
 * the store, so when its queue is full the core stops queueing them in memory ("spills") and
 * catches up by reading them back from the store in ingest order. Backpressure on routine events
 * would make a stream's golden report wait behind that agent's own routine backlog (measured:
 * seconds at 50 agents), which is exactly the wait a stop must never have. Retention, evidence
 * and diffs never run here.
 */
public final class CoreHost implements CoreDoor, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(CoreHost.class.getName());
  private static final int MAX_CONTROL_PER_TX = 256;
  private static final int MAX_EVENTS_PER_TX = 2_000;
  private static final String PROCESSED_BEFORE = "processed_before_millis";
  private static final long REPLAY_SLACK_MILLIS = 2_000;

  /** What the host reports about itself (metrics). */
  public interface Monitor {
    void committed(int changes, boolean sync, double seconds);

    void queueDepth(int controlItems, int events);

    void failed(String what, Throwable t);

    /** Routine events started (true) or stopped (false) spilling to the store. */
    default void spilled(boolean on) {}

    /**
     * Events stored {@code seconds} ago decided a change of stop states, now committed and sent
     * (queued to every connected agent).
     */
    default void decided(double seconds) {}

    /** One step of reading spilled events back: store entries read, events taken to process. */
    default void caughtUp(int scanned, int taken) {}

    /**
     * The core thread ended on an Error (out of memory, a stack overflow): from now on nothing
     * is decided, no stop is issued, and inputs are refused. The collector must not go on
     * looking healthy.
     */
    default void died(Throwable t) {}
  }

  private record Control(Input input, CompletableFuture<Object> result, Runnable task) {}

  private record Events(Input.Events input) {}

  private final Core core;
  private final StoreState state;
  private final Store store;
  private final Clock clock;
  private final Consumer<List<Effect>> effects;
  private final Monitor monitor;
  private final int capacityEvents;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private final ArrayDeque<Control> control = new ArrayDeque<>();
  /** How many of {@link #control} are not stop acks (under {@link #lock}). */
  private int controlNotAcks;
  private final java.util.EnumMap<Lane, ArrayDeque<Events>> events = new java.util.EnumMap<>(Lane.class);
  private final java.util.EnumMap<Lane, ArrayDeque<Runnable>> waitingForRoom =
      new java.util.EnumMap<>(Lane.class);
  private final int[] queued = new int[Lane.values().length];
  private final ConcurrentSkipListMap<Long, Integer> inFlight = new ConcurrentSkipListMap<>();
  private long eventsPausedUntilNanos;
  // routine spill: events left in the store, read back from catchUpKey in ingest order
  private boolean spilling;
  private long spills;
  private long spillFromMillis = Long.MAX_VALUE;
  private byte[] catchUpKey;
  private volatile long catchUpAtMillis;
  private boolean storeFailing;
  private Thread thread;
  private volatile boolean running;
  private volatile Error died;

  public CoreHost(Core core, StoreState state, Store store, Clock clock,
      Consumer<List<Effect>> effects, Monitor monitor, int capacityEvents) {
    this.core = core;
    this.state = state;
    this.store = store;
    this.clock = clock;
    this.effects = effects;
    this.monitor = monitor;
    this.capacityEvents = capacityEvents;
    for (Lane l : Lane.values()) {
      events.put(l, new ArrayDeque<>());
      waitingForRoom.put(l, new ArrayDeque<>());
    }
  }

  public StoreState state() {
    return state;
  }

  /** Starts the core thread. */
  public void start() {
    running = true;
    thread = new Thread(this::loop, "lockstep-core");
    thread.setDaemon(true);
    thread.start();
  }

  // ------------------------------------------------------------------ inbox

  /** Queues a control input (ahead of events); the future completes after its commit. */
  @Override
  public CompletableFuture<Object> submit(Input in) {
    CompletableFuture<Object> f = new CompletableFuture<>();
    offer(new Control(in, f, null), f);
    return f;
  }

  /** Runs {@code task} on the core thread between transactions (reads of core-owned state). */
  @Override
  public CompletableFuture<Object> runOnCore(Runnable task) {
    CompletableFuture<Object> f = new CompletableFuture<>();
    offer(new Control(null, f, task), f);
    return f;
  }

  private void offer(Control c, CompletableFuture<Object> f) {
    lock.lock();
    try {
      if (!running) {
        f.completeExceptionally(new IllegalStateException(died != null
            ? "the collector's core thread died (" + died + "); restart the collector"
            : "collector is shutting down"));
        return;
      }
      control.add(c);
      if (!(c.input() instanceof Input.Ack)) controlNotAcks++;
      work.signal();
    } finally {
      lock.unlock();
    }
  }

  /** A batch is about to be written to the store, stamped {@code ingestedAtMillis}. */
  public void storing(long ingestedAtMillis) {
    inFlight.merge(ingestedAtMillis, 1, Integer::sum);
  }

  /** The batch stamped {@code ingestedAtMillis} will not reach the core (failed, duplicates). */
  public void notStored(long ingestedAtMillis) {
    inFlight.computeIfPresent(ingestedAtMillis, (k, n) -> n == 1 ? null : n - 1);
  }

  /**
   * Queues stored events of one lane for processing (call it in the agent's seq order).
   * {@code onRoom} runs now when that lane's queue has room, otherwise once it drained: callers
   * ask for the next frame there.
   */
  public void submitEvents(Input.Events in, Runnable onRoom) {
    boolean room;
    int lane = in.lane().ordinal();
    lock.lock();
    try {
      if (in.lane() == Lane.ROUTINE && (spilling || queued[lane] + in.events().size() > capacityEvents)) {
        // Durable already: leave it in the store and read it back when the core catches up.
        if (!spilling) {
          spilling = true;
          catchUpKey = null;
          spillFromMillis = in.ingestedAtMillis();
          monitor.spilled(true);
        }
        spillFromMillis = Math.min(spillFromMillis, in.ingestedAtMillis());
        spills++;
        notStored(in.ingestedAtMillis()); // the spill floor keeps the checkpoint below it now
        room = true;
      } else {
        events.get(in.lane()).add(new Events(in));
        queued[lane] += in.events().size();
        room = queued[lane] <= capacityEvents;
        if (!room) waitingForRoom.get(in.lane()).add(onRoom);
      }
      work.signal();
    } finally {
      lock.unlock();
    }
    if (room) onRoom.run();
  }

  /** How far behind the store the core's routine processing is (0 when it is not). */
  public long lagMillis() {
    long at = catchUpAtMillis;
    return at == 0 ? 0 : Math.max(0, clock.millis() - at);
  }

  /** Items waiting now: control inputs, decisive events, routine events. */
  public int[] depth() {
    lock.lock();
    try {
      return new int[] {control.size(), queued[Lane.DECISIVE.ordinal()], queued[Lane.ROUTINE.ordinal()]};
    } finally {
      lock.unlock();
    }
  }

  /** Nothing to process now (spilled events wait while the store refuses writes). */
  private boolean noEvents() {
    return events.get(Lane.DECISIVE).isEmpty() && events.get(Lane.ROUTINE).isEmpty()
        && (!spilling || state.heldCount() > 0);
  }

  // ------------------------------------------------------------------ loop

  private void loop() {
    while (true) {
      List<Control> controls = new ArrayList<>();
      List<Events> batches = new ArrayList<>();
      List<Runnable> room = new ArrayList<>();
      long catchUpSpills = -1;
      lock.lock();
      try {
        while (running && control.isEmpty() && (noEvents() || paused())) {
          long waitNanos = noEvents() ? TimeUnit.MILLISECONDS.toNanos(spilling ? 200 : 1000)
              : Math.max(1, eventsPausedUntilNanos - System.nanoTime());
          try {
            work.awaitNanos(waitNanos);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        if (!running && control.isEmpty()) return;
        boolean decisiveFirst = controlNotAcks == 0 && !events.get(Lane.DECISIVE).isEmpty()
            && !paused();
        if (!control.isEmpty() && !decisiveFirst) {
          while (!control.isEmpty() && controls.size() < MAX_CONTROL_PER_TX) {
            Control c = control.poll();
            if (!(c.input() instanceof Input.Ack)) controlNotAcks--;
            controls.add(c);
          }
        } else if (spilling && events.get(Lane.DECISIVE).isEmpty() && events.get(Lane.ROUTINE).isEmpty()) {
          // reading spilled events back waits while the store refuses writes
          if (state.heldCount() == 0) catchUpSpills = spills;
        } else {
          Lane lane = events.get(Lane.DECISIVE).isEmpty() ? Lane.ROUTINE : Lane.DECISIVE;
          ArrayDeque<Events> q = events.get(lane);
          int n = 0;
          while (!q.isEmpty() && n < MAX_EVENTS_PER_TX) {
            Events e = q.poll();
            batches.add(e);
            n += e.input().events().size();
            queued[lane.ordinal()] -= e.input().events().size();
          }
          if (queued[lane.ordinal()] <= capacityEvents / 2) {
            room.addAll(waitingForRoom.get(lane));
            waitingForRoom.get(lane).clear();
          }
        }
        monitor.queueDepth(control.size(), queued[Lane.ROUTINE.ordinal()]);
      } finally {
        lock.unlock();
      }
      room.forEach(CoreHost::quietly);
      try {
        if (!controls.isEmpty()) {
          runControls(controls);
        } else if (!batches.isEmpty()) {
          runEvents(batches);
        } else if (catchUpSpills >= 0) {
          catchUp(catchUpSpills);
        }
      } catch (Throwable t) {
        monitor.failed("core", t);
        LOG.log(System.Logger.Level.ERROR, "core loop: " + t, t);
        for (Control c : controls) c.result().completeExceptionally(t);
        if (t instanceof Error e) {
          die(e);
          throw e;
        }
      }
    }
  }

  /** The thread ends: refuses inputs from now on and fails those waiting, then tells the monitor. */
  private void die(Error e) {
    List<Control> waiting;
    lock.lock();
    try {
      died = e;
      running = false;
      waiting = new ArrayList<>(control);
      control.clear();
    } finally {
      lock.unlock();
    }
    IllegalStateException refused = new IllegalStateException(
        "the collector's core thread died (" + e + "); restart the collector", e);
    for (Control c : waiting) c.result().completeExceptionally(refused);
    try {
      monitor.died(e);
    } catch (RuntimeException | Error ignored) {
      // the Error is rethrown on the core thread regardless; already logged and counted
    }
  }

  /** Whether the core thread ended on an Error (see {@link Monitor#died}). */
  public boolean dead() {
    return died != null;
  }

  private boolean paused() {
    return eventsPausedUntilNanos != 0 && System.nanoTime() < eventsPausedUntilNanos;
  }

  private static void quietly(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "flow-control callback failed: " + e);
    }
  }

  private void runControls(List<Control> items) {
    Tx tx = new Tx(state, clock.millis());
    List<Object> results = new ArrayList<>(items.size());
    for (Control c : items) {
      if (c.task() != null) {
        results.add(null);
        continue;
      }
      int sp = tx.savepoint();
      try {
        results.add(core.apply(tx, c.input()));
      } catch (Refusal r) {
        tx.rollbackTo(sp);
        results.add(r);
      } catch (RuntimeException e) {
        tx.rollbackTo(sp);
        monitor.failed("core", e);
        LOG.log(System.Logger.Level.ERROR, "core failed on " + c.input().getClass().getSimpleName()
            + ": " + e, e);
        results.add(e);
      }
    }
    if (!commit(tx)) {
      IllegalStateException failed = new IllegalStateException(
          "the collector could not write its store; nothing was changed (see its log)");
      for (Control c : items) {
        if (c.task() == null) c.result().completeExceptionally(failed);
      }
      // tasks (resends, checkpoints) still run: they do not write decisions
      for (Control c : items) {
        if (c.task() != null) runTask(c);
      }
      return;
    }
    effects.accept(tx.effects());
    for (int i = 0; i < items.size(); i++) {
      Control c = items.get(i);
      if (c.task() != null) {
        runTask(c);
        continue;
      }
      Object r = results.get(i);
      if (r instanceof RuntimeException e) {
        c.result().completeExceptionally(e);
      } else {
        c.result().complete(r);
      }
    }
  }

  private void runTask(Control c) {
    try {
      c.task().run();
      c.result().complete(null);
    } catch (RuntimeException e) {
      monitor.failed("core_task", e);
      LOG.log(System.Logger.Level.ERROR, "core task failed: " + e, e);
      c.result().completeExceptionally(e);
    }
  }

  private void runEvents(List<Events> batches) {
    long t0 = System.nanoTime();
    long startedAt = clock.millis();
    Tx tx = new Tx(state, startedAt);
    for (Events e : batches) core.apply(tx, e.input());
    long t1 = System.nanoTime();
    if (!commit(tx)) {
      // Stored and acked already: keep them, in order, and try again shortly.
      lock.lock();
      try {
        for (int i = batches.size() - 1; i >= 0; i--) {
          Events e = batches.get(i);
          events.get(e.input().lane()).addFirst(e);
          queued[e.input().lane().ordinal()] += e.input().events().size();
        }
        eventsPausedUntilNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
      } finally {
        lock.unlock();
      }
      return;
    }
    eventsPausedUntilNanos = 0;
    long t2 = System.nanoTime();
    for (Events e : batches) notStored(e.input().ingestedAtMillis());
    effects.accept(tx.effects());
    if (batches.get(0).input().lane() == Lane.DECISIVE
        && tx.effects().stream().anyMatch(e -> e instanceof Effect.SendStop)) {
      long stored = batches.stream().mapToLong(e -> e.input().ingestedAtMillis()).min().orElseThrow();
      long sends = tx.effects().stream().filter(e -> e instanceof Effect.SendStop).count();
      monitor.decided(Math.max(0, clock.millis() - stored) / 1000.0);
      // where a stop's time went, for the operator and the fleet benchmark
      LOG.log(System.Logger.Level.INFO, String.format(java.util.Locale.ROOT,
          "stop decided: %d ms from storing the event to the core, core %.1f ms (%d events),"
              + " commit %.1f ms, stop queued to %d agents in %.1f ms",
          Math.max(0, startedAt - stored), (t1 - t0) / 1e6,
          batches.stream().mapToInt(e -> e.input().events().size()).sum(), (t2 - t1) / 1e6, sends,
          (System.nanoTime() - t2) / 1e6));
    }
  }

  /** Commits; false (logged once per failing period, counted) when the store refused. */
  private boolean commit(Tx tx) {
    if (tx.isEmpty()) return true;
    long t0 = System.nanoTime();
    var changes = tx.changes();
    try {
      state.commit(changes, tx.syncRequired(), clock.instant());
    } catch (RuntimeException e) {
      monitor.failed("store", e);
      if (!storeFailing) {
        storeFailing = true;
        LOG.log(System.Logger.Level.ERROR, "collector store write failed; decisions wait until it"
            + " recovers: " + e.getMessage());
      }
      return false;
    }
    if (storeFailing) {
      storeFailing = false;
      LOG.log(System.Logger.Level.INFO, "collector store writes again");
    }
    monitor.committed(changes.size(), tx.syncRequired(), (System.nanoTime() - t0) / 1e9);
    return true;
  }

  /**
   * One step of reading spilled routine events back from the store: up to one transaction's
   * worth, in ingest order from the cursor, each agent's events after its routine mark. When a
   * step reaches the end of the store and nothing was spilled since it began, routine events go
   * through memory again.
   */
  private void catchUp(long spillsAtStart) {
    byte[] from;
    lock.lock();
    try {
      from = catchUpKey != null ? catchUpKey
          : java.nio.ByteBuffer.allocate(8).putLong(Math.max(0, spillFromMillis - REPLAY_SLACK_MILLIS)).array();
    } finally {
      lock.unlock();
    }
    List<Events> batch = new ArrayList<>();
    Map<String, Long> marks = new java.util.HashMap<>();
    byte[][] last = {null};
    long[] lastAt = {0};
    int[] n = {0};
    int[] scanned = {0};
    boolean[] more = {false};
    String[] agent = {null};
    List<Event> group = new ArrayList<>();
    Runnable flush = () -> {
      if (!group.isEmpty()) {
        batch.add(new Events(new Input.Events(agent[0], Lane.ROUTINE, List.copyOf(group), lastAt[0])));
        group.clear();
      }
    };
    store.scanEventsFrom(from, ev -> {
      // Entries read, not only events taken, bound a step: the scan starts REPLAY_SLACK_MILLIS
      // before the spill, over events the live path processed already (at 200k events/s, 400,000
      // of them), and a decisive event waits for the step under way.
      if (scanned[0] >= MAX_EVENTS_PER_TX) {
        more[0] = true;
        return false;
      }
      scanned[0]++;
      last[0] = ev.key();
      lastAt[0] = ev.ingestedAtMillis();
      if (Lane.of(ev.event()) != Lane.ROUTINE) return true;
      long done = marks.computeIfAbsent(ev.agentId(), a -> state.processedSeq(a, Lane.ROUTINE));
      if (ev.event().getSeq() <= done) return true;
      if (!ev.agentId().equals(agent[0]) || group.size() >= 500) {
        flush.run();
        agent[0] = ev.agentId();
      }
      group.add(ev.event());
      marks.put(ev.agentId(), ev.event().getSeq());
      n[0]++;
      return true;
    });
    flush.run();
    monitor.caughtUp(scanned[0], n[0]);
    if (!batch.isEmpty()) {
      Tx tx = new Tx(state, clock.millis());
      for (Events e : batch) core.apply(tx, e.input());
      if (!commit(tx)) {
        eventsPausedUntilNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        return;
      }
      effects.accept(tx.effects());
    }
    lock.lock();
    try {
      if (last[0] != null) {
        // resume just after the last key seen
        catchUpKey = java.util.Arrays.copyOf(last[0], last[0].length + 1);
        catchUpAtMillis = lastAt[0];
      }
      if (!more[0] && spills == spillsAtStart) {
        spilling = false;
        spillFromMillis = Long.MAX_VALUE;
        catchUpKey = null;
        catchUpAtMillis = 0;
        monitor.spilled(false);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Runs the mismatch path once on made-up inputs in a transaction that is never committed
   * (decision, incident, order, fan-out frames, store encoding), so the first real mismatch does
   * not pay for class loading and one-time initialisation on its way to the stop.
   */
  public void warmUp() {
    Tx tx = new Tx(state, clock.millis());
    core.apply(tx, new Input.Hello("warm-up.agent", -1, Map.of(), dev.lockstep.proto.v1.StopState.getDefaultInstance()));
    for (String role : List.of("primary", "shadow")) {
      String hash = "sha256:" + (role.equals("primary") ? "a" : "b").repeat(64);
      core.apply(tx, new Input.Events("warm-up.agent", Lane.DECISIVE, List.of(Event.newBuilder()
          .setSeq(role.equals("primary") ? 1 : 2).setGolden(dev.lockstep.proto.v1.GoldenReport.newBuilder()
              .setRunId("warm-up.run").setWorkflow("warm-up").setRole(role)
              .setCanonicalHash(hash).addSteps(dev.lockstep.proto.v1.StepSummary.newBuilder()
                  .setIndex(0).setName("warm-up").setCanonicalHash(hash))).build()), 0));
    }
    state.encodeOnly(tx.changes(), clock.instant());
    for (Effect e : tx.effects()) {
      if (e instanceof Effect.SendStop s) {
        dev.lockstep.proto.v1.CollectorFrame.newBuilder().setStop(
            dev.lockstep.proto.v1.StopCommand.newBuilder().setState(s.desired())).build().toByteArray();
      }
    }
  }

  // ------------------------------------------------------------------ checkpoint, replay

  /**
   * Persists a lower bound of the ingest time of every stored event not yet processed, where a
   * restart starts its replay scan. Correctness does not depend on it (the per-agent processing
   * marks do), only how much a restart scans.
   */
  public void checkpoint() {
    // while transactions are held in memory (store refusing writes) their processing marks are
    // not on disk: a checkpoint past them would let a crash skip their events on replay
    if (state.heldCount() > 0) return;
    Long low = inFlight.isEmpty() ? null : inFlight.firstKey();
    long mark = low != null ? low : store.ingestMillis(clock.millis());
    lock.lock();
    try {
      if (spilling) {
        mark = Math.min(mark, catchUpAtMillis != 0 ? catchUpAtMillis : spillFromMillis);
      }
    } finally {
      lock.unlock();
    }
    try {
      store.put(Store.Family.META, PROCESSED_BEFORE, Store.longBytes(mark), false);
    } catch (RuntimeException e) {
      monitor.failed("checkpoint", e);
    }
  }

  /**
   * Re-processes events stored (and acked) but not processed when the collector last stopped:
   * every event after its agent's processing mark, scanning from the persisted checkpoint.
   * Runs on the caller's thread before {@link #start}. Returns the number of events processed.
   */
  public int replay() {
    byte[] mark = store.get(Store.Family.META, PROCESSED_BEFORE);
    long from = mark == null ? 0 : Math.max(0, Store.bytesLong(mark) - REPLAY_SLACK_MILLIS);
    List<Events> pending = new ArrayList<>();
    int[] count = {0};
    String[] agent = {null};
    Lane[] lane = {null};
    List<Event> group = new ArrayList<>();
    long[] groupAt = {0};
    Runnable flush = () -> {
      if (!group.isEmpty()) {
        pending.add(new Events(new Input.Events(agent[0], lane[0], List.copyOf(group), groupAt[0])));
        group.clear();
      }
    };
    Map<String, Long> marks = new java.util.HashMap<>();
    store.scanEvents(from, ev -> {
      Lane l = Lane.of(ev.event());
      long done = marks.computeIfAbsent(l + "/" + ev.agentId(), k -> state.processedSeq(ev.agentId(), l));
      if (ev.event().getSeq() <= done) return true;
      if (!ev.agentId().equals(agent[0]) || l != lane[0] || group.size() >= 500) {
        flush.run();
        agent[0] = ev.agentId();
        lane[0] = l;
        groupAt[0] = ev.ingestedAtMillis();
      }
      group.add(ev.event());
      count[0]++;
      if (pending.size() >= 4) {
        runOrThrow(pending);
        pending.clear();
      }
      return true;
    });
    flush.run();
    if (!pending.isEmpty()) runOrThrow(pending);
    checkpoint();
    return count[0];
  }

  private void runOrThrow(List<Events> batches) {
    Tx tx = new Tx(state, clock.millis());
    for (Events e : batches) core.apply(tx, e.input());
    if (!tx.isEmpty()) state.commit(tx.changes(), tx.syncRequired(), clock.instant());
    effects.accept(tx.effects());
  }

  // ------------------------------------------------------------------ shutdown

  @Override
  public void close() {
    lock.lock();
    try {
      if (!running && thread == null) return;
      running = false;
      work.signalAll();
    } finally {
      lock.unlock();
    }
    if (thread != null) {
      try {
        thread.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      thread = null;
    }
    lock.lock();
    try {
      for (Control c : control) {
        c.result().completeExceptionally(new IllegalStateException("collector is shutting down"));
      }
      control.clear();
      controlNotAcks = 0;
    } finally {
      lock.unlock();
    }
    checkpoint();
  }
}
