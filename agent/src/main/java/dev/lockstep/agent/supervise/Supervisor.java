package dev.lockstep.agent.supervise;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Runs the agent's periodic work (golden watching, log tailing, probes, reports) on one thread.
 * Every run is guarded: an exception is logged once per change, counted and makes its component
 * degraded until a run succeeds, and the task keeps its schedule; a {@link java.lang.Error} (a
 * broken invariant, out of memory, a stack overflow) goes to the fatal handler, which ends the
 * process after writing a notice so that systemd or Kubernetes restarts it. Nothing stops quietly.
 * The stop path does not run here (it has threads of its own), so a stop never waits behind this
 * work.
 */
public final class Supervisor implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Supervisor.class.getName());

  /** Work that may throw. */
  public interface Task {
    void run() throws Exception;
  }

  /** What to do when a task throws an Error: the process must end. */
  public interface Fatal {
    void fatal(String component, Throwable error);
  }

  private final ScheduledThreadPoolExecutor work;
  private final Fatal fatal;

  public Supervisor(String threadName, Fatal fatal) {
    this.fatal = fatal;
    this.work = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
    work.setRemoveOnCancelPolicy(true);
  }

  /** Runs task every period (fixed delay), the first time after one period. */
  public void every(Components.Component c, Duration period, Task task) {
    long ms = Math.max(1, period.toMillis());
    work.scheduleWithFixedDelay(() -> guarded(c, task), ms, ms, TimeUnit.MILLISECONDS);
  }

  /** Runs task once after delay; a task that reschedules itself this way sets its own pace. */
  public void after(Components.Component c, long delayMillis, Task task) {
    try {
      work.schedule(() -> guarded(c, task), delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // shutting down
    }
  }

  /** Runs task soon, guarded. */
  public void now(Components.Component c, Task task) {
    after(c, 0, task);
  }

  /** Runs task on the work thread, guarded, and returns whether it completed (for start-up). */
  void guarded(Components.Component c, Task task) {
    try {
      task.run();
      c.ran();
    } catch (Exception e) {
      if (c.failedRun(e)) {
        LOG.log(System.Logger.Level.ERROR, "agent: " + c.name() + " failed: " + e, e);
      }
    } catch (Throwable t) {
      fatal.fatal(c.name(), t);
    }
  }

  @Override
  public void close() throws InterruptedException {
    work.shutdownNow();
    work.awaitTermination(10, TimeUnit.SECONDS);
  }
}
