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
 */
final class SerialExecutor implements Executor {
  private record Task(Runnable run, boolean urgent) {}

  private final Executor pool;
  private final Executor urgentPool;
  private final Queue<Task> tasks = new ArrayDeque<>();
  private int urgentQueued;
  /** A drain is queued on the main pool, on the urgent pool, or running. */
  private boolean onPool;
  private boolean onUrgentPool;
  private boolean draining;

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
    Boolean target;
    synchronized (this) {
      tasks.add(new Task(task, urgent));
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
    if (draining || tasks.isEmpty()) return null;
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
    } catch (RuntimeException e) {
      synchronized (this) {
        if (urgent) onUrgentPool = false;
        else onPool = false;
      }
      throw e;
    }
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
        if (mayHandOff && urgentQueued > 0 && !onUrgentPool) {
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
        } else if (next.urgent()) {
          urgentQueued--;
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
      next.run().run();
    }
  }
}
