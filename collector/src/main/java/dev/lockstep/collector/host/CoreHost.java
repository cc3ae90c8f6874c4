package dev.lockstep.collector.host;

import dev.lockstep.collector.core.Core;
import dev.lockstep.collector.core.Effect;
import dev.lockstep.collector.core.Input;
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
 * ahead of event batches and are taken between any two batches; the events queue is bounded —
 * when it holds more than {@code capacityEvents}, the stream that added the batch is not asked
 * for its next frame until the queue drained (backpressure on ingest, not an unbounded queue).
 * Retention, evidence and diffs never run here.
 */
public final class CoreHost implements AutoCloseable {
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
  private final ArrayDeque<Events> events = new ArrayDeque<>();
  private final ArrayDeque<Runnable> waitingForRoom = new ArrayDeque<>();
  private final ConcurrentSkipListMap<Long, Integer> inFlight = new ConcurrentSkipListMap<>();
  private int queuedEvents;
  private long eventsPausedUntilNanos;
  private boolean storeFailing;
  private Thread thread;
  private volatile boolean running;

  public CoreHost(Core core, StoreState state, Store store, Clock clock,
      Consumer<List<Effect>> effects, Monitor monitor, int capacityEvents) {
    this.core = core;
    this.state = state;
    this.store = store;
    this.clock = clock;
    this.effects = effects;
    this.monitor = monitor;
    this.capacityEvents = capacityEvents;
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
  public CompletableFuture<Object> submit(Input in) {
    CompletableFuture<Object> f = new CompletableFuture<>();
    offer(new Control(in, f, null), f);
    return f;
  }

  /** Runs {@code task} on the core thread between transactions (reads of core-owned state). */
  public CompletableFuture<Object> runOnCore(Runnable task) {
    CompletableFuture<Object> f = new CompletableFuture<>();
    offer(new Control(null, f, task), f);
    return f;
  }

  private void offer(Control c, CompletableFuture<Object> f) {
    lock.lock();
    try {
      if (!running) {
        f.completeExceptionally(new IllegalStateException("collector is shutting down"));
        return;
      }
      control.add(c);
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
   * Queues a stored batch for processing (call it in the agent's seq order). {@code onRoom} runs
   * now when the queue has room, otherwise once it drained: callers ask for the next frame there.
   */
  public void submitEvents(Input.Events in, Runnable onRoom) {
    boolean room;
    lock.lock();
    try {
      events.add(new Events(in));
      queuedEvents += in.events().size();
      room = queuedEvents <= capacityEvents;
      if (!room) waitingForRoom.add(onRoom);
      work.signal();
    } finally {
      lock.unlock();
    }
    if (room) onRoom.run();
  }

  /** Items waiting now (control inputs, events). */
  public int[] depth() {
    lock.lock();
    try {
      return new int[] {control.size(), queuedEvents};
    } finally {
      lock.unlock();
    }
  }

  // ------------------------------------------------------------------ loop

  private void loop() {
    while (true) {
      List<Control> controls = new ArrayList<>();
      List<Events> batches = new ArrayList<>();
      List<Runnable> room = new ArrayList<>();
      lock.lock();
      try {
        while (running && control.isEmpty() && (events.isEmpty() || paused())) {
          long waitNanos = events.isEmpty() ? TimeUnit.SECONDS.toNanos(1)
              : Math.max(1, eventsPausedUntilNanos - System.nanoTime());
          try {
            work.awaitNanos(waitNanos);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        if (!running && control.isEmpty()) return;
        if (!control.isEmpty()) {
          while (!control.isEmpty() && controls.size() < MAX_CONTROL_PER_TX) controls.add(control.poll());
        } else {
          int n = 0;
          while (!events.isEmpty() && n < MAX_EVENTS_PER_TX) {
            Events e = events.poll();
            batches.add(e);
            n += e.input().events().size();
            queuedEvents -= e.input().events().size();
          }
          if (queuedEvents <= capacityEvents / 2) {
            room.addAll(waitingForRoom);
            waitingForRoom.clear();
          }
        }
        monitor.queueDepth(control.size(), queuedEvents);
      } finally {
        lock.unlock();
      }
      room.forEach(CoreHost::quietly);
      try {
        if (!controls.isEmpty()) {
          runControls(controls);
        } else if (!batches.isEmpty()) {
          runEvents(batches);
        }
      } catch (Throwable t) {
        monitor.failed("core", t);
        LOG.log(System.Logger.Level.ERROR, "core loop: " + t, t);
        for (Control c : controls) c.result().completeExceptionally(t);
        if (t instanceof Error e) throw e;
      }
    }
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
    Tx tx = new Tx(state, clock.millis());
    for (Events e : batches) core.apply(tx, e.input());
    if (!commit(tx)) {
      // Stored and acked already: keep them, in order, and try again shortly.
      lock.lock();
      try {
        for (int i = batches.size() - 1; i >= 0; i--) {
          events.addFirst(batches.get(i));
          queuedEvents += batches.get(i).input().events().size();
        }
        eventsPausedUntilNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
      } finally {
        lock.unlock();
      }
      return;
    }
    eventsPausedUntilNanos = 0;
    for (Events e : batches) notStored(e.input().ingestedAtMillis());
    effects.accept(tx.effects());
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

  // ------------------------------------------------------------------ checkpoint, replay

  /**
   * Persists a lower bound of the ingest time of every stored event not yet processed, where a
   * restart starts its replay scan. Correctness does not depend on it (the per-agent processing
   * marks do), only how much a restart scans.
   */
  public void checkpoint() {
    Long low = inFlight.isEmpty() ? null : inFlight.firstKey();
    long mark = low != null ? low : store.ingestMillis(clock.millis());
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
    List<Event> group = new ArrayList<>();
    long[] groupAt = {0};
    Runnable flush = () -> {
      if (!group.isEmpty()) {
        pending.add(new Events(new Input.Events(agent[0], List.copyOf(group), groupAt[0])));
        group.clear();
      }
    };
    Map<String, Long> marks = new java.util.HashMap<>();
    store.scanEvents(from, ev -> {
      long done = marks.computeIfAbsent(ev.agentId(), state::processedSeq);
      if (ev.event().getSeq() <= done) return true;
      if (!ev.agentId().equals(agent[0]) || group.size() >= 500) {
        flush.run();
        agent[0] = ev.agentId();
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
    } finally {
      lock.unlock();
    }
    checkpoint();
  }
}
