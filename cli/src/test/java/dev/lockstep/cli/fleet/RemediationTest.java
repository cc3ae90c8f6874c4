package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lockstep.agent.Agent;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.collector.Collector;
import dev.lockstep.collector.config.CollectorConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The playbook's remediation end to end: a real collector, a real agent configured from
 * agent.yaml with remediate:, and a simulated engine as a real process (a shell script writing
 * the playbook's log lines). What the agent did, or why not, is read back with lockstep commands.
 */
class RemediationTest {
  static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;
  Collector collector;
  String address;
  Agent agent;
  final String marker = "lockstep-engine-" + UUID.randomUUID();
  Path engine;
  Path log;
  Path hours;

  @BeforeEach
  void start() throws Exception {
    collector = Collector.start(CollectorConfig.defaults(dir.resolve("collector")).withInsecure(true)
        .withListen("127.0.0.1", 0), Clock.systemUTC(), line -> {});
    address = "127.0.0.1:" + collector.port();
    engine = dir.resolve("engine.sh");
    log = dir.resolve("logs/shadow_24h.log");
    hours = dir.resolve("restarted-with-hours");
    Files.createDirectories(log.getParent());
    Files.writeString(log, "");
    // $1 cycles, then $2: exit (clean), crash (OOM), hang (stuck, ignores TERM) or run (keeps cycling)
    Files.writeString(engine, """
        #!/bin/sh
        log="$3"; i=0
        while [ $i -lt "$1" ] || [ "$2" = run ]; do
          i=$((i+1)); echo "Running cycle $i" >> "$log"; echo "cycle $i: 0 mismatches" >> "$log"; sleep 0.05
        done
        [ "$2" = hang ] || while [ ! -e "$log.go" ]; do sleep 0.05; done
        case "$2" in
          exit) echo "simulation finished early" >> "$log"; exit 0 ;;
          crash) echo "java.lang.OutOfMemoryError: Java heap space" >> "$log"; exit 137 ;;
          hang) trap '' TERM; while :; do sleep 1; done ;;
        esac
        """);
  }

  @AfterEach
  void stop() {
    if (agent != null) agent.close();
    collector.close();
    ProcessHandle.allProcesses().filter(p -> p.info().commandLine().map(c -> c.contains(marker)).orElse(false))
        .forEach(ProcessHandle::destroyForcibly);
  }

  Agent startAgent(boolean unstick) throws Exception {
    Path yaml = dir.resolve("agent.yaml");
    Files.writeString(yaml, """
        agent_id: host-r
        collector:
          address: %s
          insecure: true
          reconnect_initial: 100ms
          reconnect_max: 400ms
        state_dir: %s
        stop:
          file: %s
        probes:
          interval: 200ms
        staleness:
          warn_after: 1s
          critical_after: 2s
        logs:
          - path: %s
            start_at: beginning
        processes:
          - name: shadow
            pattern: %s
            log: %s
            remediate:
              restart:
                command: "echo $LOCKSTEP_REMAINING_HOURS >> %s; nohup sh %s 0 run %s %s-restarted >/dev/null 2>&1 &"
                clean_cycles: 3
                max_per_day: 2
                timeout: 10s
                start_wait: 10s
                settle: 1s
        %s
        """.formatted(address, dir.resolve("state"), dir.resolve("run/EMERGENCY_STOP"), log, marker, log, hours,
        engine, log, marker, unstick ? "      unstick:\n          term_grace: 500ms\n          kill_grace: 5s" : ""));
    agent = Agent.start(AgentConfig.load(yaml), Clock.systemUTC(), line -> {});
    Eventually.await(WAIT, "agent connected", () -> collector.fleet().connectedCount() == 1);
    return agent;
  }

  /** Starts the engine; for exit and crash it ends once the agent has seen it running. */
  Process engine(int cycles, String then) throws Exception {
    Process p = new ProcessBuilder("sh", engine.toString(), Integer.toString(cycles), then, log.toString(), marker)
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    Eventually.await(WAIT, "the agent sees the engine running", () ->
        lockstep("agents", "--probes").out().contains("process shadow running, pid " + p.pid()));
    Files.writeString(Path.of(log + ".go"), "");
    return p;
  }

  Cli.Result lockstep(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--collector");
    all.add(address);
    all.add("--insecure");
    return Cli.run(all.toArray(String[]::new));
  }

  /** The notes of the open incident of that kind, once it has one. */
  JsonNode incidentWithNote(String kind) throws Exception {
    ObjectMapper json = new ObjectMapper();
    JsonNode[] found = new JsonNode[1];
    Eventually.await(WAIT, "a " + kind + " incident with a remediation note", () -> {
      try {
        for (JsonNode i : json.readTree(lockstep("incidents", "-o", "json").out()).path("incidents")) {
          if (i.path("kind").asText().equals(kind)) {
            JsonNode full = json.readTree(lockstep("incident", "show", i.path("id").asText(), "-o", "json").out());
            for (JsonNode n : full.path("notes")) {
              if (n.path("action").asText().equals("REMEDIATION")) {
                found[0] = full;
                return true;
              }
            }
          }
        }
        return false;
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    return found[0];
  }

  static String note(JsonNode incident) {
    for (JsonNode n : incident.path("notes")) {
      if (n.path("action").asText().equals("REMEDIATION")) return n.path("by").asText() + ": " + n.path("note").asText();
    }
    return "";
  }

  boolean restartedRunning() {
    return ProcessHandle.allProcesses().anyMatch(p -> p.isAlive()
        && p.info().commandLine().map(c -> c.contains(marker + "-restarted")).orElse(false));
  }

  @Test
  void aCleanExitIsRestartedWithTheRemainingHoursAndTheIncidentAndAuditSaySo() throws Exception {
    startAgent(false);
    Process first = engine(6, "exit");
    assertThat(first.waitFor()).isZero();
    JsonNode incident = incidentWithNote("PROCESS_DIED");
    assertThat(note(incident)).startsWith("agent:host-r: RESTART DONE of shadow")
        .contains("clean exit", "last 6 cycle(s) clean", "remaining 24 h", "new pid");
    assertThat(Files.readAllLines(hours)).containsExactly("24");
    assertThat(restartedRunning()).isTrue();
    assertThat(lockstep("incident", "show", incident.path("id").asText()).out()).contains("RESTART DONE of shadow");
    JsonNode audit = new ObjectMapper().readTree(lockstep("audit", "-o", "json").out()).path("entries");
    assertThat(audit.findValuesAsText("action")).contains("Remediation");
    JsonNode report = new ObjectMapper().readTree(lockstep("incident", "report", incident.path("id").asText(), "-o", "json").out());
    assertThat(report.path("remediation").findValuesAsText("detail")).anyMatch(d -> d.contains("RESTART DONE of shadow"));
  }

  @Test
  void aCrashIsNotRestarted() throws Exception {
    startAgent(false);
    engine(6, "crash").waitFor();
    JsonNode incident = incidentWithNote("PROCESS_DIED");
    assertThat(note(incident)).contains("RESTART SKIPPED of shadow", "crash", "OutOfMemoryError");
    assertThat(hours).doesNotExist();
    assertThat(restartedRunning()).isFalse();
  }

  @Test
  void aStoppedHostIsNeverRestarted() throws Exception {
    startAgent(false);
    Cli.Result stop = lockstep("stop", "enable", "--reason", "drill", "--wait", "20s");
    assertThat(stop.exitCode()).as(stop.out() + stop.err()).isZero();
    engine(6, "exit").waitFor();
    JsonNode incident = incidentWithNote("PROCESS_DIED");
    assertThat(note(incident)).contains("RESTART SKIPPED of shadow", "covers this host");
    assertThat(hours).doesNotExist();
    assertThat(restartedRunning()).isFalse();
  }

  @Test
  void aStuckProcessIsTermedThenKilledThenRestarted() throws Exception {
    startAgent(true);
    Process stuck = engine(6, "hang");
    JsonNode incident = incidentWithNote("STALE_LOG");
    assertThat(note(incident)).contains("UNSTICK DONE of shadow", "TERM pid " + stuck.pid(), "KILL", "new pid");
    assertThat(stuck.isAlive()).isFalse();
    assertThat(Files.readAllLines(hours)).containsExactly("24");
    assertThat(restartedRunning()).isTrue();
  }
}
