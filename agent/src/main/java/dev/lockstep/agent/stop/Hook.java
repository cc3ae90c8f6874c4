package dev.lockstep.agent.stop;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one hook command with {@code /bin/sh -c}, with extra environment, a timeout (the whole
 * process tree is killed when it passes) and bounded kept output (the head and the tail).
 */
public final class Hook {
  private Hook() {}

  /** How a hook ended. exitCode is -1 when it timed out or could not start. */
  public record Result(String command, int exitCode, boolean timedOut, String output, Duration took) {
    public boolean ok() {
      return exitCode == 0 && !timedOut;
    }

    /** One line for a StopAck detail or a log. */
    public String describe() {
      String status = timedOut ? "timed out after " + took.toMillis() + " ms"
          : exitCode < 0 ? "could not start" : "exit " + exitCode;
      String out = output.isBlank() ? "" : ": " + output.strip().replace('\n', ' ');
      return "`" + command + "` " + status + out;
    }
  }

  public static Result run(String command, Map<String, String> env, Duration timeout, int keepBytes) {
    long start = System.nanoTime();
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", command).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return new Result(command, -1, false, e.getMessage() == null ? e.toString() : e.getMessage(), Duration.ZERO);
    }
    try {
      p.getOutputStream().close();
    } catch (IOException e) {
      // nothing to send anyway
    }
    BoundedOutput out = new BoundedOutput(keepBytes);
    Thread reader = new Thread(() -> out.drain(p.getInputStream()), "lockstep-hook-output");
    reader.setDaemon(true);
    reader.start();
    boolean finished;
    try {
      finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      finished = false;
    }
    if (!finished) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      try {
        p.waitFor(5, TimeUnit.SECONDS);
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
    return new Result(command, finished ? p.exitValue() : -1, !finished, out.text(), took);
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
