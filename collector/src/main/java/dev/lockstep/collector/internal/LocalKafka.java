package dev.lockstep.collector.internal;

import dev.lockstep.collector.config.ClusterConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * Real Kafka brokers on loopback for tests, {@code lockstep demo --cluster} and bench: N KRaft
 * nodes (each broker and controller, one static quorum), each a child process started from the
 * Kafka jars ({@code kafka.tools.StorageTool format}, then {@code kafka.Kafka}). Replication is
 * min(3, N) with {@code min.insync.replicas} min(2, N); a timed-out transaction is aborted within
 * a second, so a collector killed mid-transaction blocks nobody for long. It owns its processes:
 * {@link #close()} stops every one, SIGKILLs what is left.
 *
 * <p>The Kafka jars come from {@code -Dlockstep.kafka.classpath}, {@code LOCKSTEP_KAFKA_CLASSPATH},
 * the test class path when it holds them, or {@code $LOCKSTEP_HOME/collector/target/kafka-broker}
 * (the collector's build copies them there; they are never on the collector's own class path).
 */
public final class LocalKafka implements AutoCloseable {
  private final Path dir;
  private final int count;
  private final String classpath;
  private final Consumer<String> progress;
  private final String clusterId = Uuid.randomUuid().toString();
  private final int[] ports;
  private final int[] tlsPorts;
  private final ClusterConfig.KafkaTls tls;
  private final int[] controllerPorts;
  private final Process[] processes;

  private LocalKafka(Path dir, int count, String classpath, Consumer<String> progress,
      ClusterConfig.KafkaTls tls) throws IOException {
    this.dir = dir;
    this.tls = tls;
    this.tlsPorts = new int[count];
    this.count = count;
    this.classpath = classpath;
    this.progress = progress;
    this.ports = new int[count];
    this.controllerPorts = new int[count];
    this.processes = new Process[count];
    for (int i = 0; i < count; i++) {
      ports[i] = freePort();
      controllerPorts[i] = freePort();
      if (tls != null) tlsPorts[i] = freePort();
    }
  }

  /** Formats and starts {@code count} brokers under {@code dir}; returns once all serve. */
  public static LocalKafka start(Path dir, int count, Consumer<String> progress)
      throws IOException, InterruptedException {
    return start(dir, count, progress, null);
  }

  /**
   * As {@link #start(Path, int, Consumer)}, each broker also listening for mutual TLS with
   * {@code tls} (its certificate must name 127.0.0.1; clients must present one of the same CA):
   * see {@link #tlsBootstrap()}.
   */
  public static LocalKafka start(Path dir, int count, Consumer<String> progress,
      ClusterConfig.KafkaTls tls) throws IOException, InterruptedException {
    LocalKafka k = new LocalKafka(dir, count, classpath(), progress, tls);
    try {
      for (int i = 0; i < count; i++) k.format(i);
      for (int i = 0; i < count; i++) k.launch(i);
      k.awaitBrokers(count, Duration.ofSeconds(90));
      return k;
    } catch (IOException | InterruptedException | RuntimeException e) {
      k.close();
      throw e;
    }
  }

  /** host:port of every broker, for bootstrap.servers. */
  public String bootstrap() {
    List<String> out = new ArrayList<>();
    for (int p : ports) out.add("127.0.0.1:" + p);
    return String.join(",", out);
  }

  /** host:port of every broker's mutual-TLS listener (started with TLS only). */
  public String tlsBootstrap() {
    if (tls == null) throw new IllegalStateException("these brokers were started without TLS");
    List<String> out = new ArrayList<>();
    for (int p : tlsPorts) out.add("127.0.0.1:" + p);
    return String.join(",", out);
  }

  /** Replication factor of topics on these brokers. */
  public int replication() {
    return Math.min(3, count);
  }

  public int size() {
    return count;
  }

  public boolean alive(int i) {
    return processes[i] != null && processes[i].isAlive();
  }

  /** SIGKILLs broker {@code i}. */
  public void kill(int i) throws InterruptedException {
    Process p = processes[i];
    if (p == null) return;
    p.destroyForcibly();
    p.waitFor(20, TimeUnit.SECONDS);
    progress.accept("kafka: broker " + (i + 1) + " killed (SIGKILL)");
  }

  /** Starts broker {@code i} again on its data and ports; returns once it serves. */
  public void restart(int i) throws IOException, InterruptedException {
    if (alive(i)) return;
    launch(i);
    awaitBrokers(count, Duration.ofSeconds(90));
  }

  /**
   * Starts every broker that is not running, together, and returns once all serve. (One at a time
   * would not do after all were down: a lone broker finds no controller quorum, and gives up when
   * its registration times out.)
   */
  public void restartAll() throws IOException, InterruptedException {
    for (int i = 0; i < count; i++) {
      if (!alive(i)) launch(i);
    }
    awaitBrokers(count, Duration.ofSeconds(90));
  }

  private Path nodeDir(int i) {
    return dir.resolve("broker-" + (i + 1));
  }

  private Path properties(int i) throws IOException {
    Path d = nodeDir(i);
    Files.createDirectories(d.resolve("data"));
    List<String> voters = new ArrayList<>();
    for (int j = 0; j < count; j++) voters.add((j + 1) + "@127.0.0.1:" + controllerPorts[j]);
    int rf = Math.min(3, count);
    int isr = Math.min(2, count);
    Properties p = new Properties();
    p.putAll(Map.ofEntries(
        Map.entry("process.roles", "broker,controller"),
        Map.entry("node.id", Integer.toString(i + 1)),
        Map.entry("controller.quorum.voters", String.join(",", voters)),
        Map.entry("listeners", "PLAINTEXT://127.0.0.1:" + ports[i] + ",CONTROLLER://127.0.0.1:"
            + controllerPorts[i]),
        Map.entry("advertised.listeners", "PLAINTEXT://127.0.0.1:" + ports[i]),
        Map.entry("controller.listener.names", "CONTROLLER"),
        Map.entry("inter.broker.listener.name", "PLAINTEXT"),
        Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
        Map.entry("log.dirs", d.resolve("data").toString()),
        Map.entry("num.partitions", "1"),
        Map.entry("default.replication.factor", Integer.toString(rf)),
        Map.entry("min.insync.replicas", Integer.toString(isr)),
        Map.entry("offsets.topic.replication.factor", Integer.toString(rf)),
        Map.entry("offsets.topic.num.partitions", "3"),
        Map.entry("transaction.state.log.replication.factor", Integer.toString(rf)),
        Map.entry("transaction.state.log.min.isr", Integer.toString(isr)),
        Map.entry("transaction.state.log.num.partitions", "3"),
        Map.entry("share.coordinator.state.topic.replication.factor", Integer.toString(rf)),
        Map.entry("share.coordinator.state.topic.min.isr", Integer.toString(isr)),
        Map.entry("group.initial.rebalance.delay.ms", "0"),
        Map.entry("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000"),
        Map.entry("auto.create.topics.enable", "false"),
        Map.entry("log.cleaner.backoff.ms", "1000")));
    if (tls != null) {
      p.put("listeners", "PLAINTEXT://127.0.0.1:" + ports[i] + ",SSL://127.0.0.1:" + tlsPorts[i]
          + ",CONTROLLER://127.0.0.1:" + controllerPorts[i]);
      p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + ports[i] + ",SSL://127.0.0.1:"
          + tlsPorts[i]);
      p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT");
      p.put("listener.name.ssl.ssl.client.auth", "required");
      p.put("listener.name.ssl.ssl.keystore.type", "PEM");
      p.put("listener.name.ssl.ssl.keystore.certificate.chain", Files.readString(tls.cert()));
      p.put("listener.name.ssl.ssl.keystore.key", Files.readString(tls.key()));
      p.put("listener.name.ssl.ssl.truststore.type", "PEM");
      p.put("listener.name.ssl.ssl.truststore.location", tls.ca().toString());
    }
    Path file = d.resolve("server.properties");
    try (var w = Files.newBufferedWriter(file)) {
      p.store(w, "lockstep LocalKafka broker " + (i + 1));
    }
    return file;
  }

  private void format(int i) throws IOException, InterruptedException {
    Path props = properties(i);
    Process f = new ProcessBuilder(java(), "-Xmx128m", "-cp", classpath, "kafka.tools.StorageTool",
        "format", "-t", clusterId, "-c", props.toString())
        .redirectErrorStream(true).redirectOutput(nodeDir(i).resolve("format.log").toFile()).start();
    if (!f.waitFor(60, TimeUnit.SECONDS) || f.exitValue() != 0) {
      f.destroyForcibly();
      throw new IOException("kafka: formatting broker " + (i + 1) + " failed: "
          + Files.readString(nodeDir(i).resolve("format.log")).strip());
    }
  }

  private void launch(int i) throws IOException {
    Path props = nodeDir(i).resolve("server.properties");
    processes[i] = new ProcessBuilder(java(), "-Xms128m", "-Xmx384m", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true", "-cp", classpath, "kafka.Kafka",
        props.toString())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(nodeDir(i).resolve("broker.log").toFile()))
        .start();
    progress.accept("kafka: broker " + (i + 1) + " starting on 127.0.0.1:" + ports[i]);
  }

  /** Waits until {@code n} brokers are registered and serving. */
  public void awaitBrokers(int n, Duration limit) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
    String last = "";
    try (Admin admin = Admin.create(p)) {
      while (System.nanoTime() < deadline) {
        for (int i = 0; i < count; i++) {
          if (processes[i] != null && !processes[i].isAlive() && processes[i].exitValue() != 137
              && processes[i].exitValue() != 143) {
            throw new IOException("kafka: broker " + (i + 1) + " exited with "
                + processes[i].exitValue() + ": " + tail(nodeDir(i).resolve("broker.log")));
          }
        }
        try {
          int seen = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size();
          if (seen >= n) {
            progress.accept("kafka: " + seen + " broker(s) serving at " + bootstrap());
            return;
          }
          last = seen + " of " + n + " brokers registered";
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
          last = String.valueOf(e.getCause() == null ? e : e.getCause());
        }
        Thread.sleep(200); // polling the brokers' registration
      }
    }
    throw new IOException("kafka: brokers not serving within " + limit.toSeconds() + " s (" + last + ")");
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** The class path holding the Kafka broker jars. */
  public static String classpath() throws IOException {
    String v = System.getProperty("lockstep.kafka.classpath");
    if (v == null || v.isBlank()) v = System.getenv("LOCKSTEP_KAFKA_CLASSPATH");
    if (v != null && !v.isBlank()) return v;
    String test = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    if (test != null && test.contains("kafka_2.13")) return test;
    String home = System.getenv("LOCKSTEP_HOME");
    if (home == null || home.isBlank()) home = System.getProperty("user.dir");
    Path broker = Path.of(home, "collector", "target", "kafka-broker");
    Path lib = Path.of(home, "collector", "target", "lib");
    if (!Files.isDirectory(broker)) {
      throw new IOException("no Kafka broker jars at " + broker + " (build the collector module:"
          + " ./mvnw -B package -pl collector -am -DskipTests, or set LOCKSTEP_KAFKA_CLASSPATH)");
    }
    return broker + "/*" + java.io.File.pathSeparator + lib + "/*";
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    for (Process p : processes) {
      if (p != null) p.destroy();
    }
    for (Process p : processes) {
      if (p == null) continue;
      try {
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
