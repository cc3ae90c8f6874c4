package dev.lockstep.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.proto.lite.v1.AgentNotice;
import dev.lockstep.proto.lite.v1.Event;
import dev.lockstep.proto.lite.v1.StopAck;
import dev.lockstep.proto.lite.v1.StopMode;
import dev.lockstep.proto.lite.v1.StopState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
        "echo \"on_stop WORKFLOW_EMERGENCY_STOP=$WORKFLOW_EMERGENCY_STOP generation=$LOCKSTEP_GENERATION"
            + " orders=$LOCKSTEP_ORDERS incident=$LOCKSTEP_INCIDENT"
            + " reason=$LOCKSTEP_REASON scope=$LOCKSTEP_SCOPE agent=$LOCKSTEP_AGENT_ID\" >> " + hookLog,
        "echo \"on_resume WORKFLOW_EMERGENCY_STOP=$WORKFLOW_EMERGENCY_STOP generation=$LOCKSTEP_GENERATION\" >> " + hookLog,
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
      Eventually.await("welcome acked", () -> ackOf(1) != null);
      StopState s = gateway.setStop(StopMode.STOPPED, "inc-7", "mismatch in billing.reconcile");
      StopAck ack = Eventually.value(Duration.ofSeconds(10), "ack", () -> ackOf(s.getGeneration()));
      assertThat(ack.getMode()).isEqualTo(StopMode.STOPPED);
      assertThat(ack.getEnacted()).as(ack.getDetail()).isTrue();
      assertThat(ack.getVerified()).as(ack.getDetail()).isTrue();
      JsonNode stop = json(stopFile);
      assertThat(stop.get("generation").asLong()).isEqualTo(2);
      assertThat(stop.get("mode").asText()).isEqualTo("STOPPED");
      assertThat(stop.get("orders").get(0).get("id").asText()).isEqualTo("ORD-2");
      assertThat(stop.get("orders").get(0).get("incident_id").asText()).isEqualTo("inc-7");
      assertThat(stop.get("orders").get(0).get("scope").get("fleet").asBoolean()).isTrue();
      assertThat(hookLines()).containsExactly("on_stop WORKFLOW_EMERGENCY_STOP=true generation=2"
          + " orders=ORD-2 incident=inc-7 reason=mismatch in billing.reconcile scope=fleet agent=a1");
      Eventually.await("enacted", () -> agent.enactedStop().generation() == 2);
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.STOPPED);
      assertThat(Files.list(stopFile.getParent()).map(p -> p.getFileName().toString()))
          .as("no temp file left behind").containsExactly("EMERGENCY_STOP");
    }
  }

  @Test
  void resumeRemovesTheStopFileAndRunsOnResume() throws Exception {
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      StopState stopped = gateway.setStop(StopMode.STOPPED, "inc-1", "x");
      Eventually.await("stopped", () -> Files.exists(stopFile) && ackOf(stopped.getGeneration()) != null);
      StopState resumed = gateway.setStop(StopMode.RUNNING, "", "fixed, verified 10x");
      StopAck ack = Eventually.value(Duration.ofSeconds(10), "resume ack", () -> ackOf(resumed.getGeneration()));
      assertThat(ack.getMode()).isEqualTo(StopMode.RUNNING);
      assertThat(ack.getVerified()).as(ack.getDetail()).isTrue();
      assertThat(stopFile).doesNotExist();
      assertThat(hookLines()).last().isEqualTo("on_resume WORKFLOW_EMERGENCY_STOP=false generation=3");
    }
  }

  @Test
  void stopIssuedWhileDisconnectedIsEnactedOnReconnect() throws Exception {
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      gateway.stop();
      Eventually.await("disconnected", () -> !agent.isConnected());
      StopState s = gateway.setStop(StopMode.STOPPED, "inc-9", "while you were out");
      assertThat(stopFile).doesNotExist();
      gateway.start();
      Eventually.await("stop file after reconnect", () -> Files.exists(stopFile));
      Eventually.await("ack", () -> ackOf(s.getGeneration()) != null);
      assertThat(json(stopFile).get("orders").get(0).get("incident_id").asText()).isEqualTo("inc-9");
    }
  }

  @Test
  void agentRestartedWhileStoppedStaysStoppedAndReAcks() throws Exception {
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      StopState s = gateway.setStop(StopMode.STOPPED, "inc-2", "x");
      Eventually.await("ack", () -> ackOf(s.getGeneration()) != null);
    }
    gateway.stop();
    Files.delete(stopFile); // e.g. a tmpfs cleared by a reboot
    int acks = gateway.stopAcks().size();
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      assertThat(stopFile).as("rewritten at start, before any collector contact").exists();
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.STOPPED);
      assertThat(agent.enactedStop().generation()).isEqualTo(2);
      Eventually.await("on_stop re-run", () -> hookLines().stream().filter(l -> l.startsWith("on_stop")).count() == 2);
      gateway.start();
      Eventually.await("ack re-sent to the (restarted) collector", () -> gateway.stopAcks().size() > acks);
      assertThat(gateway.stopAcks().get(gateway.stopAcks().size() - 1).getGeneration()).isEqualTo(2);
      var enacted = gateway.hellos().get(gateway.hellos().size() - 1).getEnactedStop();
      assertThat(enacted.getGeneration()).isEqualTo(2);
      assertThat(enacted.getMode()).isEqualTo(StopMode.STOPPED);
      assertThat(enacted.getOrders(0).getId()).isEqualTo("ORD-2");
      assertThat(stopFile).exists();
    }
  }

  @Test
  void failingHookIsAckedAsNotEnactedWithItsOutputAndRaisesANotice() throws Exception {
    AgentConfig c = config.withHooks("echo disable-workflows: permission denied >&2; exit 3", null, null);
    try (Agent agent = Agent.start(c, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      StopState s = gateway.setStop(StopMode.STOPPED, "inc-3", "x");
      StopAck ack = Eventually.value(Duration.ofSeconds(10), "ack", () -> ackOf(s.getGeneration()));
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
      StopState s = gateway.setStop(StopMode.STOPPED, "inc-4", "x");
      StopAck ack = Eventually.value(Duration.ofSeconds(10), "ack", () -> ackOf(s.getGeneration()));
      assertThat(ack.getDetail()).contains("timed out");
      assertThat(ack.getEnacted()).isFalse();
    }
  }

  /** Progress lines of the agent under test (the agent's own thread adds them). */
  private final List<String> progress = new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * Starts an agent with a fail-safe after 5 minutes whose wall clock and monotonic time are
   * {@code clock}'s; returns it once it was connected and has seen the collector go.
   */
  private Agent disconnectedFailsafeAgent(MutableClock clock) throws Exception {
    Agent agent = Agent.start(config.withFailsafeAfter(Duration.ofMinutes(5)), clock, clock::nanoTime, progress::add);
    try {
      Eventually.await("connected", agent::isConnected);
      disconnect();
      return agent;
    } catch (Exception | AssertionError e) {
      agent.close();
      throw e;
    }
  }

  /** Stops the gateway; returns once the agent has seen the disconnection (and noted when). */
  private void disconnect() throws Exception {
    long before = progress.stream().filter(l -> l.startsWith("disconnected from")).count();
    gateway.stop();
    Eventually.await("disconnected", () -> progress.stream().filter(l -> l.startsWith("disconnected from"))
        .count() > before);
  }

  @Test
  void failsafeStopHoldsUntilAResumeReleasesIt() throws Exception {
    MutableClock clock = MutableClock.atSystemNow();
    try (Agent agent = disconnectedFailsafeAgent(clock)) {
      clock.advance(Duration.ofMinutes(4));
      Eventually.holdsFor("no fail-safe stop before the limit", Duration.ofMillis(500), () -> !Files.exists(stopFile));
      clock.advance(Duration.ofMinutes(2));
      Eventually.await("fail-safe stop", () -> Files.exists(stopFile));
      assertThat(json(stopFile).get("failsafe").asBoolean()).isTrue();
      Eventually.await("enacted fail-safe state", () -> agent.enactedStop().local() && agent.enactedStop().done());
      String order = agent.enactedStop().heldOrderIds().get(0);
      assertThat(order).startsWith("FAILSAFE-a1-");
      gateway.start();
      Eventually.await("hello reports the fail-safe order", () -> gateway.hellos().stream().anyMatch(h ->
          h.getEnactedStop().getMode() == StopMode.STOPPED && h.getEnactedStop().getOrders(0).getId().equals(order)));
      // This gateway's RUNNING does not release the agent's order: the agent stays stopped.
      StopAck refused = Eventually.value(Duration.ofSeconds(10), "refusal", () -> gateway.stopAcks().stream()
          .filter(a -> a.getDetail().contains("does not release")).findFirst().orElse(null));
      assertThat(refused.getGeneration()).isEqualTo(gateway.desired().getGeneration());
      assertThat(refused.getEnacted()).isFalse();
      assertThat(refused.getDetail()).contains("does not release").contains(order);
      assertThat(stopFile).exists();
      // An operator resumes it (the collector adopted it as an order): released, the agent runs.
      StopState resume = gateway.push(StopState.newBuilder().setGeneration(gateway.desired().getGeneration() + 1)
          .setMode(StopMode.RUNNING).addReleasedOrderIds(order).setReason("network fixed").build());
      StopAck ok = Eventually.value(Duration.ofSeconds(10), "resume ack", () -> ackOf(resume.getGeneration()));
      assertThat(ok.getEnacted()).as(ok.getDetail()).isTrue();
      assertThat(stopFile).doesNotExist();
      Eventually.await("fail-safe notice delivered", () -> gateway.events("a1", Event.BodyCase.NOTICE).stream()
          .anyMatch(e -> e.getNotice().getKind() == AgentNotice.Kind.FAILSAFE_STOP));
    }
  }

  /**
   * The host's wall clock is set back (or forward) an hour while the agent is disconnected: the
   * fail-safe still comes after failsafe_after of monotonic time, neither an hour late (back) nor
   * at once (forward); the order's issued_at is the wall clock's, as shown.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(longs = {-60, 60})
  void theFailsafeComesAfterFailsafeAfterWhateverTheWallClockDoes(long jumpMinutes) throws Exception {
    MutableClock clock = MutableClock.atSystemNow();
    try (Agent agent = disconnectedFailsafeAgent(clock)) {
      clock.jump(Duration.ofMinutes(jumpMinutes));
      clock.advance(Duration.ofMinutes(4));
      Eventually.holdsFor("no fail-safe stop before the limit", Duration.ofMillis(1500), () -> !Files.exists(stopFile));
      clock.advance(Duration.ofMinutes(2));
      Eventually.await("fail-safe stop after 6 minutes disconnected", () -> Files.exists(stopFile));
      Eventually.await("enacted fail-safe state", () -> agent.enactedStop().local() && agent.enactedStop().done());
      dev.lockstep.proto.lite.v1.StopOrder order = agent.enactedStop().state().getOrders(0);
      assertThat(order.getId()).startsWith("FAILSAFE-a1-");
      assertThat(order.getIssuedAt().getSeconds()).isEqualTo(clock.instant().getEpochSecond());
    }
  }

  /**
   * A fail-safe stop is adopted by the collector and resumed; the host's clock is set back, and
   * the next fail-safe stop comes at the same wall-clock millisecond as the first. Its order must
   * not take the first's id, or the collector's RUNNING — which releases every held order it
   * knows as resumed — resumes the agent at once (here: that RUNNING again, as its Welcome).
   */
  @Test
  void twoFailsafeStopsAtTheSameWallClockMillisecondHoldDifferentOrders() throws Exception {
    MutableClock clock = MutableClock.atSystemNow();
    try (Agent agent = disconnectedFailsafeAgent(clock)) {
      clock.advance(Duration.ofMinutes(6));
      Eventually.await("first fail-safe stop", () -> agent.enactedStop().local() && agent.enactedStop().done());
      dev.lockstep.proto.lite.v1.StopOrder first = agent.enactedStop().state().getOrders(0);
      gateway.start();
      Eventually.await("connected again", agent::isConnected);
      StopState resume = gateway.push(StopState.newBuilder().setGeneration(gateway.desired().getGeneration() + 1)
          .setMode(StopMode.RUNNING).addReleasedOrderIds(first.getId()).setReason("network fixed").build());
      StopAck ok = Eventually.value(Duration.ofSeconds(10), "resume ack", () -> ackOf(resume.getGeneration()));
      assertThat(ok.getEnacted()).as(ok.getDetail()).isTrue();
      assertThat(stopFile).doesNotExist();

      clock.jump(Duration.ofMinutes(-6)); // the next 6 minutes repeat the first fail-safe's
      disconnect();
      clock.advance(Duration.ofMinutes(6));
      Eventually.await("second fail-safe stop", () -> agent.enactedStop().local() && agent.enactedStop().done());
      dev.lockstep.proto.lite.v1.StopOrder second = agent.enactedStop().state().getOrders(0);
      assertThat(second.getIssuedAt()).as("the same wall-clock time").isEqualTo(first.getIssuedAt());
      int acks = gateway.stopAcks().size();
      gateway.start();
      StopAck answered = Eventually.value(Duration.ofSeconds(10), "the Welcome's RUNNING answered", () ->
          gateway.stopAcks().stream().skip(acks).filter(a -> a.getGeneration() == resume.getGeneration()
              && a.getMode() == StopMode.RUNNING).findFirst().orElse(null));
      assertThat(answered.getEnacted()).as(answered.getDetail()).isFalse();
      assertThat(answered.getDetail()).contains("does not release").contains(second.getId());
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.STOPPED);
      assertThat(stopFile).exists();
      assertThat(second.getId()).startsWith("FAILSAFE-a1-").isNotEqualTo(first.getId());
    }
  }

  private static dev.lockstep.proto.lite.v1.StopOrder order(String id) {
    return dev.lockstep.proto.lite.v1.StopOrder.newBuilder().setId(id)
        .setScope(dev.lockstep.proto.lite.v1.StopScope.newBuilder().setFleet(true)).setReason("x").setIssuedBy("test").build();
  }

  @Test
  void aNewerStopNamingOtherOrdersKeepsTheHeldOnesUntilARunningReleasesThemAll() throws Exception {
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      StopState first = gateway.push(StopState.newBuilder().setGeneration(10).setMode(StopMode.STOPPED)
          .addOrders(order("ORD-A")).build());
      Eventually.await("first stop acked", () -> ackOf(first.getGeneration()) != null);
      // A store restored from a backup that never saw ORD-A names only its own order.
      StopState second = gateway.push(StopState.newBuilder().setGeneration(11).setMode(StopMode.STOPPED)
          .addOrders(order("ORD-B")).build());
      StopAck both = Eventually.value(Duration.ofSeconds(10), "second ack", () -> ackOf(second.getGeneration()));
      assertThat(both.getEnacted()).as(both.getDetail()).isTrue();
      assertThat(both.getHeldOrdersList()).extracting(dev.lockstep.proto.lite.v1.StopOrder::getId)
          .as("the ack tells the collector every order the agent holds").containsExactlyInAnyOrder("ORD-A", "ORD-B");
      assertThat(agent.enactedStop().heldOrderIds()).containsExactlyInAnyOrder("ORD-A", "ORD-B");
      StopState partial = gateway.push(StopState.newBuilder().setGeneration(12).setMode(StopMode.RUNNING)
          .addReleasedOrderIds("ORD-B").build());
      StopAck refused = Eventually.value(Duration.ofSeconds(10), "refusal", () -> ackOf(partial.getGeneration()));
      assertThat(refused.getEnacted()).isFalse();
      assertThat(refused.getDetail()).contains("does not release").contains("ORD-A");
      assertThat(refused.getHeldOrdersList()).extracting(dev.lockstep.proto.lite.v1.StopOrder::getId).contains("ORD-A");
      assertThat(stopFile).exists();
      StopState all = gateway.push(StopState.newBuilder().setGeneration(13).setMode(StopMode.RUNNING)
          .addReleasedOrderIds("ORD-A").addReleasedOrderIds("ORD-B").build());
      StopAck ok = Eventually.value(Duration.ofSeconds(10), "resume ack", () -> ackOf(all.getGeneration()));
      assertThat(ok.getEnacted()).as(ok.getDetail()).isTrue();
      assertThat(ok.getHeldOrdersList()).isEmpty();
      assertThat(stopFile).doesNotExist();
    }
  }

  @Test
  void aStopPreemptsAResumeHookAndKillsItsProcessGroup() throws Exception {
    Path pids = root.resolve("resume.pids");
    AgentConfig c = config.withHooks("true", "echo $$ > " + pids + "; sleep 60 & echo $! >> " + pids + "; wait", null)
        .withHookTimeout(Duration.ofMinutes(5));
    try (Agent agent = Agent.start(c, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      StopState first = gateway.setStop(StopMode.STOPPED, "inc-5", "x");
      Eventually.await("stopped", () -> ackOf(first.getGeneration()) != null);
      gateway.setStop(StopMode.RUNNING, "", "looks fixed");
      Eventually.await("resume hook running", () -> pidsIn(pids).size() == 2);
      List<Long> hookPids = pidsIn(pids);
      StopState again = gateway.setStop(StopMode.STOPPED, "inc-6", "not fixed after all");
      StopAck ack = Eventually.value(Duration.ofSeconds(10), "stop ack while the resume hook would still sleep",
          () -> ackOf(again.getGeneration()));
      assertThat(ack.getEnacted()).as(ack.getDetail()).isTrue();
      assertThat(stopFile).exists();
      for (long pid : hookPids) {
        Eventually.await("resume hook process " + pid + " killed",
            () -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
      }
    }
  }

  @Test
  void theStopIsBackInForceBeforeAnythingThatCanFailAtStartUp() throws Exception {
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      StopState s = gateway.setStop(StopMode.STOPPED, "inc-8", "x");
      Eventually.await("ack", () -> ackOf(s.getGeneration()) != null);
    }
    Files.delete(stopFile);
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      AgentConfig clash = config.withMetricsPort(taken.getLocalPort());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> Agent.start(clash, Clock.systemUTC()).close())
          .hasMessageContaining(String.valueOf(taken.getLocalPort()));
    }
    assertThat(stopFile).as("re-applied although the agent could not start").exists();
    assertThat(json(stopFile).get("generation").asLong()).isEqualTo(2);
  }

  private StopAck ackOf(long generation) {
    for (StopAck a : gateway.stopAcks()) {
      if (a.getGeneration() == generation) return a;
    }
    return null;
  }

  private static List<Long> pidsIn(Path p) {
    try {
      return Files.exists(p) ? Files.readAllLines(p).stream().map(String::trim).filter(l -> !l.isEmpty())
          .map(Long::parseLong).toList() : List.of();
    } catch (java.io.IOException e) {
      return List.of();
    }
  }

  @Test
  void failsafeIsOffByDefault() {
    assertThat(AgentConfig.defaults("a", "h:1", root).stop().failsafeAfter()).isNull();
  }
  /**
   * Stopped, then resumed; returns the bytes of the stop file this agent wrote while stopped (what
   * a kill after the resume was saved but before the file was deleted leaves behind).
   */
  private byte[] stopThenResume() throws Exception {
    byte[] written;
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      StopState stopped = gateway.setStop(StopMode.STOPPED, "inc-1", "x");
      Eventually.await("stopped", () -> Files.exists(stopFile) && ackOf(stopped.getGeneration()) != null);
      written = Files.readAllBytes(stopFile);
      StopState resumed = gateway.setStop(StopMode.RUNNING, "", "fixed");
      Eventually.await("resumed", () -> ackOf(resumed.getGeneration()) != null);
      assertThat(stopFile).doesNotExist();
    }
    gateway.stop();
    return written;
  }

  /**
   * A RUNNING older than the stop in force (a collector behind after a fail-over) is ignored: no
   * resume, no ack for it; the next resume, newer, is enacted.
   */
  @Test
  void anOlderRunningDoesNotUndoANewerStop() throws Exception {
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      StopState stopped = gateway.setStop(StopMode.STOPPED, "inc-1", "x");
      Eventually.await("stopped", () -> ackOf(stopped.getGeneration()) != null);
      gateway.push(StopState.newBuilder().setGeneration(stopped.getGeneration() - 1)
          .setMode(StopMode.RUNNING).addAllReleasedOrderIds(List.of("ORD-" + stopped.getGeneration()))
          .setReason("stale").build());
      gateway.push(stopped); // the gateway's own state back: its next change takes generation 3
      StopState resumed = gateway.setStop(StopMode.RUNNING, "", "fixed");
      assertThat(resumed.getGeneration()).isEqualTo(stopped.getGeneration() + 1);
      Eventually.await("the newer resume acked", () -> ackOf(resumed.getGeneration()) != null);
      assertThat(gateway.stopAcks()).filteredOn(a -> a.getMode() == StopMode.RUNNING)
          .as("RUNNING acked: the Welcome's and the newer resume's only").extracting(StopAck::getGeneration)
          .containsOnly(1L, resumed.getGeneration());
      assertThat(hookLines().stream().filter(l -> l.startsWith("on_resume"))).singleElement()
          .asString().endsWith("generation=" + resumed.getGeneration());
    }
  }

  /**
   * The stop file removed while stopped and impossible to write again (a file where its directory
   * was): the agent says so (a notice, and an ack NOT enacted with the reason, which the collector
   * counts as FAILED), and acks the stop as enacted again once the file is back.
   */
  @Test
  void aStopFileThatCannotBeWrittenAgainIsAckedNotEnactedUntilItIsBack() throws Exception {
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      StopState stopped = gateway.setStop(StopMode.STOPPED, "inc-1", "x");
      Eventually.await("stopped", () -> ackOf(stopped.getGeneration()) != null && Files.exists(stopFile));
      Path dir = stopFile.getParent();
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) Files.delete(f);
      }
      Files.delete(dir);
      Files.writeString(dir, "a file where the stop file's directory was");
      StopAck failed = Eventually.value(Duration.ofSeconds(10), "an ack NOT enacted", () ->
          gateway.stopAcks().stream().filter(a -> a.getGeneration() == stopped.getGeneration()
              && !a.getEnacted()).findFirst().orElse(null));
      assertThat(failed.getDetail()).contains("cannot be written again");
      Eventually.await("a notice", () -> gateway.events("a1", Event.BodyCase.NOTICE).stream()
          .anyMatch(e -> e.getNotice().getMessage().contains("cannot be written again")));
      int acks = gateway.stopAcks().size();
      Files.delete(dir);
      Eventually.await("the stop file back, acked as enacted", () -> Files.exists(stopFile)
          && gateway.stopAcks().stream().skip(acks).anyMatch(a ->
              a.getGeneration() == stopped.getGeneration() && a.getEnacted()));
    }
  }

  /** A kill between saving a resume and deleting the stop file: the restart finishes the resume. */
  @Test
  void aResumeInterruptedBeforeItsStopFileWasDeletedIsFinishedAtRestart() throws Exception {
    Files.write(stopFile, stopThenResume());
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.RUNNING);
      assertThat(stopFile).doesNotExist();
    }
  }

  /**
   * After a stop and a resume, a stop file the agent did not write — an operator's {@code touch},
   * an unreadable file, another agent's — still means STOPPED at start-up and is kept, whatever
   * sequence the agent's own resume had.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"touched", "not json", "another agent's"})
  void aStopFileThisAgentDidNotWriteMeansStoppedEvenAfterAResume(String kind) throws Exception {
    String ours = new String(stopThenResume(), java.nio.charset.StandardCharsets.UTF_8);
    String file = switch (kind) {
      case "touched" -> "";
      case "not json" -> "{\"generation\": ";
      default -> ours.replace("\"a1\"", "\"a2\"");
    };
    assertThat(file).isNotEqualTo(ours);
    Files.writeString(stopFile, file);
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.STOPPED);
      assertThat(stopFile).exists();
    }
  }

  /**
   * An operator's touched stop file at start-up is a local order; the collector adopts it and an
   * operator resumes it. The state file is lost (a re-imaged host) and the file touched again:
   * the new local order must not take the old one's id, or the collector's RUNNING — which
   * releases every order the agent says it holds that it knows as resumed — resumes the agent
   * at once (here: the same RUNNING again, as that collector would send in its Welcome).
   */
  @Test
  void aLocalStopAfterTheStateFileIsLostNeverTakesTheIdOfOneAResumeReleased() throws Exception {
    Files.createDirectories(stopFile.getParent());
    Files.writeString(stopFile, "");
    String first;
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.STOPPED);
      first = agent.enactedStop().heldOrderIds().get(0);
      assertThat(first).startsWith("LOCAL-a1-");
      Eventually.await("connected", agent::isConnected);
      StopState resume = gateway.push(StopState.newBuilder().setGeneration(5).setMode(StopMode.RUNNING)
          .addReleasedOrderIds(first).setReason("operator resumed the adopted order").build());
      StopAck ok = Eventually.value(Duration.ofSeconds(10), "resume ack", () -> ackOf(resume.getGeneration()));
      assertThat(ok.getEnacted()).as(ok.getDetail()).isTrue();
      assertThat(stopFile).doesNotExist();
    }
    Files.delete(config.stateDir().resolve("stop-enacted.json"));
    Files.writeString(stopFile, "");
    int acks = gateway.stopAcks().size();
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.STOPPED);
      String second = agent.enactedStop().heldOrderIds().get(0);
      StopAck refused = Eventually.value(Duration.ofSeconds(10), "the Welcome's RUNNING answered", () ->
          gateway.stopAcks().stream().skip(acks).filter(a -> a.getGeneration() == 5).findFirst().orElse(null));
      assertThat(refused.getEnacted()).as(refused.getDetail()).isFalse();
      assertThat(refused.getDetail()).contains("does not release").contains(second);
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.STOPPED);
      assertThat(stopFile).exists();
      assertThat(second).startsWith("LOCAL-a1-").isNotEqualTo(first);
    }
  }

  /**
   * Stopped, then the host loses power: the stop file (on a tmpfs) is gone and the state file is
   * unreadable. The agent cannot tell it was not stopped: it starts STOPPED under a local order,
   * with the collector unreachable, and says why once the collector is back.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"truncated", "empty", "garbage"})
  void anUnreadableStateFileWithoutAStopFileStartsStoppedAndSaysSo(String kind) throws Exception {
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      StopState s = gateway.setStop(StopMode.STOPPED, "inc-2", "x");
      Eventually.await("ack", () -> ackOf(s.getGeneration()) != null);
    }
    gateway.stop();
    Files.delete(stopFile);
    Path state = config.stateDir().resolve("stop-enacted.json");
    byte[] bytes = Files.readAllBytes(state);
    Files.write(state, switch (kind) {
      case "truncated" -> java.util.Arrays.copyOf(bytes, bytes.length / 2);
      case "empty" -> new byte[0];
      default -> "\u0000\u0000garbage".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    });
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.STOPPED);
      assertThat(agent.enactedStop().heldOrderIds()).singleElement().asString().startsWith("LOCAL-a1-");
      assertThat(stopFile).as("written at start, with no collector").exists();
      Eventually.await("on_stop re-run", () -> hookLines().stream().filter(l -> l.startsWith("on_stop")).count() == 2);
      gateway.start();
      Eventually.await("a notice naming the state file", () -> gateway.events("a1", Event.BodyCase.NOTICE).stream()
          .anyMatch(e -> e.getNotice().getMessage().contains("stop-enacted.json")));
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.STOPPED);
    }
  }

  /**
   * on_stop fails once (here: exit 3 the first time; a busy systemd, an OOM kill). The failure is
   * acked NOT enacted — and then the stop is enacted again on its own, without a restart or a
   * resend, until it succeeds and is acked enacted and verified.
   */
  @Test
  void aStopWhoseHookFailedIsEnactedAgainUntilItSucceeds() throws Exception {
    Path once = root.resolve("failed-once");
    AgentConfig c = config.withHooks("if [ -e " + once + " ]; then echo on_stop >> " + hookLog + "; else : > " + once
        + "; echo busy >&2; exit 3; fi", null, null);
    try (Agent agent = Agent.start(c, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      StopState s = gateway.setStop(StopMode.STOPPED, "inc-3", "x");
      StopAck failed = Eventually.value(Duration.ofSeconds(10), "ack", () -> ackOf(s.getGeneration()));
      assertThat(failed.getEnacted()).isFalse();
      StopAck ok = Eventually.value(Duration.ofSeconds(20), "the stop enacted again", () -> gateway.stopAcks().stream()
          .filter(a -> a.getGeneration() == s.getGeneration() && a.getEnacted()).findFirst().orElse(null));
      assertThat(ok.getVerified()).as(ok.getDetail()).isTrue();
      assertThat(hookLines()).containsExactly("on_stop");
      assertThat(agent.enactedStop().ack().getEnacted()).isTrue();
    }
  }

  /**
   * A resume whose state file cannot be written (here: a directory where its temp file goes).
   * Nothing changed on disk, and a restart would be STOPPED: the agent stays STOPPED — no
   * on_resume, the stop file kept, an ack NOT enacted saying why, a notice — and enacts the
   * resume again on its own (monotonic time moved here), until the file can be written.
   */
  @Test
  void aResumeWhoseStateFileCannotBeWrittenStaysStoppedAndIsEnactedAgainLater() throws Exception {
    MutableClock clock = MutableClock.atSystemNow();
    try (Agent agent = Agent.start(config, clock, clock::nanoTime, progress::add)) {
      Eventually.await("connected", agent::isConnected);
      StopState stopped = gateway.setStop(StopMode.STOPPED, "inc-1", "x");
      Eventually.await("stopped", () -> ackOf(stopped.getGeneration()) != null && Files.exists(stopFile));
      Path blocked = config.stateDir().resolve(".stop-enacted.json.tmp/blocked");
      Files.createDirectories(blocked);
      StopState resumed = gateway.setStop(StopMode.RUNNING, "", "fixed");
      StopAck failed = Eventually.value(Duration.ofSeconds(10), "resume ack", () -> ackOf(resumed.getGeneration()));
      assertThat(failed.getEnacted()).isFalse();
      assertThat(hookLines()).as("on_resume not run").noneMatch(l -> l.startsWith("on_resume"));
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.STOPPED);
      assertThat(stopFile).exists();
      assertThat(failed.getDetail()).contains("stop-enacted.json").contains("staying STOPPED");
      assertThat(failed.getHeldOrdersList()).extracting(dev.lockstep.proto.lite.v1.StopOrder::getId)
          .containsExactly("ORD-" + stopped.getGeneration());
      Eventually.await("a notice", () -> gateway.events("a1", Event.BodyCase.NOTICE).stream()
          .anyMatch(e -> e.getNotice().getMessage().startsWith("resume not enacted")));

      Eventually.await("tried again on its own, failing again", () -> {
        clock.advance(Duration.ofSeconds(5));
        return gateway.stopAcks().stream().filter(a -> a.getGeneration() == resumed.getGeneration()).count() >= 2;
      });
      assertThat(gateway.stopAcks()).filteredOn(a -> a.getGeneration() == resumed.getGeneration())
          .noneMatch(StopAck::getEnacted);
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.STOPPED);
      assertThat(hookLines()).noneMatch(l -> l.startsWith("on_resume"));

      Files.delete(blocked);
      Files.delete(blocked.getParent());
      StopAck ok = Eventually.value(Duration.ofSeconds(10), "the resume enacted again", () -> {
        clock.advance(Duration.ofSeconds(5));
        return gateway.stopAcks().stream().filter(a -> a.getGeneration() == resumed.getGeneration()
            && a.getEnacted()).findFirst().orElse(null);
      });
      assertThat(ok.getVerified()).as(ok.getDetail()).isTrue();
      assertThat(agent.enactedStop().mode()).isEqualTo(StopMode.RUNNING);
      assertThat(stopFile).doesNotExist();
      assertThat(hookLines()).filteredOn(l -> l.startsWith("on_resume")).singleElement().asString()
          .endsWith("generation=" + resumed.getGeneration());
    }
  }

  // The stop file's directory is one the workloads look at, and may write (deploy/config/agent.yaml:
  // /var/lib/aos): what a workload plants at the temporary name must neither misdirect a root
  // agent's write nor block the stop.

  @Test
  void aSymlinkPlantedAtTheStopFilesTemporaryNameIsNotWrittenThrough() throws Exception {
    Path victim = Files.writeString(root.resolve("passwd"), "root:x:0:0::/root:/bin/sh\n");
    Files.createDirectories(stopFile.getParent());
    Files.createSymbolicLink(stopFile.resolveSibling(".EMERGENCY_STOP.tmp"), victim);
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      StopState s = gateway.setStop(StopMode.STOPPED, "inc-l", "mismatch");
      StopAck ack = Eventually.value(Duration.ofSeconds(10), "ack", () -> ackOf(s.getGeneration()));
      assertThat(ack.getEnacted()).as(ack.getDetail()).isTrue();
      assertThat(Files.readString(victim)).isEqualTo("root:x:0:0::/root:/bin/sh\n");
      assertThat(Files.isSymbolicLink(stopFile)).isFalse();
      assertThat(json(stopFile).get("mode").asText()).isEqualTo("STOPPED");
    }
  }

  @Test
  void aFifoPlantedAtTheStopFilesTemporaryNameDoesNotBlockTheStop() throws Exception {
    Files.createDirectories(stopFile.getParent());
    Path fifo = stopFile.resolveSibling(".EMERGENCY_STOP.tmp");
    Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    assertThat(mk.waitFor(10, TimeUnit.SECONDS)).isTrue();
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      StopState s = gateway.setStop(StopMode.STOPPED, "inc-f", "mismatch");
      StopAck ack = Eventually.value(Duration.ofSeconds(15), "ack", () -> ackOf(s.getGeneration()));
      assertThat(ack.getEnacted()).as(ack.getDetail()).isTrue();
      assertThat(json(stopFile).get("mode").asText()).isEqualTo("STOPPED");
      assertThat(hookLines()).anyMatch(l -> l.startsWith("on_stop WORKFLOW_EMERGENCY_STOP=true"));
    } finally {
      // unblock a writer stuck in open(2) on the FIFO (the unfixed agent), so the test ends
      new ProcessBuilder("timeout", "2", "cat", fifo.toString()).start().waitFor(5, TimeUnit.SECONDS);
    }
  }
}
