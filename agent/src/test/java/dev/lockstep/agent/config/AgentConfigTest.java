package dev.lockstep.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockstep.golden.GoldenConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentConfigTest {
  @TempDir Path dir;

  private Path write(String yaml) throws Exception {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  private static final String MINIMAL = "agent_id: w1\nstate_dir: /tmp/x\ncollector: {address: 'c:7443', insecure: true}\n";

  @Test
  void theDocumentedExampleLoads() throws Exception {
    Path example = Path.of("..", "deploy", "config", "agent.yaml");
    AgentConfig c = AgentConfig.load(example, java.util.Map.of("LOCKSTEP_AGENT_ID", "worker-01"));
    assertThat(c.agentId()).isEqualTo("worker-01");
    assertThat(c.collector().target()).isEqualTo("collector.internal:7443");
    assertThat(c.collector().insecure()).isFalse();
    assertThat(c.collector().caFile()).isEqualTo(Path.of("/etc/lockstep/ca.pem"));
    assertThat(c.collector().certFile()).isEqualTo(Path.of("/etc/lockstep/worker-01.pem"));
    assertThat(c.collector().keyFile()).isEqualTo(Path.of("/etc/lockstep/worker-01-key.pem"));
    assertThat(c.problems()).isEmpty();
    assertThat(c.golden().dirs()).containsExactly("/tmp/shadow_simulation_*/golden");
    assertThat(c.logs()).hasSize(2);
    assertThat(c.logs().get(0).rules()).hasSize(6);
    assertThat(c.logs().get(0).rules().get(0).name()).isEqualTo("differ");
    assertThat(c.processes().get(0).pattern()).isEqualTo("run_shadow_simulation.sh.*--hours 24");
    assertThat(c.disk().criticalPercent()).isEqualTo(95);
    assertThat(c.staleness().warnAfter()).isEqualTo(Duration.ofMinutes(10));
    assertThat(c.staleness().criticalAfter()).isEqualTo(Duration.ofMinutes(30));
    assertThat(c.stop().failsafeAfter()).isNull();
    assertThat(c.stop().hookOutputBytes()).isEqualTo(16 * 1024);
    assertThat(c.spool().capBytes()).isEqualTo(256L << 20);
    assertThat(c.labels()).containsEntry("workflows", "billing.reconcile,ledger.sync");
    assertThat(c.metrics().port()).isEqualTo(9465);
  }

  @Test
  void severalCollectorsOfAClusterAreTriedInTurn() throws Exception {
    AgentConfig c = AgentConfig.load(write("agent_id: w1\nstate_dir: /tmp/x\ncollector:\n"
        + "  addresses: ['c1:7443', 'c2:7443', 'c3:7443']\n  insecure: true\n"), java.util.Map.of());
    assertThat(c.collector().targets()).containsExactly("c1:7443", "c2:7443", "c3:7443");
    assertThat(c.problems()).isEmpty();
    AgentConfig flag = c.withCollectorTarget("c1:7443, c2:7443");
    assertThat(flag.collector().targets()).containsExactly("c1:7443", "c2:7443");
    assertThat(c.withCollectorTarget("c1:7443,c2").problems())
        .contains("collector.address must be HOST:PORT (or several, comma-separated), got \"c2\"");
    assertThatThrownBy(() -> AgentConfig.load(write("agent_id: w1\nstate_dir: /tmp/x\ncollector:\n"
        + "  address: c1:7443\n  addresses: [c2:7443]\n  insecure: true\n"), java.util.Map.of()))
        .hasMessage("agent.yaml: collector.address and collector.addresses are exclusive");
  }

  @Test
  void theDocumentedExampleNeedsTheAgentIdFromTheEnvironment() {
    assertThatThrownBy(() -> AgentConfig.load(Path.of("..", "deploy", "config", "agent.yaml"), java.util.Map.of()))
        .hasMessage("agent.yaml: agent_id: environment variable LOCKSTEP_AGENT_ID is not set"
            + " (in \"${env:LOCKSTEP_AGENT_ID}\"; write ${env:LOCKSTEP_AGENT_ID:-DEFAULT} for a default)");
  }

  @Test
  void environmentVariablesFillValuesAndKeepTheirType() throws Exception {
    AgentConfig c = AgentConfig.load(write("""
        agent_id: ${env:ID}
        state_dir: ${env:ROOT:-}/state
        collector:
          address: ${env:ADDR:-c:7443}
          insecure: ${env:PLAIN:-true}
        metrics:
          port: ${env:PORT:-9465}
        stop: {on_stop: 'notify "${LOCKSTEP_REASON}" $${env:X}'}
        """), java.util.Map.of("ID", "w7", "ROOT", "/srv/trial", "PORT", "9999"));
    assertThat(c.agentId()).isEqualTo("w7");
    assertThat(c.stateDir()).isEqualTo(Path.of("/srv/trial/state"));
    assertThat(c.collector().target()).isEqualTo("c:7443");
    assertThat(c.collector().insecure()).isTrue();
    assertThat(c.metrics().port()).isEqualTo(9999);
    assertThat(c.stop().onStop()).isEqualTo("notify \"${LOCKSTEP_REASON}\" ${env:X}");
  }

  @Test
  void aMinimalFileGetsTheDefaults() throws Exception {
    AgentConfig c = AgentConfig.load(write(MINIMAL));
    assertThat(c.stop().file()).isEqualTo(Path.of("/tmp/x/emergency-stop.json"));
    assertThat(c.spool().dir()).isEqualTo(Path.of("/tmp/x/spool"));
    assertThat(c.golden().settle()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.disk().warnPercent()).isEqualTo(85);
  }

  @Test
  void badValuesAreRejectedWithTheKeyNamed() throws Exception {
    assertThatThrownBy(() -> AgentConfig.load(write(MINIMAL + "disk: {critical_percent: 140}\n")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("agent.yaml: disk.critical_percent must be between 1 and 100, got 140");
    assertThatThrownBy(() -> AgentConfig.load(write(MINIMAL + "staleness: {warn_after: soon}\n")))
        .hasMessageContaining("staleness.warn_after must be a duration");
    assertThatThrownBy(() -> AgentConfig.load(write(MINIMAL + "disk: {critcal_percent: 90}\n")))
        .hasMessageStartingWith("agent.yaml: unknown key disk.critcal_percent");
    assertThatThrownBy(() -> AgentConfig.load(write(MINIMAL + "logs: [{path: /x, rules: [{name: r, regex: '(('}]}]\n")))
        .hasMessageContaining("logs[0].rules[0].regex is not a valid regex");
    assertThatThrownBy(() -> AgentConfig.load(write(MINIMAL + "processes: [{name: p}]\n")))
        .hasMessageContaining("processes[0] needs exactly one of pattern or pidfile");
    assertThatThrownBy(() -> AgentConfig.load(write("agent_id: w1\nstate_dir: /x\n")))
        .hasMessageContaining("collector.address is required");
    assertThatThrownBy(() -> AgentConfig.load(write("agent_id: [\n")))
        .hasMessageStartingWith("agent.yaml: not valid YAML");
    assertThatThrownBy(() -> AgentConfig.load(dir.resolve("missing.yaml")))
        .hasMessageContaining("no such file");
  }

  @Test
  void remediationIsReadPerProcessAndABadOneNamesItsKey() throws Exception {
    AgentConfig c = AgentConfig.load(write(MINIMAL + """
        processes:
          - name: shadow
            pattern: run_shadow
            log: /var/log/shadow.log
            remediate:
              restart: {command: "start-it", clean_cycles: 4, max_per_day: 2, settle: 500ms}
              unstick: {term_grace: 5s}
          - name: other
            pattern: other
        """));
    var policy = c.processes().get(0).remediate();
    assertThat(policy.process()).isEqualTo("shadow");
    assertThat(policy.restart().command()).isEqualTo("start-it");
    assertThat(policy.restart().cleanCycles()).isEqualTo(4);
    assertThat(policy.restart().cyclesPerHour()).isEqualTo(120);
    assertThat(policy.restart().runHours()).isEqualTo(24);
    assertThat(policy.restart().maxPerDay()).isEqualTo(2);
    assertThat(policy.restart().settle()).isEqualTo(Duration.ofMillis(500));
    assertThat(policy.unstick().termGrace()).isEqualTo(Duration.ofSeconds(5));
    assertThat(policy.unstick().killGrace()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.processes().get(1).remediate()).as("off unless configured").isNull();

    String p = "processes: [{name: s, pattern: s, log: /l, remediate: %s}]\n";
    assertThatThrownBy(() -> AgentConfig.load(write(MINIMAL + p.formatted("{unstick: {term_grace: 1s}}"))))
        .hasMessageContaining("processes[0].remediate.restart is required");
    assertThatThrownBy(() -> AgentConfig.load(write(MINIMAL + p.formatted("{restart: {comand: x}}"))))
        .hasMessageContaining("unknown key processes[0].remediate.restart.comand");
    assertThatThrownBy(() -> AgentConfig.load(write(MINIMAL + p.formatted("{restart: {command: x, max_per_day: 0}}"))))
        .hasMessageContaining("processes[0].remediate.restart.max_per_day must be > 0");
    assertThatThrownBy(() -> AgentConfig.load(write(MINIMAL
        + "processes: [{name: s, pattern: s, remediate: {restart: {command: x}}}]\n")))
        .hasMessageContaining("processes[0].remediate needs the process's log");
  }

  @Test
  void theGoldenSectionCarriesLimitsVolatileAndMapping() throws Exception {
    AgentConfig c = AgentConfig.load(write(MINIMAL + """
        golden:
          dirs: [/g]
          limits: {max_bytes: 8MiB, max_depth: 64}
          volatile: {names: [trace_id], pointers: ["/steps/*/debug/**"]}
          mapping: {run_id: /meta/id, steps: /trace, rng_keys: [random]}
        """));
    assertThat(c.golden().dirs()).containsExactly("/g");
    GoldenConfig g = c.goldenConfig();
    assertThat(g.limits().maxBytes()).isEqualTo(8L << 20);
    assertThat(g.limits().maxDepth()).isEqualTo(64);
    assertThat(g.mask().names()).contains("trace_id", "timestamp");
    assertThat(g.mask().pointerGlobs()).containsExactly("/steps/*/debug/**");
    assertThat(g.mapping().runId()).isEqualTo("/meta/id");
    assertThat(g.mapping().steps()).isEqualTo("/trace");
    assertThat(g.mapping().rngKeys()).containsExactly("random");
    assertThat(g.mapping().workflow()).isEqualTo(GoldenConfig.Mapping.DEFAULT.workflow());
    assertThat(AgentConfig.load(write(MINIMAL)).goldenConfig()).isEqualTo(GoldenConfig.DEFAULT);
    assertThat(AgentConfig.defaults("a", "c:1", dir).withGoldenConfig(g).goldenConfig()).isEqualTo(g);
  }

  @Test
  void aBadGoldenPointerIsRejectedWithTheKeyNamed() throws Exception {
    assertThatThrownBy(() -> AgentConfig.load(write(MINIMAL + "golden: {mapping: {run_id: run_id}}\n")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("agent.yaml: golden.mapping.run_id must be a JSON Pointer starting with '/', got \"run_id\"");
    assertThatThrownBy(() -> AgentConfig.load(write(MINIMAL + "golden: {volatile: {nmes: [x]}}\n")))
        .hasMessageStartingWith("agent.yaml: golden.volatile.nmes is not a known key");
  }

  @Test
  void durationsAndSizesParse() {
    assertThat(ConfigFile.parseDuration("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(ConfigFile.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(ConfigFile.parseDuration("PT10M")).isEqualTo(Duration.ofMinutes(10));
    assertThat(ConfigFile.parseSize("256MiB")).isEqualTo(256L << 20);
    assertThat(ConfigFile.parseSize("4096")).isEqualTo(4096);
  }

  @Test
  void codeBuiltConfigsValidateAndCopy() throws Exception {
    AgentConfig c = AgentConfig.defaults("a1", "127.0.0.1:1", dir)
        .withGoldenDirs(List.of("/g"))
        .withLabel("workflows", "w")
        .withDisk(new AgentConfig.Disk(List.of(dir), 80, 90))
        .withSpoolCapBytes(1 << 20)
        .withMetricsPort(0)
        .withFailsafeAfter(Duration.ofMinutes(5));
    assertThat(c.validate()).isSameAs(c);
    assertThat(c.golden().dirs()).containsExactly("/g");
    assertThat(c.stop().failsafeAfter()).isEqualTo(Duration.ofMinutes(5));
    AgentConfig moved = c.withStateDir(dir.resolve("other"));
    assertThat(moved.spool().dir()).isEqualTo(dir.resolve("other/spool"));
    assertThat(moved.stop().file()).isEqualTo(dir.resolve("other/emergency-stop.json"));
    assertThatThrownBy(() -> c.withDisk(new AgentConfig.Disk(List.of(), 80, 140)).validate())
        .hasMessage("agent.yaml: disk.critical_percent must be between 1 and 100, got 140");
  }

  /**
   * The collector bounds labels over its limits (docs/protocol.md, section 11): such a config
   * loads and starts an agent (one that does not start cannot be stopped), with a warning naming
   * the label, its length, the limit and what the collector keeps.
   */
  @Test
  void labelsOverTheCollectorsLimitsLoadWithAWarningNamingTheKey() throws Exception {
    StringBuilder many = new StringBuilder("labels:\n");
    for (int i = 0; i < 65; i++) many.append("  l").append(i).append(": v\n");
    AgentConfig crowded = AgentConfig.load(write(MINIMAL + many));
    assertThat(crowded.problems()).isEmpty();
    assertThat(crowded.warnings()).containsExactly("labels holds 65 labels, at most 64: the collector"
        + " keeps the workflows label and the first others by key");

    AgentConfig c = AgentConfig.defaults("a1", "127.0.0.1:1", dir).withGoldenDirs(List.of("/g"));
    assertThat(c.withLabel("zone", "z".repeat(1024)).withLabel("workflows", "w,".repeat(32_000))
        .warnings()).isEmpty();
    AgentConfig longValue = c.withLabel("zone", "z".repeat(1025));
    assertThat(longValue.problems()).isEmpty();
    assertThat(longValue.warnings())
        .containsExactly("labels.zone is 1025 characters, at most 1024: the collector cuts it");
    AgentConfig longWorkflows = c.withLabel("workflows", "w,".repeat(40_000));
    assertThat(longWorkflows.problems()).isEmpty();
    assertThat(longWorkflows.warnings()).containsExactly(
        "labels.workflows is 80000 characters, at most 65536: every workflow stop covers this agent");
    AgentConfig longKey = c.withLabel("k".repeat(129), "v");
    assertThat(longKey.problems()).isEmpty();
    assertThat(longKey.warnings()).containsExactly("labels: a key is 129 characters, at most 128:"
        + " the collector cuts it: '" + "k".repeat(80) + "…'");
  }

  @Test
  void startAtDefaultsToEndForLogsAndBeginningForGoldenAndABadValueNamesItsKey() throws Exception {
    AgentConfig c = AgentConfig.load(write(MINIMAL + """
        golden: {dirs: [/g]}
        logs:
          - path: /l1
          - {path: /l2, start_at: beginning}
        """));
    assertThat(c.logs().get(0).startAt()).isEqualTo(AgentConfig.StartAt.END);
    assertThat(c.logs().get(1).startAt()).isEqualTo(AgentConfig.StartAt.BEGINNING);
    assertThat(c.golden().startAt()).isEqualTo(AgentConfig.StartAt.BEGINNING);
    assertThat(AgentConfig.load(write(MINIMAL + "golden: {dirs: [/g], start_at: END}\n")).golden().startAt())
        .isEqualTo(AgentConfig.StartAt.END);
    assertThatThrownBy(() -> AgentConfig.load(write(MINIMAL + "logs: [{path: /l, start_at: middle}]\n")))
        .hasMessage("agent.yaml: logs[0].start_at must be end or beginning, got \"middle\"");
    assertThatThrownBy(() -> AgentConfig.load(write(MINIMAL + "logs: [/l]\n")))
        .hasMessage("agent.yaml: logs[0] must be a mapping with a path");
  }
}
