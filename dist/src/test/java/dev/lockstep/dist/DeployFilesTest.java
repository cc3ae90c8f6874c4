package dev.lockstep.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.collector.config.CollectorConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files under deploy/ checked by the tools that read them (promtool, systemd-analyze; .ci/run
 * installs both, these tests never skip) and against each other: every path a config writes is
 * writable under its systemd unit, and every port agrees across configs, units, scrape config and
 * images.
 */
class DeployFilesTest {
  static final Path DEPLOY = Path.of("..", "deploy").toAbsolutePath().normalize();

  record Run(int exitCode, String output) { }

  static Run run(Path dir, String... command) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new AssertionError(command[0] + " is not installed: .ci/run installs it (" + e.getMessage() + ")", e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", List.of(command)).isTrue();
    return new Run(p.exitValue(), out);
  }

  @Test
  void promtoolAcceptsTheRulesAndTheScrapeConfigAndTheRuleTestsPass() throws Exception {
    Path dir = DEPLOY.resolve("prometheus");
    Run rules = run(dir, "promtool", "check", "rules", "lockstep-rules.yml");
    assertThat(rules.exitCode()).as(rules.output()).isZero();
    assertThat(rules.output()).contains("SUCCESS: 16 rules found");
    Run config = run(dir, "promtool", "check", "config", "prometheus.yml");
    assertThat(config.exitCode()).as(config.output()).isZero();
    Run tests = run(dir, "promtool", "test", "rules", "lockstep-rules_test.yml");
    assertThat(tests.exitCode()).as(tests.output()).isZero();
    assertThat(tests.output()).contains("SUCCESS");
  }

  @Test
  void alertRulesOnlyNameMetricsLockstepExports() throws Exception {
    String rules = Files.readString(DEPLOY.resolve("prometheus/lockstep-rules.yml"));
    List<String> names = new ArrayList<>();
    Matcher m = Pattern.compile("lockstep_[a-z_]+").matcher(rules);
    while (m.find()) {
      names.add(m.group());
    }
    assertThat(names).contains("lockstep_certificate_expiry_seconds", "lockstep_stop_agents");
    String sources = sourcesOf("agent") + sourcesOf("collector") + sourcesOf("security");
    for (String name : names) {
      String base = name.replaceAll("_total$", "").replaceAll("_bucket$", "");
      assertThat(sources.contains("\"" + base + "\"") || sources.contains("\"" + base + "_total\""))
          .as("metric %s used by an alert rule is defined in agent, collector or security", name).isTrue();
    }
  }

  @Test
  void systemdUnitsVerify(@TempDir Path tmp) throws Exception {
    for (String unit : List.of("lockstep-collector.service", "lockstep-agent.service")) {
      String text = Files.readString(DEPLOY.resolve("systemd").resolve(unit));
      assertThat(text).contains("NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=",
          "Restart=on-failure", "UMask=00", "WorkingDirectory=/var/lib/");
      // systemd-analyze insists that ExecStart exists; point it at a binary this machine has.
      Files.writeString(tmp.resolve(unit), text.replaceAll("/opt/lockstep/bin/lockstep-(agent|collector)", "/bin/true"));
      Run verify = run(tmp, "systemd-analyze", "verify", tmp.resolve(unit).toString());
      assertThat(verify.exitCode()).as(verify.output()).isZero();
      assertThat(verify.output()).as("systemd-analyze warnings for %s", unit).isBlank();
    }
  }

  /** The unit's directives, last value wins, {@code %H} as the host name. */
  static Map<String, String> unit(String name) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : Files.readAllLines(DEPLOY.resolve("systemd").resolve(name))) {
      int eq = line.indexOf('=');
      if (!line.startsWith("#") && eq > 0) {
        out.merge(line.substring(0, eq), line.substring(eq + 1).replace("%H", "worker-01"),
            (a, b) -> line.startsWith("Environment=") ? a + " " + b : b);
      }
    }
    return out;
  }

  static List<Path> writable(Map<String, String> unit) {
    List<Path> out = new ArrayList<>();
    for (String p : unit.getOrDefault("ReadWritePaths", "").split("\\s+")) {
      if (!p.isBlank()) {
        out.add(Path.of(p.replaceFirst("^-", "")));
      }
    }
    for (String d : unit.getOrDefault("StateDirectory", "").split("\\s+")) {
      if (!d.isBlank()) {
        out.add(Path.of("/var/lib").resolve(d));
      }
    }
    return out;
  }

  static void assertWritable(List<Path> writable, Path path, String what) {
    assertThat(writable.stream().anyMatch(w -> path.normalize().startsWith(w)))
        .as("%s (%s) is under the unit's ReadWritePaths/StateDirectory %s", what, path, writable).isTrue();
  }

  @Test
  void everyPathTheCollectorWritesIsWritableUnderItsUnit() throws Exception {
    Map<String, String> unit = unit("lockstep-collector.service");
    assertThat(unit.get("ExecStart")).isEqualTo("/opt/lockstep/bin/lockstep-collector --config /etc/lockstep/collector.yaml");
    CollectorConfig c = CollectorConfig.load(DEPLOY.resolve("config/collector.yaml"), Map.of());
    List<Path> writable = writable(unit);
    assertWritable(writable, c.dataDir(), "data_dir");
    assertWritable(writable, c.alertLogFile(), "alerts.log_file");
    assertThat(Path.of(unit.get("WorkingDirectory"))).isEqualTo(c.dataDir());
    assertThat(c.listenHost()).as("agents on other hosts and Prometheus reach it").isEqualTo("0.0.0.0");
  }

  @Test
  void everyPathTheAgentWritesIsWritableUnderItsUnit() throws Exception {
    Map<String, String> unit = unit("lockstep-agent.service");
    assertThat(unit.get("ExecStart")).isEqualTo("/opt/lockstep/bin/lockstep-agent --config /etc/lockstep/agent.yaml");
    assertThat(unit.get("Environment")).contains("LOCKSTEP_AGENT_ID=worker-01");
    AgentConfig c = AgentConfig.load(DEPLOY.resolve("config/agent.yaml"), Map.of("LOCKSTEP_AGENT_ID", "worker-01"));
    List<Path> writable = writable(unit);
    assertWritable(writable, c.stateDir(), "state_dir");
    assertWritable(writable, c.spool().dir(), "spool.dir");
    assertWritable(writable, c.stop().file().getParent(), "the directory of stop.file");
    assertWritable(writable, c.retention().archiveDir(), "retention.archive_dir");
    for (String dir : c.golden().dirs()) {
      assertWritable(writable, Path.of(dir.substring(0, dir.indexOf('*') < 0 ? dir.length() : dir.lastIndexOf('/', dir.indexOf('*')))),
          "golden dir " + dir + " (retention removes archived files)");
    }
    assertThat(Path.of(unit.get("WorkingDirectory"))).isEqualTo(c.stateDir());
    for (String hook : List.of(c.stop().onStop(), c.stop().onResume(), c.stop().verify())) {
      assertThat(hook).as("hooks are absolute paths").startsWith("/");
    }
    assertThat(c.collector().certFile()).isEqualTo(Path.of("/etc/lockstep/worker-01.pem"));
  }

  @Test
  void portsAgreeAcrossConfigsScrapeConfigAndImages() throws Exception {
    CollectorConfig collector = CollectorConfig.load(DEPLOY.resolve("config/collector.yaml"), Map.of());
    AgentConfig agent = AgentConfig.load(DEPLOY.resolve("config/agent.yaml"), Map.of("LOCKSTEP_AGENT_ID", "w"));
    assertThat(agent.collector().target()).endsWith(":" + collector.listenPort());
    assertThat(agent.metrics().bind()).as("Prometheus scrapes agents from another host").isEqualTo("0.0.0.0");
    assertThat(agent.metrics().port()).as("a collector can share the host").isNotEqualTo(collector.metricsPort());

    String prometheus = Files.readString(DEPLOY.resolve("prometheus/prometheus.yml"));
    assertThat(targetPorts(prometheus, "lockstep-collector")).containsOnly(collector.metricsPort());
    assertThat(targetPorts(prometheus, "lockstep-agent")).isNotEmpty().containsOnly(agent.metrics().port());

    assertThat(Files.readString(DEPLOY.resolve("docker/collector.Dockerfile")))
        .contains("EXPOSE " + collector.listenPort() + " " + collector.metricsPort());
    assertThat(Files.readString(DEPLOY.resolve("docker/agent.Dockerfile"))).contains("EXPOSE " + agent.metrics().port());
  }

  private static List<Integer> targetPorts(String prometheusYml, String job) {
    int at = prometheusYml.indexOf("job_name: " + job);
    assertThat(at).as("job %s in prometheus.yml", job).isPositive();
    int next = prometheusYml.indexOf("job_name:", at + 1);
    String section = prometheusYml.substring(at, next < 0 ? prometheusYml.length() : next);
    List<Integer> ports = new ArrayList<>();
    Matcher m = Pattern.compile("\"[^\"]+:(\\d+)\"").matcher(section);
    while (m.find()) {
      ports.add(Integer.parseInt(m.group(1)));
    }
    return ports;
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
