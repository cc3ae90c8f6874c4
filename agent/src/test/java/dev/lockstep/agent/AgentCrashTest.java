package dev.lockstep.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.supervise.FatalExit;
import dev.lockstep.proto.lite.v1.AgentNotice;
import dev.lockstep.proto.lite.v1.Event;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real agent process, killed with SIGKILL at chosen moments, then restarted; and a real agent
 * whose task hits a java.lang.Error, which must end (so that systemd or Kubernetes restarts it)
 * after writing a notice, never run on with a dead task (errors injected with
 * -Dlockstep.inject-error).
 */
class AgentCrashTest {
  @TempDir Path root;
  TestGateway gateway;
  Process child;

  @BeforeEach
  void setUp() throws Exception {
    gateway = new TestGateway();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (child != null) {
      child.destroyForcibly().waitFor();
    }
    gateway.close();
  }

  private Process startAgent(Path config, Path out, String... jvmOptions) throws Exception {
    return startAgentProcess(config, out, jvmOptions);
  }

  /** A real agent process: java [-XX flags for tests | jvmOptions] AgentMain --config config, output appended to out. */
  static Process startAgentProcess(Path config, Path out, String... jvmOptions) throws Exception {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java));
    cmd.addAll(jvmOptions.length > 0 ? List.of(jvmOptions) : List.of("-XX:+UseSerialGC", "-Xmx64m", "-XX:TieredStopAtLevel=1"));
    cmd.addAll(List.of("-cp", cp, "dev.lockstep.agent.AgentMain", "--config", config.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()));
    return pb.start();
  }

  /** agent.yaml for an agent reconnecting fast, with its stop file in root, plus sections. */
  private Path config(String id, String sections) throws java.io.IOException {
    Path config = root.resolve("agent.yaml");
    Files.writeString(config, """
        agent_id: %s
        state_dir: %s
        collector:
          address: %s
          insecure: true
          reconnect_initial: 100ms
          reconnect_max: 400ms
        """.formatted(id, root.resolve("state"), gateway.target()) + sections
        + (sections.contains("stop:") ? "" : "stop:\n  file: " + root.resolve("STOP") + "\n"));
    return config;
  }

  /** agent.yaml for an agent watching one golden directory. */
  private Path goldenConfig(String id, Path golden) throws java.io.IOException {
    return config(id, """
        golden:
          dirs: [%s]
          settle: 100ms
          rescan_interval: 300ms
        """.formatted(golden));
  }

  @Test
  void killNineWhileSendingThenRestartLeavesEveryEventStoredExactlyOnce() throws Exception {
    Path golden = Files.createDirectories(root.resolve("golden"));
    Path config = goldenConfig("crashy", golden);
    Path out = root.resolve("agent.out");
    // files keep coming until after the kill, so some are always written while the agent is down
    // and some are in flight at the kill, however fast or slow the machine is
    AtomicInteger written = new AtomicInteger();
    java.util.concurrent.atomic.AtomicBoolean feeding = new java.util.concurrent.atomic.AtomicBoolean(true);
    Thread feeder = new Thread(() -> {
      try {
        for (int i = 0; feeding.get(); i++) {
          GoldenFiles.writeAtomically(golden, "run-" + i, "primary");
          written.incrementAndGet();
          Thread.sleep(5);
        }
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    child = startAgent(config, out);
    feeder.start();
    Eventually.await("some events stored", Duration.ofSeconds(30),
        () -> gateway.events("crashy", Event.BodyCase.GOLDEN).size() >= 50);
    // hold acks so that events are in flight, sent but unacknowledged, at the kill
    gateway.holdAcks(true);
    int before = gateway.events("crashy").size();
    Eventually.await("more events sent without acks", Duration.ofSeconds(30),
        () -> gateway.events("crashy").size() > before + 20);
    child.destroyForcibly().waitFor(); // SIGKILL
    int atKill = gateway.events("crashy", Event.BodyCase.GOLDEN).size();
    int writtenAtKill = written.get();
    Eventually.await("files written while the agent is down", Duration.ofSeconds(30),
        () -> written.get() >= writtenAtKill + 20);
    feeding.set(false);
    feeder.join();
    int total = written.get();
    gateway.holdAcks(false);
    child = startAgent(config, out);
    Eventually.await("every file reported", Duration.ofSeconds(40),
        () -> gateway.events("crashy", Event.BodyCase.GOLDEN).size() >= total);

    List<Event> all = gateway.events("crashy");
    for (int i = 0; i < all.size(); i++) {
      assertThat(all.get(i).getSeq()).as("seqs are 1..N without gaps").isEqualTo(i + 1);
    }
    Map<String, Integer> perRun = new HashMap<>();
    for (Event e : gateway.events("crashy", Event.BodyCase.GOLDEN)) {
      perRun.merge(e.getGolden().getRunId(), 1, Integer::sum);
    }
    List<String> twice = new ArrayList<>();
    perRun.forEach((k, v) -> {
      if (v != 1) {
        twice.add(k + "x" + v);
      }
    });
    assertThat(twice).as("golden files reported more than once").isEmpty();
    assertThat(perRun).hasSize(total);
    assertThat(atKill).as("the kill happened mid-stream").isLessThan(total);
    assertThat(Files.readString(out)).contains("connected to");
  }

  /**
   * The agent's saved state is a resume; a new stop arrives and the agent is killed (SIGKILL)
   * while that stop's on_stop hook runs; it restarts while the collector is unreachable. The stop
   * must hold: the intent was on disk before the hook, and start-up re-applies it first thing.
   */
  @Test
  void killNineInsideTheStopHookAfterAResumeRestartsStoppedWithoutACollector() throws Exception {
    Path stopFile = root.resolve("run/EMERGENCY_STOP");
    Path slow = root.resolve("slow");
    Path inHook = root.resolve("in-hook");
    Path config = config("hooked", """
        stop:
          file: %s
          on_stop: "if [ -f %s ]; then touch %s; sleep 60; fi"
          hook_timeout: 5m
        """.formatted(stopFile, slow, inHook));
    Path out = root.resolve("agent.out");
    child = startAgent(config, out);
    Eventually.await("connected", Duration.ofSeconds(30), () -> !gateway.hellos().isEmpty());
    var first = gateway.setStop(dev.lockstep.proto.lite.v1.StopMode.STOPPED, "INC-1", "first");
    Eventually.await("first stop acked", Duration.ofSeconds(30), () -> gateway.stopAcks().stream()
        .anyMatch(a -> a.getGeneration() == first.getGeneration()));
    var resume = gateway.setStop(dev.lockstep.proto.lite.v1.StopMode.RUNNING, "", "fixed");
    Eventually.await("resume acked", Duration.ofSeconds(30), () -> gateway.stopAcks().stream()
        .anyMatch(a -> a.getGeneration() == resume.getGeneration()));
    assertThat(stopFile).doesNotExist();
    Files.writeString(slow, "");
    var second = gateway.setStop(dev.lockstep.proto.lite.v1.StopMode.STOPPED, "INC-2", "not fixed after all");
    Eventually.await("inside the new stop's hook", Duration.ofSeconds(30), () -> Files.exists(inHook));
    child.destroyForcibly().waitFor(); // SIGKILL inside on_stop
    gateway.stop(); // the collector is unreachable from now on
    Files.delete(slow);
    child = startAgent(config, out);
    Eventually.await("restarted", Duration.ofSeconds(30), () -> {
      try {
        return Files.readString(out).lines().filter(l -> l.contains("started (state")).count() == 2;
      } catch (java.io.IOException e) {
        return false;
      }
    });
    assertThat(stopFile).as("the new stop survived the kill and the restart").exists();
    Eventually.holdsFor("stays stopped without a collector", Duration.ofSeconds(2), () -> Files.exists(stopFile));
    String content = Files.readString(stopFile);
    assertThat(content).contains("\"generation\" : " + second.getGeneration()).contains("INC-2");
  }

  /**
   * The spool holds events the collector never got; the agent is killed (SIGKILL), one record on
   * disk rots, the agent restarts: the record is skipped with a SPOOL_CORRUPT notice, every other
   * event arrives, and the stream stays up (no reconnect loop over the bad record).
   */
  @Test
  void aCorruptSpoolRecordIsSkippedWithANoticeAndEverythingElseArrivesOnOneStream() throws Exception {
    Path golden = Files.createDirectories(root.resolve("golden"));
    for (int i = 0; i < 40; i++) {
      GoldenFiles.writeAtomically(golden, "run-" + i, "primary");
    }
    Path config = goldenConfig("rotten", golden);
    gateway.stop(); // the collector is down: everything stays in the spool
    Path out = root.resolve("agent.out");
    child = startAgent(config, out);
    Eventually.await("40 golden files spooled", Duration.ofSeconds(30), () -> {
      try {
        return Files.readString(out).contains("spooled up to seq 40");
      } catch (java.io.IOException e) {
        return false;
      }
    });
    child.destroyForcibly().waitFor(); // SIGKILL
    Path segment;
    try (var files = Files.list(root.resolve("state/spool"))) {
      segment = files.filter(f -> f.toString().endsWith(".seg")).findFirst().orElseThrow();
    }
    dev.lockstep.agent.spool.SpoolTest.corruptByteInRecord(segment, 5);
    gateway.start();
    child = startAgent(config, out);
    Eventually.await("the other 39 reports and a notice arrive", Duration.ofSeconds(40),
        () -> gateway.events("rotten", Event.BodyCase.GOLDEN).size() >= 39
            && !gateway.events("rotten", Event.BodyCase.NOTICE).isEmpty());
    assertThat(gateway.events("rotten", Event.BodyCase.GOLDEN)).extracting(e -> e.getGolden().getRunId())
        .hasSize(39).doesNotHaveDuplicates();
    assertThat(gateway.events("rotten", Event.BodyCase.NOTICE)).extracting(e -> e.getNotice().getKind())
        .containsExactly(dev.lockstep.proto.lite.v1.AgentNotice.Kind.SPOOL_CORRUPT);
    Eventually.holdsFor("one stream, no reconnect loop", Duration.ofSeconds(2), () -> gateway.hellos().size() == 1);
  }

  /**
   * Killed (SIGKILL) after log matches were spooled and before the offsets were saved: the
   * restarted agent reads those lines again but spools none of them twice.
   */
  @Test
  void killNineBetweenSpoolingLogMatchesAndSavingOffsetsRepeatsNoMatch() throws Exception {
    Path log = root.resolve("shadow_24h_1.log");
    StringBuilder lines = new StringBuilder();
    for (int i = 1; i <= 20; i++) {
      lines.append("Running cycle ").append(i).append('\n');
    }
    Files.writeString(log, lines);
    Path config = config("tailer", """
        logs:
          - path: %s
            start_at: beginning
            staleness: false
        probes:
          interval: 100ms
        """.formatted(log));
    Path out = root.resolve("agent.out");
    child = startAgent(config, out, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dlockstep.crash-point=logs.spooled-before-save");
    Eventually.await("matches spooled, offsets not saved", Duration.ofSeconds(30), () -> {
      try {
        return Files.readString(out).contains("CRASH-POINT logs.spooled-before-save");
      } catch (java.io.IOException e) {
        return false;
      }
    });
    child.destroyForcibly().waitFor(); // SIGKILL
    StringBuilder more = new StringBuilder();
    for (int i = 21; i <= 30; i++) {
      more.append("Running cycle ").append(i).append('\n');
    }
    Files.writeString(log, more, java.nio.file.StandardOpenOption.APPEND);
    child = startAgent(config, out);
    Eventually.await("lines 1..30 delivered", Duration.ofSeconds(40),
        () -> gateway.events("tailer", Event.BodyCase.LOG_MATCH).size() >= 30);
    Eventually.holdsFor("nothing more arrives", Duration.ofSeconds(1),
        () -> gateway.events("tailer", Event.BodyCase.LOG_MATCH).size() == 30);
    assertThat(gateway.events("tailer", Event.BodyCase.LOG_MATCH)).extracting(e -> e.getLogMatch().getLineNumber())
        .containsExactlyInAnyOrderElementsOf(java.util.stream.LongStream.rangeClosed(1, 30).boxed().toList());
  }

  // ------------------------------------------------------------ an Error ends the process

  @Test
  void anErrorInATaskEndsTheProcessWithCode70AfterANoticeThatReachesTheCollector() throws Exception {
    Path config = config("fatal", "probes:\n  interval: 500ms\n");
    Path out = root.resolve("agent.out");
    child = startAgentProcess(config, out, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dlockstep.inject-error=probes");
    assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the agent ended").isTrue();
    assertThat(child.exitValue()).isEqualTo(FatalExit.EXIT_CODE);
    assertThat(Files.readString(out)).contains("FATAL: probes hit java.lang.InternalError");
    if (gateway.events("fatal", Event.BodyCase.NOTICE).isEmpty()) {
      // not acked before the exit: the restarted agent sends it from its spool
      child = startAgentProcess(config, out);
    }
    Eventually.await("the notice reaches the collector", Duration.ofSeconds(30),
        () -> !gateway.events("fatal", Event.BodyCase.NOTICE).isEmpty());
    AgentNotice n = gateway.events("fatal", Event.BodyCase.NOTICE).get(0).getNotice();
    assertThat(n.getKind()).isEqualTo(AgentNotice.Kind.FATAL_ERROR);
    assertThat(n.getMessage()).contains("component probes").contains("InternalError");
  }

  @Test
  void runOutOfMemoryWithTheShippedJvmOptionsTheProcessEnds() throws Exception {
    Path options = Path.of("jvm.options").toAbsolutePath();
    assertThat(options).as("agent/jvm.options, what the launchers use").exists();
    Path out = root.resolve("agent.out");
    child = startAgentProcess(config("fatal", "probes:\n  interval: 500ms\n"), out, "@" + options, "-Dlockstep.inject-error=probes:oom");
    assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the agent ended").isTrue();
    assertThat(child.exitValue()).as(Files.readString(out)).isEqualTo(3);
    assertThat(Files.readString(out)).contains("Terminating due to java.lang.OutOfMemoryError");
  }
}
