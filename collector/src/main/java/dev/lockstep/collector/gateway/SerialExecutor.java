package dev.lockstep.collector.gateway;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.Executor;

/**
 * Runs one stream's tasks one at a time, in submission order, on shared pools. An urgent task (a
 * frame that can stop the fleet, or a stop ack) is drained on the urgent pool, ahead of every
 * other stream's routine frames waiting in the main pool's queue, with the stream's tasks queued
 * before it (a drain running on the main pool hands over after its current task); the routine
 * tasks queued after it go back to the main pool. Order within the stream is kept either way: only one drain runs at
 * a time, and every drain takes tasks from the one queue.
 *
 * <p>A <em>gated</em> task (the handling of one frame) closes the stream's gate as it starts; no
 * later task starts until {@link #open()} is called (the frame is finished: stored and handed on,
 * refused, or its stream closed), which may happen inside the task or later on another thread.
 * So frames read ahead wait their turn: the handling of one never overlaps with the asynchronous
 * end (a Kafka produce, room in the core's inbox) of the frame before it.
 */
final class SerialExecutor implements Executor {
  private record Task(Runnable run, boolean urgent, boolean gated) {}

  private final Executor pool;
  private final Executor urgentPool;
  private final Queue<Task> tasks = new ArrayDeque<>();
  private int urgentQueued;
  /** A drain is queued on the main pool, on the urgent pool, or running. */
  private boolean onPool;
  private boolean onUrgentPool;
  private boolean draining;
  /** A gated task started and its stream has not called {@link #open()} since. */
  private boolean gateClosed;

  SerialExecutor(Executor pool) {
    this(pool, pool);
  }

  SerialExecutor(Executor pool, Executor urgentPool) {
    this.pool = pool;
    this.urgentPool = urgentPool;
  }

  @Override
  public void execute(Runnable task) {
    execute(task, false);
  }

  void execute(Runnable task, boolean urgent) {
    execute(task, urgent, false);
  }

  /** Queues {@code task}; a gated one holds back every later task until {@link #open()}. */
  void execute(Runnable task, boolean urgent, boolean gated) {
    Boolean target;
    synchronized (this) {
      tasks.add(new Task(task, urgent, gated));
      if (urgent) urgentQueued++;
      target = schedule();
    }
    try {
      submit(target);
    } catch (RuntimeException e) {
      synchronized (this) {
        if (!onPool && !onUrgentPool && !draining) {
          tasks.clear();
          urgentQueued = 0;
        }
      }
      throw e;
    }
  }

  /**
   * Whether a new drain must be queued now on the urgent pool (true) or the main pool (false),
   * or null: one is queued or running already.
   */
  private Boolean schedule() {
    if (draining || gateClosed || tasks.isEmpty()) return null;
    if (urgentQueued > 0 && !onUrgentPool) {
      onUrgentPool = true;
      return Boolean.TRUE;
    }
    if (!onPool && !onUrgentPool) {
      onPool = true;
      return Boolean.FALSE;
    }
    return null;
  }

  private void submit(Boolean target) {
    if (target == null) return;
    boolean urgent = target;
    try {
      (urgent ? urgentPool : pool).execute(() -> drain(urgent));
    } catch (RuntimeException | Error e) {
      synchronized (this) {
        if (urgent) onUrgentPool = false;
        else onPool = false;
      }
      throw e;
    }
  }

  /**
   * The last gated task is finished: later tasks may start (at once when called from inside the
   * drain, else a drain is queued). Idempotent. Throws RejectedExecutionException if the pool
   * refuses that drain (the gate is left open and the tasks stay queued: the caller closes the
   * stream).
   */
  void open() {
    Boolean target;
    synchronized (this) {
      if (!gateClosed) return;
      gateClosed = false;
      target = schedule();
    }
    submit(target);
  }

  /** Whether a gated task started and {@link #open()} was not called since (tests). */
  synchronized boolean gateClosed() {
    return gateClosed;
  }

  private void drain(boolean urgent) {
    synchronized (this) {
      if (urgent) onUrgentPool = false;
      else onPool = false;
      if (draining) return;
      draining = true;
    }
    boolean urgentOnly = urgent;
    boolean mayHandOff = !urgent;
    while (true) {
      Task next;
      Boolean handOff = null;
      synchronized (this) {
        if (gateClosed) {
          // the last gated task is not finished: open() starts the next drain
          next = null;
        } else if (mayHandOff && urgentQueued > 0 && !onUrgentPool) {
          // an urgent task arrived while this drain ran on the main pool: the stream goes on
          // on the urgent pool (at its priority), the tasks ahead of the urgent one with it
          next = null;
        } else {
          // the urgent pool runs the stream only until its urgent tasks are done
          next = urgentOnly && urgentQueued == 0 ? null : tasks.poll();
        }
        if (next == null) {
          draining = false;
          handOff = schedule();
        } else {
          if (next.urgent()) urgentQueued--;
          if (next.gated()) gateClosed = true;
        }
      }
      if (next == null) {
        if (handOff == null) return;
        try {
          submit(handOff);
          return;
        } catch (java.util.concurrent.RejectedExecutionException e) {
          // the main pool is full: keep draining here rather than leave the stream stalled
          synchronized (this) {
            if (handOff) onUrgentPool = false;
            else onPool = false;
            if (draining) return;
            draining = true;
          }
          urgentOnly = false;
          mayHandOff = false;
          continue;
        }
      }
      boolean ran = false;
      try {
        next.run().run();
        ran = true;
      } finally {
        if (!ran) {
          // the task threw (its owner closes the stream and reports it): the stream's later
          // tasks (its close among them) still run, in a new drain
          Boolean again;
          synchronized (this) {
            draining = false;
            again = schedule();
          }
          try {
            submit(again);
          } catch (RuntimeException | Error e) {
            // pool refused (submit reset its flag): the exception in flight is the one to report
          }
        }
      }
    }
  }
}
