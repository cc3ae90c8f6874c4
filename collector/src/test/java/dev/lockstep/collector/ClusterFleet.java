package dev.lockstep.collector;

import dev.lockstep.collector.internal.LocalKafka;
import dev.lockstep.proto.v1.CollectorMember;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.StatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A fleet of real processes for cluster tests: collectors in cluster mode on real Kafka brokers,
 * real agents (each given every collector's address, in a rotated order so they spread), with
 * stop hooks that take time and log what they did. It owns every process and channel.
 */
final class ClusterFleet implements AutoCloseable {
  final Path dir;
  final LocalKafka kafka;
  final String prefix;
  final int[] ports;
  final Map<String, Process> collectors = new LinkedHashMap<>();
  final Map<String, Process> agents = new LinkedHashMap<>();
  final Map<String, ManagedChannel> channels = new LinkedHashMap<>();
  final Map<String, Integer> starts = new LinkedHashMap<>();
  private final String cp = System.getProperty("surefire.test.class.path",
      System.getProperty("java.class.path"));
  private final String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();

  ClusterFleet(Path dir, LocalKafka kafka, String prefix, int collectorCount) throws IOException {
    this.dir = dir;
    this.kafka = kafka;
    this.prefix = prefix;
    this.ports = new int[collectorCount];
    for (int i = 0; i < collectorCount; i++) ports[i] = freePort();
  }

  static String name(int i) {
    return "c" + (i + 1);
  }

  Path collectorLog(String name) {
    return dir.resolve(name + ".log");
  }

  /** Starts collector {@code i} (again) and waits until it listens. */
  void startCollector(int i) throws Exception {
    String name = name(i);
    Path cfg = dir.resolve(name + ".yaml");
    Files.writeString(cfg, """
        cluster:
          bootstrap_servers: %s
          collector_id: %s
          topic_prefix: %s
          replication_factor: %d
          min_insync_replicas: %d
        """.formatted(kafka.bootstrap(), name, prefix, kafka.replication(),
        Math.min(2, kafka.replication())));
    Process p = new ProcessBuilder(javaBin, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", cp, "dev.lockstep.collector.CollectorMain", "--config", cfg.toString(), "--insecure",
        "--listen", "127.0.0.1:" + ports[i], "--data-dir", dir.resolve(name).toString(),
        "--stop-policy", "fleet", "--correlation-window", "60s", "--metrics-port", "0")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(collectorLog(name).toFile())).start();
    collectors.put(name, p);
    int n = starts.merge(name, 1, Integer::sum);
    Eventually.await(Duration.ofSeconds(120), name + " listening", () -> {
      if (!p.isAlive()) throw new IllegalStateException(name + " exited: " + tail(collectorLog(name)));
      return count(collectorLog(name), "listening on") >= n;
    });
  }

  void kill(String name) throws InterruptedException {
    Process p = collectors.get(name);
    p.destroyForcibly();
    p.waitFor(20, TimeUnit.SECONDS);
  }

  boolean alive(String name) {
    Process p = collectors.get(name);
    return p != null && p.isAlive();
  }

  Path agentRoot(String id) {
    return dir.resolve("agents").resolve(id);
  }

  /** Starts agent {@code id}, which tries the collectors from number {@code first} on. */
  void startAgent(String id, int first) throws IOException {
    Path root = agentRoot(id);
    Files.createDirectories(root.resolve("golden"));
    Path hooks = root.resolve("hooks.log");
    Path config = root.resolve("agent.yaml");
    List<String> addresses = new ArrayList<>();
    for (int k = 0; k < ports.length; k++) addresses.add("127.0.0.1:" + ports[(first + k) % ports.length]);
    Files.writeString(config, """
        agent_id: %1$s
        state_dir: %2$s/state
        collector:
          addresses: [%3$s]
          insecure: true
          reconnect_initial: 200ms
          reconnect_max: 1s
        golden:
          dirs: [%2$s/golden]
          settle: 100ms
          rescan_interval: 300ms
        stop:
          file: %2$s/STOP
          on_stop: "echo \\"stop-begin $(date +%%s%%3N) $LOCKSTEP_GENERATION $LOCKSTEP_ORDERS\\" >> %4$s; sleep 0.4; echo \\"stop-end $(date +%%s%%3N)\\" >> %4$s"
          on_resume: "echo \\"resume-begin $(date +%%s%%3N) $LOCKSTEP_GENERATION\\" >> %4$s; sleep 0.2; echo \\"resume-end $(date +%%s%%3N)\\" >> %4$s"
          verify: "if [ \\"$LOCKSTEP_MODE\\" = STOPPED ]; then test -f \\"$LOCKSTEP_STOP_FILE\\"; else test ! -e \\"$LOCKSTEP_STOP_FILE\\"; fi"
          hook_timeout: 30s
        retention:
          enabled: false
        """.formatted(id, root, String.join(", ", addresses), hooks));
    Process p = new ProcessBuilder(javaBin, "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", cp, "dev.lockstep.agent.AgentMain", "--config", config.toString())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve("agent.log").toFile())).start();
    agents.put(id, p);
  }

  /** Writes one run's primary and shadow golden files into {@code agent}'s golden directory. */
  void golden(String agent, String run, String workflow, boolean differ) throws IOException {
    Path d = agentRoot(agent).resolve("golden");
    for (String role : List.of("primary", "shadow")) {
      String rng = differ && role.equals("shadow") ? "0.5" : "0.1";
      String doc = "{\"format\":\"lockstep.golden/v1\",\"run_id\":\"" + run + "\",\"workflow\":\""
          + workflow + "\",\"role\":\"" + role + "\",\"seed\":7,\"steps\":[{\"index\":0,\"name\":"
          + "\"sample\",\"kind\":\"compute\",\"rng\":[" + rng + "]}],\"output\":{\"n\":1}}";
      Path tmp = d.resolve("." + run + "." + role + ".tmp");
      Files.writeString(tmp, doc, StandardCharsets.UTF_8);
      Files.move(tmp, d.resolve(run + "." + role + ".golden.json"), StandardCopyOption.ATOMIC_MOVE);
    }
  }

  /** An operator stub on a live collector (the first one alive). */
  OperatorGrpc.OperatorBlockingStub operator() {
    for (int i = 0; i < ports.length; i++) {
      if (alive(name(i))) return operator(name(i));
    }
    throw new IllegalStateException("no collector alive");
  }

  OperatorGrpc.OperatorBlockingStub operator(String name) {
    int port = ports[Integer.parseInt(name.substring(1)) - 1];
    ManagedChannel ch = channels.computeIfAbsent(name,
        n -> NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build());
    return OperatorGrpc.newBlockingStub(ch).withDeadlineAfter(15, TimeUnit.SECONDS);
  }

  /** The collectors as a live one sees them. */
  List<CollectorMember> members() {
    return operator().getStatus(StatusRequest.getDefaultInstance()).getCluster().getCollectorsList();
  }

  /** The collector running the core task now, as the live ones see it. */
  Optional<String> coreOwner() {
    return members().stream().filter(m -> m.getCore() && m.getState().equals("UP"))
        .map(CollectorMember::getCollectorId).findFirst();
  }

  /** The live collector holding the most agent streams. */
  String busiest() {
    return members().stream().filter(m -> m.getState().equals("UP"))
        .max(java.util.Comparator.comparingInt(CollectorMember::getAgents))
        .map(CollectorMember::getCollectorId).orElseThrow();
  }

  static long count(Path log, String text) {
    try {
      return Files.exists(log) ? Files.readString(log).lines().filter(l -> l.contains(text)).count() : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    List<Process> all = new ArrayList<>(agents.values());
    all.addAll(collectors.values());
    for (Process p : all) p.destroy();
    for (Process p : all) {
      try {
        if (!p.waitFor(15, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
