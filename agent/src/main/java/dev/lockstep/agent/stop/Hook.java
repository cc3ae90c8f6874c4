package dev.lockstep.agent.stop;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one hook command with {@code /bin/sh -c}, in a process group of its own (via
 * {@code setsid} where it exists), with extra environment, a timeout and bounded kept output
 * (the head and the tail). The whole group is killed when the timeout passes or when
 * {@link Running#kill} is called (a STOP preempting a resume hook).
 */
public final class Hook {
  private static final Path SETSID = Files.isExecutable(Path.of("/usr/bin/setsid"))
      ? Path.of("/usr/bin/setsid") : Files.isExecutable(Path.of("/bin/setsid")) ? Path.of("/bin/setsid") : null;

  private Hook() {}

  /** How a hook ended. exitCode is -1 when it timed out, was killed or could not start. */
  public record Result(String command, int exitCode, boolean timedOut, boolean killed,
      String output, Duration took) {
    public boolean ok() {
      return exitCode == 0 && !timedOut && !killed;
    }

    /** One line for a StopAck detail or a log. */
    public String describe() {
      String status = killed ? "killed (preempted by a stop)" : timedOut ? "timed out after "
          + took.toMillis() + " ms" : exitCode < 0 ? "could not start" : "exit " + exitCode;
      String out = output.isBlank() ? "" : ": " + output.strip().replace('\n', ' ');
      return "`" + command + "` " + status + out;
    }
  }

  /** Runs {@code command} to its end (or timeout). */
  public static Result run(String command, Map<String, String> env, Duration timeout, int keepBytes) {
    return start(command, env, keepBytes).await(timeout);
  }

  /** Starts {@code command}; {@link Running#await} waits for it. */
  public static Running start(String command, Map<String, String> env, int keepBytes) {
    ProcessBuilder pb = SETSID != null
        ? new ProcessBuilder(SETSID.toString(), "/bin/sh", "-c", command)
        : new ProcessBuilder("/bin/sh", "-c", command);
    pb.redirectErrorStream(true).environment().putAll(env);
    return new Running(command, pb, keepBytes);
  }

  /** A started hook. */
  public static final class Running {
    private final String command;
    private final long start = System.nanoTime();
    private final Process process;
    private final String startError;
    private final BoundedOutput out;
    private final Thread reader;
    private volatile boolean killed;

    private Running(String command, ProcessBuilder pb, int keepBytes) {
      this.command = command;
      this.out = new BoundedOutput(keepBytes);
      Process p = null;
      String error = null;
      try {
        p = pb.start();
        p.getOutputStream().close();
      } catch (IOException e) {
        error = e.getMessage() == null ? e.toString() : e.getMessage();
      }
      this.process = p;
      this.startError = error;
      if (p != null) {
        Process proc = p;
        reader = new Thread(() -> out.drain(proc.getInputStream()), "lockstep-hook-output");
        reader.setDaemon(true);
        reader.start();
      } else {
        reader = null;
      }
    }

    /** Kills the hook's whole process group now (any thread). */
    public void kill() {
      killed = true;
      killGroup();
    }

    private void killGroup() {
      if (process == null) return;
      if (SETSID != null) {
        try {
          // setsid made the hook's shell a group leader: its pid is the group id.
          new ProcessBuilder("kill", "-KILL", "--", "-" + process.pid()).redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
          // fall back to the descendants below
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }

    /** Waits for the end, killing the group after {@code timeout}. */
    public Result await(Duration timeout) {
      if (process == null) {
        return new Result(command, -1, false, false, startError, Duration.ZERO);
      }
      boolean finished;
      try {
        finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        finished = false;
      }
      if (!finished) {
        killGroup();
        try {
          process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      try {
        reader.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      boolean wasKilled = killed;
      int code = finished && !wasKilled ? process.exitValue() : -1;
      return new Result(command, code, !finished && !wasKilled, wasKilled, out.text(), took);
    }
  }

  /** Keeps the first half and the last half of keepBytes of a stream. */
  private static final class BoundedOutput {
    private final int half;
    private final ByteArrayOutputStream head = new ByteArrayOutputStream();
    private final byte[] tail;
    private int tailLen;
    private int tailPos;
    private long total;

    BoundedOutput(int keepBytes) {
      this.half = keepBytes / 2;
      this.tail = new byte[keepBytes - half];
    }

    void drain(InputStream in) {
      byte[] buf = new byte[4096];
      try (in) {
        int n;
        while ((n = in.read(buf)) > 0) {
          add(buf, n);
        }
      } catch (IOException e) {
        // process gone
      }
    }

    private synchronized void add(byte[] b, int n) {
      for (int i = 0; i < n; i++) {
        total++;
        if (head.size() < half) {
          head.write(b[i]);
        } else {
          tail[tailPos] = b[i];
          tailPos = (tailPos + 1) % tail.length;
          tailLen = Math.min(tailLen + 1, tail.length);
        }
      }
    }

    synchronized String text() {
      StringBuilder s = new StringBuilder(head.toString(StandardCharsets.UTF_8));
      if (tailLen > 0) {
        byte[] t = new byte[tailLen];
        int startAt = tailLen < tail.length ? 0 : tailPos;
        for (int i = 0; i < tailLen; i++) {
          t[i] = tail[(startAt + i) % tail.length];
        }
        if (total > head.size() + tailLen) {
          s.append("\n[... ").append(total - head.size() - tailLen).append(" bytes cut ...]\n");
        }
        s.append(new String(t, StandardCharsets.UTF_8));
      }
      return s.toString();
    }
  }
}
