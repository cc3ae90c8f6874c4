package dev.lockstep.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.proto.v1.Event;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real agent process, killed with SIGKILL while it is sending, then restarted. */
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

  private Process startAgent(Path config, Path out) throws Exception {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-XX:+UseSerialGC", "-Xmx64m", "-XX:TieredStopAtLevel=1",
        "-cp", cp, "dev.lockstep.agent.AgentMain", "--config", config.toString());
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()));
    return pb.start();
  }

  @Test
  void killNineWhileSendingThenRestartLeavesEveryEventStoredExactlyOnce() throws Exception {
    Path golden = Files.createDirectories(root.resolve("golden"));
    Path config = root.resolve("agent.yaml");
    Files.writeString(config, """
        agent_id: crashy
        state_dir: %s
        collector:
          address: %s
          insecure: true
          reconnect_initial: 100ms
          reconnect_max: 400ms
        golden:
          dirs: [%s]
          settle: 100ms
          rescan_interval: 300ms
        stop:
          file: %s
        """.formatted(root.resolve("state"), gateway.target(), golden, root.resolve("STOP")));
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
    Path config = root.resolve("agent.yaml");
    Files.writeString(config, """
        agent_id: hooked
        state_dir: %s
        collector:
          address: %s
          insecure: true
          reconnect_initial: 100ms
          reconnect_max: 400ms
        stop:
          file: %s
          on_stop: "if [ -f %s ]; then touch %s; sleep 60; fi"
          hook_timeout: 5m
        """.formatted(root.resolve("state"), gateway.target(), stopFile, slow, inHook));
    Path out = root.resolve("agent.out");
    child = startAgent(config, out);
    Eventually.await("connected", Duration.ofSeconds(30), () -> !gateway.hellos().isEmpty());
    var first = gateway.setStop(dev.lockstep.proto.v1.StopMode.STOPPED, "INC-1", "first");
    Eventually.await("first stop acked", Duration.ofSeconds(30), () -> gateway.stopAcks().stream()
        .anyMatch(a -> a.getGeneration() == first.getGeneration()));
    var resume = gateway.setStop(dev.lockstep.proto.v1.StopMode.RUNNING, "", "fixed");
    Eventually.await("resume acked", Duration.ofSeconds(30), () -> gateway.stopAcks().stream()
        .anyMatch(a -> a.getGeneration() == resume.getGeneration()));
    assertThat(stopFile).doesNotExist();
    Files.writeString(slow, "");
    var second = gateway.setStop(dev.lockstep.proto.v1.StopMode.STOPPED, "INC-2", "not fixed after all");
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
}
