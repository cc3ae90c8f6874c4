package dev.lockstep.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The unpacked tarball and the processes a test starts from it: real programs, real files, real
 * ports on loopback. Every process is ended (SIGTERM, then SIGKILL) by {@link #close}.
 */
final class Shipped implements AutoCloseable {
  /** The tarball the dist module built (surefire sets the property). */
  static final Path TARBALL = Path.of(System.getProperty("lockstep.tarball", "target/missing.tar.gz"));
  static final String VERSION = System.getProperty("lockstep.version", "unknown");

  final Path home;
  private final List<Started> started = new ArrayList<>();

  record Run(int exitCode, String output) { }

  /** A process started from the installation, its output in {@code log}. */
  record Started(String name, Process process, Path log) {
    String output() {
      try {
        return Files.exists(log) ? Files.readString(log) : "";
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private Shipped(Path home) {
    this.home = home;
  }

  /** Unpacks the tarball below {@code prefix} with tar, as an installer would. */
  static Shipped unpack(Path prefix) throws Exception {
    assertThat(TARBALL).as("the tarball built by this module").isRegularFile();
    Files.createDirectories(prefix);
    Process tar = new ProcessBuilder("tar", "-xzf", TARBALL.toString(), "-C", prefix.toString())
        .redirectErrorStream(true).start();
    String out = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(tar.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(tar.exitValue()).as("tar: %s", out).isZero();
    return new Shipped(prefix.resolve("lockstep-" + VERSION));
  }

  Path bin(String name) {
    return home.resolve("bin").resolve(name);
  }

  /** Runs {@code command} to completion (60 s at most) with {@code env} added. */
  static Run run(Map<String, String> env, Path dir, String... command) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).directory(dir.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", List.of(command)).isTrue();
    return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  Run run(Map<String, String> env, String... command) throws Exception {
    return run(env, home, command);
  }

  /** Starts a long-running process; its stdout and stderr go to {@code logDir/name.log}. */
  Started start(String name, Map<String, String> env, Path logDir, String... command) throws IOException {
    Files.createDirectories(logDir);
    Path log = logDir.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).directory(home.toFile());
    pb.environment().putAll(env);
    Started s = new Started(name, pb.start(), log);
    started.add(s);
    return s;
  }

  /** Ends one started process: SIGTERM, up to 20 s for a clean shutdown, then SIGKILL. */
  static boolean stop(Started s) throws InterruptedException {
    s.process().destroy();
    if (s.process().waitFor(20, TimeUnit.SECONDS)) {
      return true;
    }
    s.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    return false;
  }

  /**
   * An agent.yaml in {@code dir} for a local agent: plaintext to a collector port nobody listens on,
   * one golden directory (100 ms settle), /metrics on {@code metricsPort}, state in dir/state.
   */
  static Path agentConfig(Path dir, String agentId, Path golden, int metricsPort) throws IOException {
    Path config = dir.resolve("agent.yaml");
    Files.writeString(config, """
        agent_id: %s
        state_dir: %s
        collector:
          address: 127.0.0.1:%d
          insecure: true
        golden:
          dirs: [%s]
          settle: 100ms
        metrics:
          port: %d
        """.formatted(agentId, dir.resolve("state"), freePort(), golden, metricsPort));
    return config;
  }

  /** A small valid primary golden file of run {@code run-N} in {@code dir}. */
  static void writeGolden(Path dir, int n) throws IOException {
    Files.writeString(dir.resolve("run-" + n + ".primary.golden.json"),
        "{\"format\":\"lockstep.golden/v1\",\"run_id\":\"run-" + n + "\",\"workflow\":\"w\",\"role\":\"primary\","
            + "\"seed\":1,\"steps\":[{\"index\":0,\"name\":\"s\",\"kind\":\"compute\",\"output\":{\"n\":3}}],"
            + "\"output\":{\"total\":42}}");
  }

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** The body a GET of {@code uri} answers; empty while nothing listens there. */
  static String body(URI uri) {
    try {
      return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException | InterruptedException e) {
      return "";
    }
  }

  /** Ends one started process as {@link #stop} does; it is no longer watched by {@link #await}. */
  boolean end(Started s) throws InterruptedException {
    started.remove(s);
    return stop(s);
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** Waits for {@code condition}, failing with {@code what} and the processes' output. */
  void await(Duration within, String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      for (Started s : started) {
        if (!s.process().isAlive() && !s.name().startsWith("refused-")) {
          throw new AssertionError(s.name() + " exited with " + s.process().exitValue()
              + " while waiting for " + what + ":\n" + s.output());
        }
      }
      if (System.nanoTime() > deadline) {
        StringBuilder logs = new StringBuilder();
        for (Started s : started) {
          logs.append("\n--- ").append(s.name()).append(" ---\n").append(tail(s.output()));
        }
        throw new AssertionError("not within " + within + ": " + what + logs);
      }
      Thread.sleep(200);
    }
  }

  private static String tail(String text) {
    return text.length() <= 4000 ? text : "..." + text.substring(text.length() - 4000);
  }

  @Override
  public void close() throws InterruptedException {
    for (int i = started.size() - 1; i >= 0; i--) {
      if (started.get(i).process().isAlive()) {
        stop(started.get(i));
      }
    }
  }
}
