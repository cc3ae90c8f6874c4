package dev.lockstep.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files under deploy/ are checked by the tools that will read them, so they cannot rot. */
class DeployFilesTest {
  static final Path DEPLOY = Path.of("..", "deploy").toAbsolutePath().normalize();

  record Run(int exitCode, String output) {}

  static Run run(Path dir, String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", List.of(command)).isTrue();
    return new Run(p.exitValue(), out);
  }

  static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) return true;
    }
    return false;
  }

  @Test
  void prometheusAlertRulesPassPromtool() throws Exception {
    assumeTrue(onPath("promtool"), "promtool not installed (Debian package prometheus)");
    Run rules = run(DEPLOY.resolve("prometheus"), "promtool", "check", "rules", "lockstep-rules.yml");
    assertThat(rules.exitCode()).as(rules.output()).isZero();
    assertThat(rules.output()).contains("SUCCESS: 9 rules found");
    Run config = run(DEPLOY.resolve("prometheus"), "promtool", "check", "config", "prometheus.yml");
    assertThat(config.exitCode()).as(config.output()).isZero();
  }

  @Test
  void alertRulesOnlyNameMetricsLockstepExports() throws Exception {
    String rules = Files.readString(DEPLOY.resolve("prometheus/lockstep-rules.yml"));
    List<String> names = new ArrayList<>();
    var m = java.util.regex.Pattern.compile("lockstep_[a-z_]+").matcher(rules);
    while (m.find()) names.add(m.group());
    assertThat(names).isNotEmpty();
    String sources = sourcesOf("agent") + sourcesOf("collector") + sourcesOf("security");
    for (String name : names) {
      String base = name.replaceAll("_total$", "").replaceAll("_bucket$", "");
      boolean defined = sources.contains("\"" + base + "\"") || sources.contains("\"" + base + "_total\"");
      assertThat(defined).as("metric %s used by an alert rule is defined in agent or collector", name).isTrue();
    }
  }

  @Test
  void systemdUnitsVerify(@TempDir Path tmp) throws Exception {
    assumeTrue(onPath("systemd-analyze"), "systemd-analyze not installed");
    for (String unit : List.of("lockstep-collector.service", "lockstep-agent.service")) {
      String text = Files.readString(DEPLOY.resolve("systemd").resolve(unit));
      assertThat(text).contains("NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=", "Restart=on-failure");
      // systemd-analyze insists that ExecStart exists; point it at a binary this machine has.
      Files.writeString(tmp.resolve(unit), text.replaceAll("/opt/lockstep/bin/lockstep-(agent|collector)", "/bin/true"));
      Run verify = run(tmp, "systemd-analyze", "verify", tmp.resolve(unit).toString());
      assertThat(verify.exitCode()).as(verify.output()).isZero();
      assertThat(verify.output()).as("systemd-analyze warnings for %s", unit).isBlank();
    }
  }

  @Test
  void grafanaDashboardIsValidJsonWithPanels() throws Exception {
    JsonNode dash = new ObjectMapper().readTree(DEPLOY.resolve("grafana/lockstep-fleet.json").toFile());
    assertThat(dash.path("title").asText()).isEqualTo("Lockstep fleet");
    assertThat(dash.path("panels").size()).isGreaterThanOrEqualTo(10);
    dash.path("panels").forEach(p -> assertThat(p.path("targets").get(0).path("expr").asText()).contains("lockstep_"));
  }

  @Test
  void kubernetesManifestsDescribeTheAgentDaemonSetAndTheCollectorStatefulSet() throws Exception {
    var yaml = new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
    List<JsonNode> docs = new ArrayList<>();
    java.util.Map<String, String> configs = new java.util.TreeMap<>();
    try (var files = Files.list(DEPLOY.resolve("kubernetes"))) {
      for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".yaml")).sorted()::iterator) {
        try (var parser = yaml.getFactory().createParser(f.toFile())) {
          var it = yaml.readValues(parser, JsonNode.class);
          while (it.hasNext()) {
            JsonNode doc = it.next();
            assertThat(doc.path("apiVersion").asText()).as("apiVersion in %s", f.getFileName()).isNotEmpty();
            assertThat(doc.path("kind").asText()).as("kind in %s", f.getFileName()).isNotEmpty();
            docs.add(doc);
          }
        }
      }
    }
    JsonNode daemonSet = docs.stream().filter(d -> d.path("kind").asText().equals("DaemonSet")).findFirst().orElseThrow();
    assertThat(daemonSet.findValuesAsText("path")).contains("/var/lib/aos", "/tmp", "/var/lib/lockstep-agent");
    JsonNode statefulSet = docs.stream().filter(d -> d.path("kind").asText().equals("StatefulSet")).findFirst().orElseThrow();
    assertThat(statefulSet.path("spec").path("volumeClaimTemplates").size()).isEqualTo(1);
    assertThat(statefulSet.path("spec").path("replicas").asInt()).as("RocksDB has one writer").isEqualTo(1);
    assertThat(docs).extracting(d -> d.path("kind").asText()).contains("Service", "Secret", "Namespace", "ConfigMap");
    // The ConfigMaps carry configs the real loaders accept.
    for (JsonNode cm : docs.stream().filter(d -> d.path("kind").asText().equals("ConfigMap")).toList()) {
      cm.path("data").fields().forEachRemaining(entry -> configs.put(entry.getKey(), entry.getValue().asText()));
    }
    assertThat(configs).containsKeys("agent.yaml", "collector.yaml");
    Path dir = Files.createTempDirectory("k8s-config");
    // The DaemonSet passes the agent id as --id $(LOCKSTEP_AGENT_ID); stand in for that flag.
    Path agentYaml = Files.writeString(dir.resolve("agent.yaml"), "agent_id: node-1\n" + configs.get("agent.yaml"));
    Path collectorYaml = Files.writeString(dir.resolve("collector.yaml"), configs.get("collector.yaml"));
    assertThat(dev.lockstep.agent.config.AgentConfig.load(agentYaml).collector().target())
        .isEqualTo("lockstep-collector.lockstep.svc:7443");
    assertThat(dev.lockstep.collector.config.CollectorConfig.load(collectorYaml)).isNotNull();
  }

  private static String sourcesOf(String module) throws IOException {
    StringBuilder all = new StringBuilder();
    try (var files = Files.walk(DEPLOY.getParent().resolve(module).resolve("src/main/java"))) {
      for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
        all.append(Files.readString(f));
      }
    }
    return all.toString();
  }
}
