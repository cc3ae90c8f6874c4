package dev.lockstep.cli.console;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import dev.lockstep.cli.fleet.Eventually;

/**
 * {@code lockstep console} as a real child process (its own JVM, the test's class path), with the
 * CLI's flags for a certificate from {@code certs}; stdout is collected line by line.
 */
final class ConsoleProcess implements AutoCloseable {
  final Process process;
  final List<String> lines = new CopyOnWriteArrayList<>();

  private ConsoleProcess(Process process) {
    this.process = process;
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          lines.add(line);
        }
      } catch (IOException e) {
        lines.add("(reader: " + e + ")");
      }
    }, "console-process-stdout");
    reader.setDaemon(true);
    reader.start();
  }

  static ConsoleProcess start(String collector, Path certs, String who, Map<String, String> env, String... extra)
      throws IOException {
    List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-cp", System.getProperty("java.class.path"), "dev.lockstep.cli.Main", "console",
        "--collector", collector, "--ca", certs.resolve("ca.pem").toString(),
        "--cert", certs.resolve(who + ".pem").toString(), "--key", certs.resolve(who + "-key.pem").toString()));
    command.addAll(List.of(extra));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(env);
    return new ConsoleProcess(pb.start());
  }

  /** The one-time URL it printed ("  open http://127.0.0.1:PORT/?token=..."). */
  String loginUrl(Duration timeout) {
    return Eventually.value(timeout, "lockstep console to print its URL (output so far: " + lines + ")", () -> {
      for (String l : lines) {
        if (l.trim().startsWith("open http")) {
          return l.trim().substring("open ".length());
        }
      }
      if (!process.isAlive()) {
        throw new AssertionError("lockstep console exited " + process.exitValue() + ": " + lines);
      }
      return null;
    });
  }

  /** The console's base URL (http://127.0.0.1:PORT/). */
  static String base(String loginUrl) {
    return loginUrl.substring(0, loginUrl.indexOf('?'));
  }

  /** SIGTERM, as Ctrl-C would; returns the exit code. */
  int stop() throws InterruptedException {
    // the handle's destroy only signals; Process.destroy would also close stdout before the last lines
    process.toHandle().destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("lockstep console did not stop within 20 s of SIGTERM: " + lines);
    }
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      stop();
    }
  }
}
