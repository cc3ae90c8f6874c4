package dev.lockstep.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tarball as shipped: unpacked into a temporary prefix, a collector and two agents started
 * from {@code config/} unedited — only {@code LOCKSTEP_ROOT} (each agent stands for one host and
 * has its own root), {@code LOCKSTEP_AGENT_ID}, {@code LOCKSTEP_COLLECTOR} and the ports given as
 * the documented variables and flags — each host running a stand-in workflow engine. Then
 * {@code bin/lockstep check}, a real mismatch and its automatic stop, a resume, a revoked and a
 * forged agent, and a real Prometheus scraping all three with the shipped {@code prometheus.yml}
 * (targets on loopback ports) and evaluating the shipped rules and the dashboard's queries.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ShippedFleetTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir static Path tmp;
  static Shipped dist;
  static Path logs;
  static Path collectorRoot;
  static int grpcPort;
  static int collectorMetrics;
  static int prometheusPort;
  static final Map<String, Path> roots = new TreeMap<>();
  static final Map<String, Integer> agentMetrics = new TreeMap<>();
  static Shipped.Started collector;
  static final Map<String, Shipped.Started> agents = new TreeMap<>();

  @BeforeAll
  static void installAndStartTheFleet() throws Exception {
    dist = Shipped.unpack(tmp.resolve("opt"));
    logs = tmp.resolve("logs");
    grpcPort = Shipped.freePort();
    collectorMetrics = Shipped.freePort();
    prometheusPort = Shipped.freePort();

    collectorRoot = tmp.resolve("hosts/collector");
    Path pki = collectorRoot.resolve("etc/lockstep");
    Shipped.Run init = dist.run(Map.of(), dist.bin("lockstep").toString(), "certs", "init", "--dir", pki.toString(),
        "--agents", "worker-1,worker-2,worker-3,worker-4", "--operators", "alice");
    assertThat(init.exitCode()).as(init.output()).isZero();
    Shipped.Run revoke = dist.run(Map.of(), dist.bin("lockstep").toString(), "certs", "revoke", "--dir",
        pki.toString(), "worker-3");
    assertThat(revoke.exitCode()).as(revoke.output()).isZero();

    collector = dist.start("collector", Map.of("LOCKSTEP_ROOT", collectorRoot.toString()), logs,
        dist.bin("lockstep-collector").toString(), "--config", dist.home.resolve("config/collector.yaml").toString(),
        "--listen", "127.0.0.1:" + grpcPort, "--metrics-port", String.valueOf(collectorMetrics));
    dist.await(Duration.ofSeconds(60), "the collector listening", () -> collector.output().contains("listening on"));

    for (String host : List.of("worker-1", "worker-2")) {
      Path root = host(host, host);
      int metrics = Shipped.freePort();
      roots.put(host, root);
      agentMetrics.put(host, metrics);
      dist.start("engine-" + host, Map.of(), logs, "bash", root.resolve("opt/aos/run_shadow_simulation.sh").toString(),
          "--hours", "24", root.toString());
      agents.put(host, dist.start(host, agentEnv(root, host), logs, dist.bin("lockstep-agent").toString(),
          "--config", dist.home.resolve("config/agent.yaml").toString(), "--metrics-port", String.valueOf(metrics)));
    }
    for (String host : agents.keySet()) {
      dist.await(Duration.ofSeconds(60), host + " connected", () -> agents.get(host).output().contains("connected to"));
    }
  }

  /** A host's root: its certificate files (CN = {@code certificate}) and the engine's layout. */
  static Path host(String name, String certificate) throws IOException {
    Path root = tmp.resolve("hosts").resolve(name);
    Path etc = Files.createDirectories(root.resolve("etc/lockstep"));
    Path pki = collectorRoot.resolve("etc/lockstep");
    Files.copy(pki.resolve("ca.pem"), etc.resolve("ca.pem"));
    Files.copy(pki.resolve(certificate + ".pem"), etc.resolve(name + ".pem"));
    Files.copy(pki.resolve(certificate + "-key.pem"), etc.resolve(name + "-key.pem"));
    for (String dir : List.of("tmp", "var/lib/aos", "root", "opt/aos/scripts/ops")) {
      Files.createDirectories(root.resolve(dir));
    }
    copyExecutable("engine/run_shadow_simulation.sh", root.resolve("opt/aos/run_shadow_simulation.sh"));
    copyExecutable("engine/disable-workflows.sh", root.resolve("opt/aos/scripts/ops/disable-workflows.sh"));
    return root;
  }

  static void copyExecutable(String resource, Path to) throws IOException {
    try (var in = ShippedFleetTest.class.getClassLoader().getResourceAsStream(resource)) {
      Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
    }
    assertThat(to.toFile().setExecutable(true)).isTrue();
  }

  static Map<String, String> agentEnv(Path root, String id) {
    return Map.of("LOCKSTEP_ROOT", root.toString(), "LOCKSTEP_AGENT_ID", id,
        "LOCKSTEP_COLLECTOR", "127.0.0.1:" + grpcPort);
  }

  /** {@code bin/lockstep ARGS} as operator alice. */
  static Shipped.Run lockstep(String... args) throws Exception {
    Path pki = collectorRoot.resolve("etc/lockstep");
    List<String> command = new ArrayList<>(List.of(dist.bin("lockstep").toString()));
    command.addAll(List.of(args));
    return dist.run(Map.of("LOCKSTEP_COLLECTOR", "127.0.0.1:" + grpcPort,
        "LOCKSTEP_CA", pki.resolve("ca.pem").toString(), "LOCKSTEP_CERT", pki.resolve("alice.pem").toString(),
        "LOCKSTEP_KEY", pki.resolve("alice-key.pem").toString()), command.toArray(new String[0]));
  }

  @AfterAll
  static void shutDownCleanly() throws Exception {
    if (dist == null) {
      return;
    }
    try {
      for (Shipped.Started agent : agents.values()) {
        assertThat(Shipped.stop(agent)).as("%s stops on SIGTERM", agent.name()).isTrue();
        assertThat(agent.output()).contains("shutting down");
      }
      if (collector != null) {
        assertThat(Shipped.stop(collector)).as("the collector stops on SIGTERM").isTrue();
        assertThat(collector.output()).contains("[collector] stopped");
      }
    } finally {
      dist.close();
    }
  }

  @Test
  @Order(1)
  void theTarballIsForInstallersAndCarriesOnlyTheNativesItNeeds() throws Exception {
    Shipped.Run version = dist.run(Map.of(), dist.bin("lockstep").toString(), "version");
    assertThat(version.exitCode()).isZero();
    assertThat(version.output()).startsWith("lockstep " + Shipped.VERSION + "\n")
        .contains("home " + dist.home);
    String readme = Files.readString(dist.home.resolve("README.md"));
    assertThat(readme).contains("bin/lockstep-collector", "LOCKSTEP_ROOT", "systemctl")
        .doesNotContain("mvnw", "./lockstep ");
    List<String> natives = new ArrayList<>();
    try (var jars = Files.newDirectoryStream(dist.home.resolve("lib"), "*.jar")) {
      for (Path jar : jars) {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
          zip.stream().map(e -> e.getName())
              .filter(n -> n.endsWith(".so") || n.endsWith(".dll") || n.endsWith(".jnilib"))
              .filter(n -> n.contains("rocksdb")).forEach(natives::add);
        }
      }
    }
    assertThat(natives).containsExactlyInAnyOrder("librocksdbjni-linux64.so", "librocksdbjni-linux-aarch64.so");
    // built on JDK 25+ it also carries runtime/, the agent's jlink image (~30 MB compressed); cluster
    // mode's Kafka clients and Streams (with zstd-jni, snappy and lz4) add ~9 MB
    long limit = Files.exists(dist.home.resolve("runtime")) ? 105L << 20 : 70L << 20;
    assertThat(Files.size(Shipped.TARBALL)).as("tarball bytes").isLessThan(limit);
  }

  @Test
  @Order(1)
  void theCollectorRunsOnTheFullProtobufRuntimeAndTheAgentsOnTheLiteOne() {
    // lib/ holds both: protobuf-java (a superset) and the agent's protobuf-javalite, which must never
    // share a class path (two copies of com.google.protobuf)
    assertThat(classPath(collector.process())).anyMatch(n -> n.startsWith("protobuf-java-4"))
        .noneMatch(n -> n.startsWith("protobuf-javalite-"));
    for (Shipped.Started agent : agents.values()) {
      assertThat(classPath(agent.process())).anyMatch(n -> n.startsWith("protobuf-javalite-"))
          .noneMatch(n -> n.startsWith("protobuf-java-4"));
    }
  }

  /** The names of the jars on a running JVM's -cp (from /proc: ProcessHandle.Info has no arguments this long). */
  static List<String> classPath(Process process) {
    List<String> args;
    try {
      args = List.of(new String(Files.readAllBytes(Path.of("/proc", String.valueOf(process.pid()), "cmdline")),
          StandardCharsets.UTF_8).split("\0"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return java.util.Arrays.stream(args.get(args.indexOf("-cp") + 1).split(":"))
        .map(e -> Path.of(e).getFileName().toString()).toList();
  }

  @Test
  @Order(2)
  void checkIsOkWhileBothHostsRunCleanCycles() throws Exception {
    dist.await(Duration.ofSeconds(60), "matching runs decided", () -> {
      try {
        return lockstep("status").output().matches("(?s).*\\b[1-9][0-9]* correlated, 0 mismatched.*");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    Shipped.Run check = lockstep("check");
    assertThat(check.exitCode()).as(check.output()).isZero();
    assertThat(check.output()).startsWith("LOCKSTEP OK - 2 agent(s) connected");
  }

  @Test
  @Order(3)
  void aMismatchStopsBothHostsThroughTheirHooksAndAResumeRunsThemAgain() throws Exception {
    Files.writeString(roots.get("worker-1").resolve("diverge"), "");
    for (Path root : roots.values()) {
      dist.await(Duration.ofSeconds(60), "the stop enacted in " + root, () ->
          Files.exists(root.resolve("var/lib/aos/EMERGENCY_STOP")) && Files.exists(root.resolve("opt/aos/workflows-disabled")));
    }
    Files.delete(roots.get("worker-1").resolve("diverge"));
    dist.await(Duration.ofSeconds(30), "both confirmed", () -> {
      try {
        JsonNode status = JSON.readTree(lockstep("stop", "status", "-o", "json").output());
        int confirmed = 0;
        for (JsonNode a : status.path("agents")) {
          confirmed += a.path("status").asText().equals("CONFIRMED") ? 1 : 0;
        }
        return status.path("covered").asInt() == 2 && confirmed == 2;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    Shipped.Run check = lockstep("check");
    assertThat(check.exitCode()).as(check.output()).isEqualTo(1);
    assertThat(check.output()).startsWith("LOCKSTEP CRITICAL");

    Shipped.Run resume = lockstep("stop", "disable", "--yes", "--reason", "fix verified", "--wait", "30s");
    assertThat(resume.exitCode()).as(resume.output()).isZero();
    for (Path root : roots.values()) {
      assertThat(root.resolve("var/lib/aos/EMERGENCY_STOP")).doesNotExist();
      assertThat(root.resolve("opt/aos/workflows-disabled")).doesNotExist();
    }
  }

  @Test
  @Order(4)
  void aRevokedAndAForgingAgentAreRefusedAndAudited() throws Exception {
    // worker-3's certificate is on the CRL that certs revoke wrote before the collector started.
    Path revoked = host("worker-3", "worker-3");
    // "worker-9" presents worker-4's certificate: an agent may only report as its certificate's CN.
    Path forger = host("worker-9", "worker-4");
    Shipped.Started a = dist.start("refused-worker-3", agentEnv(revoked, "worker-3"), logs,
        dist.bin("lockstep-agent").toString(), "--config", dist.home.resolve("config/agent.yaml").toString(),
        "--metrics-port", "0");
    Shipped.Started b = dist.start("refused-worker-9", agentEnv(forger, "worker-9"), logs,
        dist.bin("lockstep-agent").toString(), "--config", dist.home.resolve("config/agent.yaml").toString(),
        "--metrics-port", "0");
    try {
      dist.await(Duration.ofSeconds(60), "both refusals audited", () -> {
        try {
          String audit = lockstep("audit", "--since", "1h").output();
          return audit.contains("CN=worker-3") && audit.contains("was revoked on") && audit.contains("worker-9");
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      assertThat(lockstep("agents").output()).doesNotContain("worker-3", "worker-9");
    } finally {
      Shipped.stop(a);
      Shipped.stop(b);
    }
  }

  @Test
  @Order(5)
  void prometheusWithTheShippedConfigSeesEveryTargetUpAndEvaluatesEveryRule() throws Exception {
    startPrometheus();
    dist.await(Duration.ofSeconds(90), "3 targets up", () -> {
      JsonNode targets = api("/api/v1/targets").path("data").path("activeTargets");
      int up = 0;
      for (JsonNode t : targets) {
        up += t.path("health").asText().equals("up") ? 1 : 0;
      }
      return targets.size() == 3 && up == 3;
    });
    dist.await(Duration.ofSeconds(60), "every rule evaluated", () -> {
      List<JsonNode> rules = rules();
      return !rules.isEmpty() && rules.stream().allMatch(r -> !r.path("lastEvaluation").asText().startsWith("0001"));
    });
    List<String> unhealthy = new ArrayList<>();
    for (JsonNode rule : rules()) {
      if (!rule.path("health").asText().equals("ok") || !rule.path("lastError").asText().isEmpty()) {
        unhealthy.add(rule.path("name").asText() + ": " + rule.path("health").asText() + " " + rule.path("lastError").asText());
      }
    }
    assertThat(unhealthy).isEmpty();
    long shipped = Files.readAllLines(dist.home.resolve("prometheus").resolve("lockstep-rules.yml")).stream()
        .filter(l -> l.strip().startsWith("- alert:")).count();
    assertThat(rules()).hasSize((int) shipped).hasSizeGreaterThanOrEqualTo(11);
    // The P0 of the mismatch is still open: the shipped rule says so; no target is down.
    dist.await(Duration.ofSeconds(60), "LockstepMismatchOpen firing", () -> firing().contains("LockstepMismatchOpen"));
    assertThat(firing()).doesNotContain("LockstepAgentDown", "LockstepCollectorDown", "LockstepStopNotConfirmed",
        "LockstepCertificateExpiresSoon", "LockstepCollectorStoreLow", "LockstepCollectorStoreFull");
  }

  @Test
  @Order(6)
  void everyDashboardPanelQueryReturnsSeriesFromTheScrape() throws Exception {
    if (prometheus == null) {
      startPrometheus();
    }
    JsonNode dashboard = JSON.readTree(dist.home.resolve("grafana/lockstep-fleet.json").toFile());
    Map<String, String> queries = new TreeMap<>();
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        queries.put(panel.path("title").asText() + " / " + target.path("refId").asText(), target.path("expr").asText());
      }
    }
    assertThat(queries).hasSizeGreaterThanOrEqualTo(13);
    Map<String, String> empty = new TreeMap<>(queries);
    dist.await(Duration.ofSeconds(120), "every panel has series", () -> {
      empty.entrySet().removeIf(q -> api("/api/v1/query?query=" + URLEncoder.encode(q.getValue(), StandardCharsets.UTF_8))
          .path("data").path("result").size() > 0);
      return empty.isEmpty();
    });
  }

  static Shipped.Started prometheus;

  /** prometheus.yml and the rules as shipped, the example targets replaced by the loopback ports. */
  static void startPrometheus() throws Exception {
    if (prometheus != null) {
      return;
    }
    Path conf = Files.createDirectories(tmp.resolve("prometheus"));
    for (String f : List.of("prometheus.yml", "lockstep-rules.yml")) {
      Files.copy(dist.home.resolve("prometheus").resolve(f), conf.resolve(f));
    }
    String yml = Files.readString(conf.resolve("prometheus.yml"));
    String shipped = yml;
    yml = yml.replace("[\"collector.example:9464\"]", "[\"127.0.0.1:" + collectorMetrics + "\"]")
        .replace("[\"worker-1.example:9465\", \"worker-2.example:9465\", \"worker-3.example:9465\"]",
            "[\"127.0.0.1:" + agentMetrics.get("worker-1") + "\", \"127.0.0.1:" + agentMetrics.get("worker-2") + "\"]")
        .replace("[\"127.0.0.1:9093\"]", "[\"127.0.0.1:" + Shipped.freePort() + "\"]");
    assertThat(yml).as("only the targets changed").isNotEqualTo(shipped)
        .doesNotContain(".example:", ":9093\"");
    Files.writeString(conf.resolve("prometheus.yml"), yml);
    prometheus = dist.start("prometheus", Map.of(), logs, "prometheus",
        "--config.file=" + conf.resolve("prometheus.yml"), "--storage.tsdb.path=" + tmp.resolve("tsdb"),
        "--web.listen-address=127.0.0.1:" + prometheusPort);
    dist.await(Duration.ofSeconds(60), "prometheus ready", () -> get("/-/ready").startsWith("Prometheus Server is Ready"));
  }

  static String get(String path) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + prometheusPort + path))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : "";
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static JsonNode api(String path) {
    String body = get(path);
    try {
      return body.isEmpty() ? JSON.createObjectNode() : JSON.readTree(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<JsonNode> rules() {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode group : api("/api/v1/rules").path("data").path("groups")) {
      group.path("rules").forEach(out::add);
    }
    return out;
  }

  static List<String> firing() {
    List<String> names = new ArrayList<>();
    for (JsonNode alert : api("/api/v1/alerts").path("data").path("alerts")) {
      if (alert.path("state").asText().equals("firing")) {
        names.add(alert.path("labels").path("alertname").asText());
      }
    }
    return names;
  }
}
