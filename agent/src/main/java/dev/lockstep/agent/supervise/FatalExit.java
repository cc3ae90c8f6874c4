package dev.lockstep.agent.supervise;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Ends the process after an Error: the notice is written first (spooled, and sent if the stream
 * takes it within a moment), then {@code System.exit(70)} runs the shutdown hooks on a thread of
 * its own; if they hang, the process halts after a grace period. systemd (Restart=always) or
 * Kubernetes starts the agent again, and a half-dead agent (a thread gone, memory exhausted)
 * never keeps running as if it were healthy.
 */
public final class FatalExit implements Supervisor.Fatal {
  /** The exit code of an agent that ended on an Error (EX_SOFTWARE). */
  public static final int EXIT_CODE = 70;
  private static final System.Logger LOG = System.getLogger(FatalExit.class.getName());

  /** Writes the notice; returns a condition that holds once the collector acked it. */
  public interface Notice {
    BooleanSupplier write(String component, Throwable error);
  }

  private final Notice notice;
  private final Consumer<String> progress;
  private final Duration ackWait;
  private volatile boolean exiting;

  public FatalExit(Notice notice, Consumer<String> progress, Duration ackWait) {
    this.notice = notice;
    this.progress = progress;
    this.ackWait = ackWait;
  }

  @Override
  public void fatal(String component, Throwable error) {
    if (exiting) {
      return;
    }
    exiting = true;
    String line = "FATAL: " + component + " hit " + error + "; the agent exits (" + EXIT_CODE
        + ") so that its supervisor restarts it";
    try {
      LOG.log(System.Logger.Level.ERROR, line, error);
      progress.accept(line);
    } catch (Throwable ignored) {
      // out of memory, maybe: exit anyway
    }
    BooleanSupplier acked = () -> false;
    try {
      acked = notice.write(component, error);
    } catch (Throwable t) {
      // the spool may be what failed: exit anyway
    }
    long deadline = System.nanoTime() + ackWait.toNanos();
    try {
      while (!acked.getAsBoolean() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    } catch (Throwable t) {
      // exit anyway
    }
    Thread exit = new Thread(() -> System.exit(EXIT_CODE), "lockstep-agent-exit");
    exit.setDaemon(true);
    exit.start();
    Thread halt = new Thread(() -> {
      try {
        Thread.sleep(15_000);
      } catch (InterruptedException e) {
        // halt now
      }
      Runtime.getRuntime().halt(EXIT_CODE);
    }, "lockstep-agent-halt");
    halt.setDaemon(true);
    halt.start();
  }
}
