package dev.lockstep.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SuppressWarnings("try") // agents are started for their side effects
class StopEnactmentTest {
  @TempDir Path root;
  TestGateway gateway;
  Path stopFile;
  Path hookLog;
  AgentConfig config;

  @BeforeEach
  void setUp() throws Exception {
    gateway = new TestGateway();
    stopFile = root.resolve("run/EMERGENCY_STOP");
    hookLog = root.resolve("hooks.log");
    config = Fixtures.config("a1", gateway, root).withHooks(
        "echo \"on_stop WORKFLOW_EMERGENCY_STOP=$WORKFLOW_EMERGENCY_STOP epoch=$LOCKSTEP_EPOCH incident=$LOCKSTEP_INCIDENT"
            + " reason=$LOCKSTEP_REASON scope=$LOCKSTEP_SCOPE agent=$LOCKSTEP_AGENT_ID\" >> " + hookLog,
        "echo \"on_resume WORKFLOW_EMERGENCY_STOP=$WORKFLOW_EMERGENCY_STOP epoch=$LOCKSTEP_EPOCH\" >> " + hookLog,
        "if [ \"$LOCKSTEP_MODE\" = STOPPED ]; then test -f \"$LOCKSTEP_STOP_FILE\"; else test ! -e \"$LOCKSTEP_STOP_FILE\"; fi");
  }

  @AfterEach
  void tearDown() throws Exception {
    gateway.close();
  }

  private List<String> hookLines() {
    try {
      return Files.exists(hookLog) ? Files.readAllLines(hookLog) : List.of();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static JsonNode json(Path p) throws Exception {
    return new ObjectMapper().readTree(Files.readAllBytes(p));
  }

  @Test
  void stopCommandWritesTheStopFileRunsTheHooksAndAcksVerified() throws Exception {
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      gateway.setStop(StopMode.STOPPED, "inc-7", "mismatch in billing.reconcile");
      Eventually.await("ack", () -> !gateway.stopAcks().isEmpty());
      StopAck ack = gateway.stopAcks().get(0);
      assertThat(ack.getEpoch()).isEqualTo(1);
      assertThat(ack.getMode()).isEqualTo(StopMode.STOPPED);
      assertThat(ack.getEnacted()).as(ack.getDetail()).isTrue();
      assertThat(ack.getVerified()).as(ack.getDetail()).isTrue();
      JsonNode stop = json(stopFile);
      assertThat(stop.get("epoch").asLong()).isEqualTo(1);
      assertThat(stop.get("mode").asText()).isEqualTo("STOPPED");
      assertThat(stop.get("incident_id").asText()).isEqualTo("inc-7");
      assertThat(stop.get("scope").get("fleet").asBoolean()).isTrue();
      assertThat(hookLines()).containsExactly("on_stop WORKFLOW_EMERGENCY_STOP=true epoch=1 incident=inc-7"
          + " reason=mismatch in billing.reconcile scope=fleet agent=a1");
      Eventually.await("enacted", () -> agent.enactedStop().epoch() == 1);
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.STOPPED);
      assertThat(Files.list(stopFile.getParent()).map(p -> p.getFileName().toString()))
          .as("no temp file left behind").containsExactly("EMERGENCY_STOP");
    }
  }

  @Test
  void resumeRemovesTheStopFileAndRunsOnResume() throws Exception {
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      gateway.setStop(StopMode.STOPPED, "inc-1", "x");
      Eventually.await("stopped", () -> Files.exists(stopFile) && gateway.stopAcks().size() == 1);
      gateway.setStop(StopMode.RUNNING, "", "fixed, verified 10x");
      Eventually.await("resume ack", () -> gateway.stopAcks().size() == 2);
      StopAck ack = gateway.stopAcks().get(1);
      assertThat(ack.getEpoch()).isEqualTo(2);
      assertThat(ack.getMode()).isEqualTo(StopMode.RUNNING);
      assertThat(ack.getVerified()).as(ack.getDetail()).isTrue();
      assertThat(stopFile).doesNotExist();
      assertThat(hookLines()).last().isEqualTo("on_resume WORKFLOW_EMERGENCY_STOP=false epoch=2");
    }
  }

  @Test
  void stopIssuedWhileDisconnectedIsEnactedOnReconnect() throws Exception {
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      gateway.stop();
      Eventually.await("disconnected", () -> !agent.isConnected());
      gateway.setStop(StopMode.STOPPED, "inc-9", "while you were out");
      assertThat(stopFile).doesNotExist();
      gateway.start();
      Eventually.await("stop file after reconnect", () -> Files.exists(stopFile));
      Eventually.await("ack", () -> gateway.stopAcks().size() == 1);
      assertThat(gateway.stopAcks().get(0).getEpoch()).isEqualTo(1);
      assertThat(json(stopFile).get("incident_id").asText()).isEqualTo("inc-9");
    }
  }

  @Test
  void agentRestartedWhileStoppedStaysStoppedAndReAcks() throws Exception {
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      gateway.setStop(StopMode.STOPPED, "inc-2", "x");
      Eventually.await("ack", () -> gateway.stopAcks().size() == 1);
    }
    gateway.stop();
    Files.delete(stopFile); // e.g. a tmpfs cleared by a reboot
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      assertThat(stopFile).as("rewritten at start, before any collector contact").exists();
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.STOPPED);
      assertThat(agent.enactedStop().epoch()).isEqualTo(1);
      Eventually.await("on_stop re-run", () -> hookLines().stream().filter(l -> l.startsWith("on_stop")).count() == 2);
      gateway.start();
      Eventually.await("ack re-sent to the (restarted) collector", () -> gateway.stopAcks().size() == 2);
      assertThat(gateway.stopAcks().get(1).getEpoch()).isEqualTo(1);
      assertThat(gateway.hellos().get(gateway.hellos().size() - 1).getEnactedStopEpoch()).isEqualTo(1);
      assertThat(stopFile).exists();
    }
  }

  @Test
  void failingHookIsAckedAsNotEnactedWithItsOutputAndRaisesANotice() throws Exception {
    AgentConfig c = config.withHooks("echo disable-workflows: permission denied >&2; exit 3", null, null);
    try (Agent agent = Agent.start(c, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      gateway.setStop(StopMode.STOPPED, "inc-3", "x");
      Eventually.await("ack", () -> gateway.stopAcks().size() == 1);
      StopAck ack = gateway.stopAcks().get(0);
      assertThat(ack.getEnacted()).isFalse();
      assertThat(ack.getVerified()).isFalse();
      assertThat(ack.getDetail()).contains("exit 3").contains("permission denied");
      assertThat(stopFile).as("the stop file is still written").exists();
      Eventually.await("notice", () -> gateway.events("a1", Event.BodyCase.NOTICE).stream()
          .anyMatch(e -> e.getNotice().getKind() == AgentNotice.Kind.HOOK_FAILED));
    }
  }

  @Test
  void hookThatHangsIsKilledAtItsTimeout() throws Exception {
    AgentConfig c = config.withHooks("sleep 30", null, null).withHookTimeout(Duration.ofMillis(300));
    try (Agent agent = Agent.start(c, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      long start = System.nanoTime();
      gateway.setStop(StopMode.STOPPED, "inc-4", "x");
      Eventually.await("ack", () -> gateway.stopAcks().size() == 1);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
      assertThat(gateway.stopAcks().get(0).getDetail()).contains("timed out");
      assertThat(gateway.stopAcks().get(0).getEnacted()).isFalse();
    }
  }

  @Test
  void failsafeStopsTheAgentAfterTheCollectorIsUnreachableLongEnoughAndTheCollectorCanResume() throws Exception {
    MutableClock clock = MutableClock.atSystemNow();
    AgentConfig c = config.withFailsafeAfter(Duration.ofMinutes(5));
    try (Agent agent = Agent.start(c, clock)) {
      Eventually.await("connected", agent::isConnected);
      gateway.stop();
      Eventually.await("disconnected", () -> !agent.isConnected());
      clock.advance(Duration.ofMinutes(4));
      Eventually.holdsFor("no fail-safe stop before the limit", Duration.ofMillis(500), () -> !Files.exists(stopFile));
      clock.advance(Duration.ofMinutes(2));
      Eventually.await("fail-safe stop", () -> Files.exists(stopFile));
      assertThat(json(stopFile).get("failsafe").asBoolean()).isTrue();
      Eventually.await("enacted fail-safe state", () -> agent.enactedStop().failsafe());
      gateway.start();
      Eventually.await("collector's RUNNING state wins after reconnect", () -> !Files.exists(stopFile));
      Eventually.await("fail-safe state replaced", () -> !agent.enactedStop().failsafe());
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.RUNNING);
      Eventually.await("fail-safe notice delivered", () -> gateway.events("a1", Event.BodyCase.NOTICE).stream()
          .anyMatch(e -> e.getNotice().getKind() == AgentNotice.Kind.FAILSAFE_STOP));
    }
  }

  @Test
  void failsafeIsOffByDefault() {
    assertThat(AgentConfig.defaults("a", "h:1", root).stop().failsafeAfter()).isNull();
  }
}
