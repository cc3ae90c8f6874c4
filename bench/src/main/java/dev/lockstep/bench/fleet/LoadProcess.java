package dev.lockstep.bench.fleet;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The parent's handle on one {@link LoadChild} JVM: writes commands to its stdin, reads its
 * one-line answers from its stdout (its stderr goes to a log file). It owns the process:
 * {@link #close()} asks it to quit and SIGKILLs it if it does not.
 */
final class LoadProcess implements AutoCloseable {
  private final Process process;
  private final Writer commands;
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
  private final Path log;

  private LoadProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
    this.commands = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) answers.add(line);
      } catch (IOException e) {
        answers.add("error stdout: " + e);
      }
      answers.add("error exited");
    }, "load-process-" + process.pid());
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts a child holding agents {@code first .. first+count-1}; its fds are its own. */
  static LoadProcess start(Path work, int index, List<String> targets, Path certs, int first,
      int count, int batch, int window) throws IOException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xss512k", "-Xmx1g", "-XX:+UseParallelGC",
        "-cp", System.getProperty("java.class.path"), LoadChild.class.getName(),
        "--targets", String.join(",", targets), "--first", Integer.toString(first),
        "--count", Integer.toString(count), "--batch", Integer.toString(batch),
        "--window", Integer.toString(window)));
    if (certs == null) {
      command.add("--insecure");
    } else {
      command.addAll(List.of("--certs", certs.toString()));
    }
    Path log = work.resolve("load-" + index + ".log");
    Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
    return new LoadProcess(p, log);
  }

  long pid() {
    return process.pid();
  }

  /** Sends {@code command} without waiting; {@link #answer} takes its answer. */
  void send(String command) throws IOException {
    commands.write(command + "\n");
    commands.flush();
  }

  /** The next answer to {@code command}, without its name; fails on an error or after {@code limit}. */
  String answer(String command, Duration limit) throws InterruptedException {
    String line = answers.poll(limit.toMillis(), TimeUnit.MILLISECONDS);
    if (line == null) {
      throw new IllegalStateException("load process " + pid() + ": no answer to " + command
          + " in " + limit.toSeconds() + " s (log: " + log + ")");
    }
    if (!line.startsWith(command)) {
      throw new IllegalStateException("load process " + pid() + ": " + line + " (log: " + log + ")");
    }
    return line.substring(command.length()).trim();
  }

  @Override
  public void close() throws InterruptedException {
    try {
      send("quit");
    } catch (IOException gone) {
      // already exited
    }
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
