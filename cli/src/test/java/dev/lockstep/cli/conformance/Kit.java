package dev.lockstep.cli.conformance;

import dev.lockstep.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Runs {@code lockstep conformance ...} in-process and reads its verdict lines; starts processes. */
final class Kit {
  record Result(int exitCode, String out, String err) {
    /** Rule id to outcome (PASS, FAIL, SKIP), the last verdict of each rule. */
    Map<String, String> verdicts() {
      Map<String, String> out = new LinkedHashMap<>();
      for (String line : out().split("\n")) {
        String[] w = line.trim().split("\\s+", 3);
        if (w.length >= 2 && List.of("PASS", "FAIL", "SKIP").contains(w[0])) {
          // a rule checked more than once (per stream) keeps its worst outcome
          String prev = out.get(w[1]);
          if (prev == null || rank(w[0]) > rank(prev)) out.put(w[1], w[0]);
        }
      }
      return out;
    }

    private static int rank(String outcome) {
      return switch (outcome) {
        case "FAIL" -> 2;
        case "SKIP" -> 1;
        default -> 0;
      };
    }
  }

  private Kit() {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Result(code, out.toString(), err.toString());
  }

  /** A java child process running {@code mainClass} on this test's class path. */
  static Process java(Path log, String mainClass, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m", "-cp",
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
        mainClass));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  static void stop(Process p) throws InterruptedException {
    if (p == null || !p.isAlive()) return;
    p.destroy();
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Waits (polling) for {@code probe} to give a value, failing after {@code timeout}. */
  static <T> T await(Duration timeout, String what, Supplier<T> probe) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T v = probe.get();
      if (v != null) return v;
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
  }

  /** The port a process wrote to {@code portFile}. */
  static int port(Path portFile, Process process, Path log) {
    return await(Duration.ofSeconds(60), "port file " + portFile + " (log " + log + ")", () -> {
      if (!process.isAlive()) throw new AssertionError("process exited: " + read(log));
      String s = read(portFile).trim();
      return s.isEmpty() ? null : Integer.parseInt(s);
    });
  }

  static String read(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p) : "";
    } catch (IOException e) {
      return "";
    }
  }
}
