package dev.lockstep.cli.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The demo's child processes (one collector, N agents). It owns them: {@link #close()} sends
 * SIGTERM to each, waits, then kills what is left, so no process outlives the demo.
 */
final class FleetProcesses implements AutoCloseable {
  private final List<String> launcher;
  private final Path dir;
  private final List<Process> processes = new ArrayList<>();

  /** @param launcher command prefix that takes {@code collector ...} or {@code agent ...} */
  FleetProcesses(List<String> launcher, Path dir) {
    this.launcher = List.copyOf(launcher);
    this.dir = dir;
  }

  synchronized Process start(String name, List<String> args) throws IOException {
    List<String> command = new ArrayList<>(launcher);
    command.addAll(args);
    Path log = dir.resolve(name + ".log");
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    processes.add(process);
    return process;
  }

  static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public synchronized void close() {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    for (Process p : processes) {
      try {
        long left = Math.max(0, deadline - System.nanoTime());
        if (!p.waitFor(left, TimeUnit.NANOSECONDS)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    processes.clear();
  }
}
