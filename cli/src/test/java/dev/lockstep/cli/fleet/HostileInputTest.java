package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.collector.config.CollectorConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input at the operator-facing edges, each with the one clear line it must produce: config
 * files (loaded with the real agent and collector loaders) and CLI arguments. None may crash (a
 * stack trace) or hang. Hostile golden files are covered by the golden module's parser tests and
 * VerifyCommandTest/DiffCommandTest; hostile wire frames by the collector's HostileFramesTest.
 */
class HostileInputTest {
  @TempDir Path dir;

  record ConfigCase(String yaml, String expected) {}

  @Test
  void badAgentYamlFilesAreRefusedWithTheKeyNamed() throws Exception {
    List<ConfigCase> cases = List.of(
        new ConfigCase("agent_id: w1\nstate_dir: /tmp/x\ncollector: {address: 'c:1', insecure: maybe}\n",
            "agent.yaml: collector.insecure"),
        new ConfigCase("agent_id: w1\nstate_dir: /tmp/x\ncolector: {address: 'c:1'}\n", "colector"),
        new ConfigCase("agent_id: 'a b'\nstate_dir: /tmp/x\ncollector: {address: 'c:1', insecure: true}\n",
            "agent.yaml: agent_id must be"),
        new ConfigCase("agent_id: w1\nstate_dir: /tmp/x\ncollector: {address: 'nowhere', insecure: true}\n",
            "agent.yaml: collector.address must be HOST:PORT"),
        new ConfigCase("agent_id: w1\nstate_dir: /tmp/x\ncollector: {address: 'c:1', tls: {ca_file: 7, pem: x}}\n",
            "collector.tls"),
        new ConfigCase("[1, 2, 3]\n", "agent.yaml: the top level must be a mapping"),
        new ConfigCase("agent_id: w1\n  bad: indentation: here\n", "agent.yaml: not valid YAML"),
        new ConfigCase("", "agent.yaml: the file is empty"),
        new ConfigCase("\u0000\u0001\u0002garbage", "agent.yaml:"));
    for (ConfigCase c : cases) {
      Path f = dir.resolve("agent.yaml");
      Files.writeString(f, c.yaml());
      assertThatThrownBy(() -> AgentConfig.load(f)).as(c.yaml())
          .hasMessageContaining(c.expected())
          .satisfies(e -> assertThat(e.getMessage().lines()).as(c.yaml()).hasSize(1));
    }
  }

  @Test
  void badCollectorYamlFilesAreRefusedWithTheKeyNamed() throws Exception {
    List<ConfigCase> cases = List.of(
        new ConfigCase("listen: 127.0.0.1:99999\n", "collector.yaml: listen port must be between 0 and 65535"),
        new ConfigCase("tls: {ca: ca.pem}\n", "collector.yaml: tls.cert is required"),
        new ConfigCase("tls: [ca.pem]\n", "collector.yaml: tls must be a mapping"),
        new ConfigCase("tls: {ca: a, cert: b, key: c, client_ca_file: d}\n", "collector.yaml: unknown key tls.client_ca_file"),
        new ConfigCase("insecure: yes please\n", "collector.yaml: insecure must be true or false"),
        new ConfigCase("agents: {max_streams: -1}\n", "collector.yaml: agents.max_streams must be between 1 and"),
        new ConfigCase("agents: {max_events_per_second: 1.5}\n", "collector.yaml: agents.max_events_per_second must be an integer"),
        new ConfigCase("alerts: {webhook_secret_file: /nonexistent/secret}\n", "collector.yaml: alerts.webhook_secret_file is not usable"),
        new ConfigCase("evidence: {max_bytes_per_incident: 1}\n", "collector.yaml: evidence.max_bytes_per_incident must be between"),
        new ConfigCase("stop: fleet\n", "collector.yaml: stop must be a mapping"),
        new ConfigCase("listen: [1\n", "collector.yaml: cannot read"));
    for (ConfigCase c : cases) {
      Path f = dir.resolve("collector.yaml");
      Files.writeString(f, c.yaml());
      assertThatThrownBy(() -> CollectorConfig.load(f)).as(c.yaml())
          .isInstanceOf(CollectorConfig.ConfigException.class)
          .hasMessageStartingWith(c.expected())
          .satisfies(e -> assertThat(e.getMessage().lines()).as(c.yaml()).hasSize(1));
    }
  }

  record ArgsCase(List<String> args, int exitCode, String expected) {}

  @Test
  void badCommandLinesAreOneLineUsageErrors() {
    String certs = dir.resolve("certs").toString();
    List<ArgsCase> cases = List.of(
        new ArgsCase(List.of("status"), 2, "lockstep: no TLS configured: missing --ca, --cert, --key"),
        new ArgsCase(List.of("status", "--insecure", "--collector", "host:port"), 2,
            "lockstep: --collector: expected HOST:PORT with a numeric port, got 'host:port'"),
        new ArgsCase(List.of("status", "--insecure", "--collector", "h:70000"), 2,
            "lockstep: --collector: collector port must be between 1 and 65535"),
        new ArgsCase(List.of("status", "--insecure", "--timeout", "soon"), 2, "expected a duration like 500ms"),
        new ArgsCase(List.of("status", "--insecure", "--ca", "/etc/hostname"), 2,
            "lockstep: --insecure cannot be combined with --ca, --cert or --key"),
        new ArgsCase(List.of("status", "--ca", "/nonexistent/ca.pem", "--cert", "/nonexistent/c.pem",
            "--key", "/nonexistent/k.pem"), 2, "lockstep: --ca: cannot read /nonexistent/ca.pem"),
        new ArgsCase(List.of("audit", "--insecure", "--since", "yesterday"), 2, "expected a duration like"),
        new ArgsCase(List.of("stop", "enable", "--insecure", "--reason", "x", "--scope", "zone=eu"), 2,
            "expected fleet, workflow=NAME or agent=AGENT_ID, got 'zone=eu'"),
        new ArgsCase(List.of("certs", "init", "--dir", certs, "--agents", "../etc"), 1,
            "lockstep certs init: --agents: \"../etc\" is not a valid name"),
        new ArgsCase(List.of("certs", "init", "--dir", certs, "--operators", "ca"), 1,
            "lockstep certs init: --operators: \"ca\" is reserved"),
        new ArgsCase(List.of("certs", "init", "--dir", certs, "--agents", "h1", "--viewers", "h1"), 1,
            "lockstep certs init: --viewers: \"h1\" is given twice"),
        new ArgsCase(List.of("certs", "init", "--dir", certs, "--validity-days", "0"), 1,
            "lockstep certs init: --validity-days must be at least 1, got 0"));
    for (ArgsCase c : cases) {
      Cli.Result r = Cli.run(c.args().toArray(String[]::new));
      assertThat(r.exitCode()).as(c.args() + ": " + r.err()).isEqualTo(c.exitCode());
      List<String> lines = r.err().strip().lines().toList();
      assertThat(lines.get(0)).as(c.args().toString()).contains(c.expected());
      assertThat(r.err()).as(c.args().toString()).doesNotContain("Exception").doesNotContain("\tat ");
      // one line, plus picocli's "Try 'lockstep X --help' for usage." after a malformed option
      assertThat(lines.subList(1, lines.size())).as(c.args() + ": one line")
          .allSatisfy(l -> assertThat(l).startsWith("Try 'lockstep").endsWith("--help' for usage."));
    }
  }
}
