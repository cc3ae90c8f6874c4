package dev.lockstep.collector.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.golden.GoldenConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CollectorConfigTest {
  @TempDir Path dir;

  Path write(String yaml) throws Exception {
    Path f = dir.resolve("collector.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  @Test
  void theDocumentedExampleLoads() throws Exception {
    Path example = Path.of("..", "deploy", "config", "collector.yaml");
    CollectorConfig c = CollectorConfig.load(example, java.util.Map.of());
    assertThat(c.listenHost()).isEqualTo("0.0.0.0");
    assertThat(c.listenPort()).isEqualTo(7443);
    assertThat(c.dataDir()).isEqualTo(Path.of("/var/lib/lockstep"));
    assertThat(CollectorConfig.load(example, java.util.Map.of("LOCKSTEP_ROOT", "/srv/trial")).dataDir())
        .isEqualTo(Path.of("/srv/trial/var/lib/lockstep"));
    assertThat(c.metricsPort()).isEqualTo(9464);
    assertThat(c.stopPolicy()).isEqualTo(CollectorConfig.StopPolicy.FLEET);
    assertThat(c.correlation().window()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.expectationFor("billing.reconcile").needed()).isEqualTo(3);
    assertThat(c.expectationFor("other").roles()).containsExactly("primary", "shadow");
    assertThat(c.alerts().webhooks()).as("alert sinks are examples, off as shipped").isEmpty();
    assertThat(c.alerts().alertmanager()).isNull();
    assertThat(c.storage().syncWrites()).isTrue();
    assertThat(c.insecure()).isFalse();
    assertThat(c.tls().complete()).isTrue();
    assertThat(c.tls().ca()).isEqualTo(Path.of("/etc/lockstep/ca.pem"));
    assertThat(c.tls().cert()).isEqualTo(Path.of("/etc/lockstep/collector.pem"));
    assertThat(c.tls().key()).isEqualTo(Path.of("/etc/lockstep/collector-key.pem"));
    assertThat(c.tls().crl()).isEqualTo(Path.of("/etc/lockstep/crl.pem"));
    assertThat(c.limits()).isEqualTo(CollectorConfig.Limits.DEFAULT);
  }

  @Test
  void aWorldReadableWebhookSecretIsRefusedAtLoad() throws Exception {
    Path secret = dir.resolve("webhook.secret");
    Files.writeString(secret, "s3cret\n");
    Files.setPosixFilePermissions(secret, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    Path f = write("alerts:\n  webhook_secret_file: webhook.secret\n  webhooks:\n    - url: http://127.0.0.1:1/x\n");
    assertThatThrownBy(() -> CollectorConfig.load(f)).hasMessageContaining("readable by everyone");
    Files.setPosixFilePermissions(secret, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    assertThat(CollectorConfig.load(f).alerts().webhooks().get(0).secretFile()).isEqualTo(secret);
  }

  @Test
  void anEmptyFileMeansDefaultsWithDataNextToTheFile() throws Exception {
    CollectorConfig c = CollectorConfig.load(write(""));
    assertThat(c.dataDir()).isEqualTo(dir.resolve("data"));
    assertThat(c.listenHost()).isEqualTo("127.0.0.1");
    assertThat(c.stopPolicy()).isEqualTo(CollectorConfig.StopPolicy.FLEET);
  }

  @Test
  void errorsNameTheFileAndTheKey() throws Exception {
    for (var bad : List.of(
        List.of("stop:\n  policy: all\n", "collector.yaml: stop.policy must be one of fleet, workflow, host, off, got 'all'"),
        List.of("correlation:\n  window: soon\n", "collector.yaml: correlation.window must be a duration"),
        List.of("listen: nowhere\n", "collector.yaml: listen must be HOST:PORT"),
        List.of("metrics_port: 70000\n", "collector.yaml: metrics_port must be between 0 and 65535, got 70000"),
        List.of("stop:\n  polcy: fleet\n", "collector.yaml: unknown key stop.polcy"),
        List.of("alerts:\n  webhooks:\n    - format: json\n", "collector.yaml: alerts.webhooks[0].url is required"),
        List.of("alerts:\n  alertmanager: ftp://x\n", "collector.yaml: alerts.alertmanager must be an http(s) URL"),
        List.of("correlation:\n  expected_roles: [primary]\n", "collector.yaml: correlation.expected_roles must name at least 2 roles"),
        List.of("tls:\n  cert_file: nope.pem\n", "collector.yaml: unknown key tls.cert_file"),
        List.of("tls:\n  ca: ca.pem\n  cert: c.pem\n", "collector.yaml: tls.key is required"),
        List.of("agents:\n  max_streams: 0\n", "collector.yaml: agents.max_streams must be between 1 and 1000000, got 0"),
        List.of("agents:\n  max_events_per_second: lots\n", "collector.yaml: agents.max_events_per_second must be an integer"),
        List.of("agents:\n  max_event_mb_per_second: 0\n", "collector.yaml: agents.max_event_mb_per_second must be between 1 and 512, got 0"),
        List.of("alerts:\n  webhook_secret_file: missing.secret\n", "collector.yaml: alerts.webhook_secret_file is not usable"),
        List.of("insecure: maybe\n", "collector.yaml: insecure must be true or false"),
        List.of("golden:\n  mapping: {run_id: run_id}\n",
            "collector.yaml: golden.mapping.run_id must be a JSON Pointer starting with '/', got \"run_id\""),
        List.of("golden:\n  volatile: {name: [x]}\n", "collector.yaml: golden.volatile.name is not a known key"),
        List.of("golden: [x]\n", "collector.yaml: golden must be a mapping"))) {
      Path f = write(bad.get(0));
      assertThatThrownBy(() -> CollectorConfig.load(f))
          .isInstanceOf(CollectorConfig.ConfigException.class)
          .hasMessageStartingWith(bad.get(1));
    }
  }

  @Test
  void theGoldenSectionConfiguresParsingAndDiffing() throws Exception {
    CollectorConfig c = CollectorConfig.load(write("""
        golden:
          limits: {max_depth: 64}
          volatile: {names: [trace_id], pointers: ["/steps/*/debug/**"]}
          mapping: {run_id: /meta/id}
        """));
    assertThat(c.golden().limits().maxDepth()).isEqualTo(64);
    assertThat(c.golden().mask().names()).contains("trace_id", "timestamp");
    assertThat(c.golden().mask().pointerGlobs()).containsExactly("/steps/*/debug/**");
    assertThat(c.golden().mapping().runId()).isEqualTo("/meta/id");
    assertThat(CollectorConfig.load(write("")).golden()).isEqualTo(GoldenConfig.DEFAULT);
  }

  @Test
  void theDocumentedGoldenSectionsOfAgentAndCollectorMatch() throws Exception {
    GoldenConfig collector = CollectorConfig.load(Path.of("..", "deploy", "config", "collector.yaml")).golden();
    GoldenConfig agent = AgentConfig.load(Path.of("..", "deploy", "config", "agent.yaml"),
        java.util.Map.of("LOCKSTEP_AGENT_ID", "worker-01")).goldenConfig();
    assertThat(collector).isEqualTo(agent).isEqualTo(GoldenConfig.DEFAULT);
  }

  @Test
  void theConsoleIsOffByDefaultAndConfiguredByItsSection() throws Exception {
    CollectorConfig.Console example = CollectorConfig.load(Path.of("..", "deploy", "config", "collector.yaml"),
        java.util.Map.of()).console();
    assertThat(example.enabled()).isFalse();
    assertThat(example.port()).isEqualTo(7444);
    assertThat(CollectorConfig.load(write("")).console()).isEqualTo(CollectorConfig.Console.OFF);

    CollectorConfig c = CollectorConfig.load(write(
        "console:\n  enabled: true\n  listen: 127.0.0.1:9443\n  cert: web.pem\n  key: web-key.pem\n"));
    assertThat(c.console()).isEqualTo(new CollectorConfig.Console(true, "127.0.0.1", 9443,
        dir.resolve("web.pem"), dir.resolve("web-key.pem")));

    for (var bad : List.of(
        List.of("console:\n  enabled: true\n  cert: web.pem\n", "console.key is required with console.cert"),
        List.of("console:\n  listen: anywhere\n", "console.listen"),
        List.of("console:\n  port: 1\n", "port"),
        List.of("insecure: true\nconsole:\n  enabled: true\n", "console.enabled needs mTLS"))) {
      Path f = write(bad.get(0));
      assertThatThrownBy(() -> CollectorConfig.load(f)).as(bad.get(0)).hasMessageContaining(bad.get(1));
    }
  }

  @Test
  void durationsReadAsOperatorsWriteThem() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("7d")).isEqualTo(Duration.ofDays(7));
    assertThat(Durations.format(Duration.ofMinutes(5))).isEqualTo("5m");
  }
}
