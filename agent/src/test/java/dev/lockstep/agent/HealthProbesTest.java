package dev.lockstep.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.proto.lite.v1.ComponentStatus;
import dev.lockstep.proto.lite.v1.Event;
import dev.lockstep.proto.lite.v1.HealthSample;
import dev.lockstep.proto.lite.v1.HealthSample.Level;
import dev.lockstep.proto.lite.v1.HealthSample.Probe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SuppressWarnings("try") // agents are started for their side effects
class HealthProbesTest {
  @TempDir Path root;
  TestGateway gateway;
  Process worker;

  @BeforeEach
  void setUp() throws Exception {
    gateway = new TestGateway();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (worker != null) {
      worker.destroyForcibly().waitFor();
    }
    gateway.close();
  }

  private List<HealthSample> samples(Probe probe) {
    return gateway.events("a1", Event.BodyCase.HEALTH).stream().map(Event::getHealth)
        .filter(h -> h.getProbe() == probe).toList();
  }

  @Test
  void diskOverTheCriticalThresholdRaisesACriticalSample() throws Exception {
    AgentConfig c = Fixtures.config("a1", gateway, root).withDisk(new AgentConfig.Disk(List.of(root), 1, 1));
    try (Agent unused = Agent.start(c, Clock.systemUTC())) {
      Eventually.await("disk sample", () -> !samples(Probe.DISK).isEmpty());
      HealthSample s = samples(Probe.DISK).get(0);
      assertThat(s.getLevel()).isEqualTo(Level.CRITICAL);
      assertThat(s.getTarget()).isEqualTo(root.toString());
      assertThat(s.getDisk().getUsedPercent()).isGreaterThan(1.0);
      assertThat(s.getDisk().getTotalBytes()).isGreaterThan(s.getDisk().getUsedBytes());
      assertThat(s.getSummary()).contains("critical > 1%");
    }
  }

  @Test
  void diskUnderTheThresholdsIsOk() throws Exception {
    AgentConfig c = Fixtures.config("a1", gateway, root).withDisk(new AgentConfig.Disk(List.of(root), 100, 100));
    try (Agent unused = Agent.start(c, Clock.systemUTC())) {
      Eventually.await("disk sample", () -> !samples(Probe.DISK).isEmpty());
      assertThat(samples(Probe.DISK).get(0).getLevel()).isEqualTo(Level.OK);
    }
  }

  @Test
  void staleLogRaisesWarnThenCriticalWithAProcessSnapshot() throws Exception {
    MutableClock clock = MutableClock.atSystemNow();
    Path log = root.resolve("shadow_24h_1.log");
    Files.writeString(log, "Running cycle 1\n");
    Files.setLastModifiedTime(log, FileTime.from(clock.instant()));
    // a duration no other process on the machine has, so the pattern finds only this one
    String seconds = "300." + (100000 + new java.util.Random().nextInt(900000));
    worker = new ProcessBuilder("sleep", seconds).start();
    AgentConfig c = Fixtures.config("a1", gateway, root)
        .withLogs(List.of(AgentConfig.LogWatch.of(log.toString())))
        .withProcesses(List.of(new AgentConfig.ProcessWatch("shadow", "^sleep " + java.util.regex.Pattern.quote(seconds)
            + "$", null, log.toString())));
    try (Agent unused = Agent.start(c, clock)) {
      Eventually.await("ok sample", () -> !samples(Probe.LOG_STALENESS).isEmpty());
      assertThat(samples(Probe.LOG_STALENESS).get(0).getLevel()).isEqualTo(Level.OK);
      clock.advance(Duration.ofMinutes(11));
      Eventually.await("warn", () -> samples(Probe.LOG_STALENESS).size() == 2);
      HealthSample warn = samples(Probe.LOG_STALENESS).get(1);
      assertThat(warn.getLevel()).isEqualTo(Level.WARN);
      assertThat(warn.getStaleness().getStaleSeconds()).isBetween(660L, 700L);
      assertThat(warn.getStaleness().getProcessSnapshot()).contains("pid " + worker.pid()).contains("open fds");
      clock.advance(Duration.ofMinutes(20));
      Eventually.await("critical", () -> samples(Probe.LOG_STALENESS).size() == 3);
      assertThat(samples(Probe.LOG_STALENESS).get(2).getLevel()).isEqualTo(Level.CRITICAL);
      assertThat(samples(Probe.LOG_STALENESS).get(2).getSummary()).contains("stale for");
    }
  }

  @Test
  void processThatDiesIsCriticalAndItsLogTellsACrash() throws Exception {
    Path log = root.resolve("shadow.log");
    Files.writeString(log, "Running cycle 1\ncompare: 0 mismatches\nRunning cycle 2\n");
    String seconds = "301." + (100000 + new java.util.Random().nextInt(900000));
    worker = new ProcessBuilder("sleep", seconds).start();
    AgentConfig c = Fixtures.config("a1", gateway, root)
        .withLogs(List.of(AgentConfig.LogWatch.of(log.toString()).withStartAt(AgentConfig.StartAt.BEGINNING)))
        .withProcesses(List.of(new AgentConfig.ProcessWatch("shadow", "sleep " + java.util.regex.Pattern.quote(seconds), null,
            log.toString())));
    try (Agent unused = Agent.start(c, Clock.systemUTC())) {
      Eventually.await("running", () -> !samples(Probe.PROCESS).isEmpty());
      HealthSample up = samples(Probe.PROCESS).get(0);
      assertThat(up.getLevel()).isEqualTo(Level.OK);
      assertThat(up.getProcess().getRunning()).isTrue();
      assertThat(up.getProcess().getPid()).isEqualTo(worker.pid());
      assertThat(up.getProcess().getSince().getSeconds()).isGreaterThan(0);
      Files.writeString(log, "fatal: worker killed (oom)\n", java.nio.file.StandardOpenOption.APPEND);
      Eventually.await("log read", () -> !gateway.events("a1", Event.BodyCase.LOG_MATCH).isEmpty()
          && gateway.events("a1", Event.BodyCase.LOG_MATCH).stream()
              .anyMatch(e -> e.getLogMatch().getLine().contains("oom")));
      worker.destroyForcibly().waitFor();
      Eventually.await("died", () -> samples(Probe.PROCESS).size() == 2);
      HealthSample down = samples(Probe.PROCESS).get(1);
      assertThat(down.getLevel()).isEqualTo(Level.CRITICAL);
      assertThat(down.getProcess().getRunning()).isFalse();
      assertThat(down.getProcess().getExitAssessment()).isEqualTo("CRASH");
      assertThat(down.getProcess().getEvidenceLinesList()).contains("fatal: worker killed (oom)");
      assertThat(down.getProcess().getCycles()).isEqualTo(2);
      assertThat(down.getProcess().getCleanCycles()).isEqualTo(1);
    }
  }

  @Test
  void processEndingAfterACleanLogIsAssessedClean() throws Exception {
    Path log = root.resolve("shadow.log");
    Files.writeString(log, "Running cycle 1\ncompare: 0 mismatches\ndone, completed early\n");
    Path pidfile = root.resolve("shadow.pid");
    worker = new ProcessBuilder("sleep", "302").start();
    Files.writeString(pidfile, Long.toString(worker.pid()));
    AgentConfig c = Fixtures.config("a1", gateway, root)
        .withLogs(List.of(AgentConfig.LogWatch.of(log.toString())))
        .withProcesses(List.of(new AgentConfig.ProcessWatch("shadow", null, pidfile, log.toString())));
    try (Agent unused = Agent.start(c, Clock.systemUTC())) {
      Eventually.await("running", () -> !samples(Probe.PROCESS).isEmpty());
      assertThat(samples(Probe.PROCESS).get(0).getProcess().getRunning()).isTrue();
      worker.destroyForcibly().waitFor();
      Eventually.await("ended", () -> samples(Probe.PROCESS).size() == 2);
      assertThat(samples(Probe.PROCESS).get(1).getProcess().getExitAssessment()).isEqualTo("CLEAN");
    }
  }

  /** Each agent component's state is a health sample too, and shows in /metrics. */
  private List<HealthSample> goldenComponent() {
    return samples(Probe.COMPONENT).stream().filter(h -> h.getTarget().equals("golden")).toList();
  }

  @Test
  void aMissingGoldenDirMakesTheGoldenComponentDegradedUntilItIsThere() throws Exception {
    Path present = Files.createDirectories(root.resolve("g1"));
    Path missing = root.resolve("g2");
    AgentConfig c = Fixtures.config("a1", gateway, root).withGoldenDirs(present, missing);
    try (Agent agent = Agent.start(c, Clock.systemUTC())) {
      Eventually.await("a degraded golden component reported", Duration.ofSeconds(20), () -> goldenComponent().stream()
          .anyMatch(h -> h.getComponent().getState() == ComponentStatus.State.DEGRADED));
      HealthSample degraded = goldenComponent().stream()
          .filter(h -> h.getComponent().getState() == ComponentStatus.State.DEGRADED).findFirst().orElseThrow();
      assertThat(degraded.getLevel()).isEqualTo(HealthSample.Level.WARN);
      assertThat(degraded.getComponent().getReason()).contains("1 of 2 golden dirs failing").contains(missing.toString())
          .contains("does not exist");
      assertThat(degraded.getSummary()).startsWith("agent component golden degraded: ");
      assertThat(agent.scrapeMetrics()).contains("lockstep_agent_component_status{component=\"golden\"} 1.0");
      assertThat(agent.components()).extracting(ComponentStatus::getName)
          .contains("golden", "logs", "probes", "spool", "uplink", "stop");
      // the other directory still works meanwhile
      GoldenFiles.writeAtomically(present, "run-1", "primary");
      Eventually.await("run-1 reported", Duration.ofSeconds(20),
          () -> !gateway.events("a1", Event.BodyCase.GOLDEN).isEmpty());

      Files.createDirectories(missing);
      Eventually.await("running again", Duration.ofSeconds(30), () -> !goldenComponent().isEmpty()
          && goldenComponent().get(goldenComponent().size() - 1).getComponent().getState() == ComponentStatus.State.RUNNING);
      assertThat(agent.scrapeMetrics()).contains("lockstep_agent_component_status{component=\"golden\"} 0.0");
      GoldenFiles.writeAtomically(missing, "run-2", "primary");
      Eventually.await("run-2 reported", Duration.ofSeconds(20),
          () -> gateway.events("a1", Event.BodyCase.GOLDEN).size() == 2);
    }
  }
}
