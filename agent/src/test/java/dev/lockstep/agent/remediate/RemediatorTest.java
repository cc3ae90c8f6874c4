package dev.lockstep.agent.remediate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.Eventually;
import dev.lockstep.agent.logs.LogStats;
import dev.lockstep.agent.logs.TestLogStats;
import dev.lockstep.agent.probe.ProcFs;
import dev.lockstep.proto.lite.v1.Remediation;
import dev.lockstep.proto.lite.v1.Remediation.Action;
import dev.lockstep.proto.lite.v1.Remediation.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The remediation rules with real processes: restart commands, TERM and KILL. */
class RemediatorTest {
  static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  final String marker = "lockstep-remediator-test-" + UUID.randomUUID();
  final List<Remediation> reports = new CopyOnWriteArrayList<>();
  final AtomicReference<Optional<String>> stop = new AtomicReference<>(Optional.empty());
  final List<Process> started = new ArrayList<>();
  Remediator remediator;

  final Remediator.Host host = new Remediator.Host() {
    @Override
    public List<ProcFs.Proc> find(String process) {
      return ProcFs.matching(Pattern.compile(Pattern.quote(marker))).stream().filter(p -> p.state() != 'Z').toList();
    }

    @Override
    public Optional<String> stopCovering() {
      return stop.get();
    }

    @Override
    public void report(Remediation r) {
      reports.add(r);
    }
  };

  /** A restart command in the playbook's style: backgrounds the engine (nohup ... &) and exits. */
  String restartCommand() {
    return "echo \"$LOCKSTEP_REMAINING_HOURS\" >> " + dir.resolve("hours") + "; nohup sh -c 'sleep 120; : " + marker
        + "' >/dev/null 2>&1 &";
  }

  Remediator remediator(int maxPerDay, boolean unstick) {
    Remediator.Restart restart = new Remediator.Restart(restartCommand(), 5, 120, 24, maxPerDay,
        Duration.ofSeconds(10), Duration.ofSeconds(10));
    remediator = new Remediator(List.of(new Remediator.Policy("shadow", restart,
        unstick ? new Remediator.Unstick(Duration.ofMillis(500), Duration.ofSeconds(5)) : null)),
        dir.resolve("state/remediation.log"), host, Clock.systemUTC());
    return remediator;
  }

  @AfterEach
  void cleanUp() {
    if (remediator != null) remediator.close();
    for (ProcFs.Proc p : host.find("shadow")) ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
    started.forEach(Process::destroyForcibly);
  }

  Remediation awaitReport(int n) {
    return Eventually.value(WAIT, "remediation report " + n, () -> reports.size() >= n ? reports.get(n - 1) : null);
  }

  List<String> hours() throws Exception {
    return Files.exists(dir.resolve("hours")) ? Files.readAllLines(dir.resolve("hours")) : List.of();
  }

  @Test
  void aCleanExitIsRestartedForTheRemainingHoursThePlaybooksWay() throws Exception {
    Remediator r = remediator(3, false);
    // 610 "Running cycle" lines at 120 an hour: 5 hours done, 19 of 24 left; 6 clean cycles since the last error
    LogStats stats = TestLogStats.of(610, List.of("ERROR: old trouble"), 6);
    r.processDown("shadow", 4242, Instant.now(), "CLEAN", List.of("cycle 610: 0 mismatches"), stats, "/var/log/shadow.log");
    Remediation done = awaitReport(1);
    assertThat(done.getOutcome()).as(done.toString()).isEqualTo(Outcome.DONE);
    assertThat(done.getAction()).isEqualTo(Action.RESTART);
    assertThat(done.getRemainingHours()).isEqualTo(19);
    assertThat(hours()).containsExactly("19");
    assertThat(done.getNewPid()).isPositive();
    assertThat(ProcessHandle.of(done.getNewPid())).hasValueSatisfying(h -> assertThat(h.isAlive()).isTrue());
    assertThat(done.getOldPid()).isEqualTo(4242);
    assertThat(done.getRestartsToday()).isEqualTo(1);
    assertThat(done.getReason()).contains("last 6 cycle(s) clean", "19 h of 24 h remaining");
    // the same death reported again on the next probe tick is not restarted twice
    r.processDown("shadow", 4242, Instant.ofEpochSecond(done.getNewPid()), "CLEAN", List.of(), stats, "");
    assertThat(r.decisions()).isEqualTo(2).as("a new identity (since differs) is a new death");
  }

  @Test
  void aCrashIsNeverRestarted() throws Exception {
    Remediator r = remediator(3, false);
    LogStats stats = TestLogStats.of(100, List.of(), 10);
    r.processDown("shadow", 77, Instant.now(), "CRASH", List.of("java.lang.OutOfMemoryError: Java heap space"), stats, "");
    Remediation skipped = awaitReport(1);
    assertThat(skipped.getOutcome()).isEqualTo(Outcome.SKIPPED);
    assertThat(skipped.getReason()).contains("crash", "OutOfMemoryError");
    assertThat(reports).hasSize(1);
    assertThat(hours()).as("the restart command never ran").isEmpty();
  }

  @Test
  void aStoppedHostIsNeverRestartedAndIsOnceTheStopIsResumed() throws Exception {
    Remediator r = remediator(3, false);
    stop.set(Optional.of("stop order ORD-000001-abc covers this host"));
    LogStats stats = TestLogStats.of(120, List.of(), 5);
    Instant since = Instant.now();
    r.processDown("shadow", 9, since, "CLEAN", List.of(), stats, "");
    Remediation skipped = awaitReport(1);
    assertThat(skipped.getOutcome()).isEqualTo(Outcome.SKIPPED);
    assertThat(skipped.getReason()).contains("ORD-000001-abc");
    r.processDown("shadow", 9, since, "CLEAN", List.of(), stats, "");
    assertThat(reports).as("still stopped: not decided again").hasSize(1);
    assertThat(hours()).isEmpty();
    stop.set(Optional.empty());
    r.processDown("shadow", 9, since, "CLEAN", List.of(), stats, "");
    Remediation done = awaitReport(2);
    assertThat(done.getOutcome()).as(done.toString()).isEqualTo(Outcome.DONE);
    assertThat(hours()).containsExactly("23");
  }

  @Test
  void tooFewCleanCyclesACompleteRunAndTheDailyCapEachSkipWithTheirReason() throws Exception {
    Remediator r = remediator(1, false);
    r.processDown("shadow", 1, Instant.ofEpochSecond(1), "CLEAN", List.of(), TestLogStats.of(100, List.of(), 4), "");
    assertThat(awaitReport(1).getReason()).contains("only 4 clean cycle(s)", "5 required");
    r.processDown("shadow", 2, Instant.ofEpochSecond(2), "CLEAN", List.of(), TestLogStats.of(24 * 120, List.of(), 9), "");
    assertThat(awaitReport(2).getReason()).contains("run complete", "24 h of 24 h");
    r.processDown("shadow", 3, Instant.ofEpochSecond(3), "CLEAN", List.of(), TestLogStats.of(100, List.of(), 9), "");
    assertThat(awaitReport(3).getOutcome()).isEqualTo(Outcome.DONE);
    r.close();
    // the cap is on disk: a restarted agent still counts this morning's restart
    Remediator again = remediator(1, false);
    again.processDown("shadow", 4, Instant.ofEpochSecond(4), "CLEAN", List.of(), TestLogStats.of(100, List.of(), 9), "");
    Remediation capped = awaitReport(4);
    assertThat(capped.getOutcome()).isEqualTo(Outcome.SKIPPED);
    assertThat(capped.getReason()).contains("1 restart(s) in the last 24 h", "max_per_day 1");
    assertThat(hours()).hasSize(1);
  }

  /** A watched process that ignores TERM, started and visible. */
  Process stuckIgnoringTerm() throws Exception {
    // it says it is ready only once it ignores TERM (a TERM before the trap would simply end it)
    Path ready = dir.resolve("stuck-ready");
    Process stuck = new ProcessBuilder("sh", "-c", "trap '' TERM; : > '" + ready + "'; while :; do sleep 1; done; : "
        + marker + "-stuck")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    started.add(stuck);
    Eventually.await("stuck process visible and ignoring TERM", WAIT,
        () -> Files.exists(ready) && !host.find("shadow").isEmpty());
    return stuck;
  }

  @Test
  void aStuckProcessThatIgnoresTermIsKilledAndRestarted() throws Exception {
    Remediator r = remediator(3, true);
    Process stuck = stuckIgnoringTerm();
    r.logStale("shadow", stuck.pid(), Instant.now(), "CLEAN", List.of(), TestLogStats.of(240, List.of(), 5), "/var/log/shadow.log");
    Remediation done = awaitReport(1);
    assertThat(done.getAction()).isEqualTo(Action.UNSTICK);
    assertThat(done.getOutcome()).as(done.toString()).isEqualTo(Outcome.DONE);
    assertThat(done.getDetail()).contains("TERM pid " + stuck.pid(), "KILL");
    assertThat(stuck.isAlive()).isFalse();
    assertThat(done.getNewPid()).isNotEqualTo(stuck.pid()).isPositive();
    assertThat(hours()).containsExactly("22");
    // its death, seen by the process probe next, is the unstick's own: not restarted again
    r.processDown("shadow", stuck.pid(), Instant.now(), "CLEAN", List.of(), TestLogStats.of(240, List.of(), 5), "");
    assertThat(reports).hasSize(1);
  }

  @Test
  void aStuckProcessThatHonoursTermIsNotKilled() throws Exception {
    Remediator r = remediator(3, true);
    // the shell dies on TERM (default disposition); its sleep 1 child ends on its own
    Process stuck = new ProcessBuilder("sh", "-c", "while :; do sleep 1; done; : " + marker + "-polite")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    started.add(stuck);
    r.logStale("shadow", stuck.pid(), Instant.now(), "CLEAN", List.of(), TestLogStats.of(240, List.of(), 5), "");
    Remediation done = awaitReport(1);
    assertThat(done.getOutcome()).as(done.toString()).isEqualTo(Outcome.DONE);
    assertThat(done.getDetail()).contains("TERM pid " + stuck.pid(), "exited after").doesNotContain("KILL");
  }

  /**
   * The unstick was decided with no stop; a stop came while it waited out the TERM grace. The
   * stuck process is killed, but not restarted: the stop is in force now. Once the stop is
   * resumed, the same staleness is decided again.
   */
  @Test
  void aStopThatComesWhileAnUnstickWaitsIsHonouredBeforeTheRestart() throws Exception {
    Remediator r = remediator(3, true);
    Process stuck = stuckIgnoringTerm();
    Instant since = Instant.now();
    r.logStale("shadow", stuck.pid(), since, "CLEAN", List.of(), TestLogStats.of(240, List.of(), 5), "/var/log/shadow.log");
    // decided (no stop then); the worker now sends TERM and waits 500 ms before the KILL
    stop.set(Optional.of("stop order ORD-000002-def covers this host"));
    Remediation skipped = awaitReport(1);
    assertThat(skipped.getOutcome()).as(skipped.toString()).isEqualTo(Outcome.SKIPPED);
    assertThat(skipped.getReason()).contains("ORD-000002-def");
    assertThat(hours()).as("the restart command never ran").isEmpty();
    assertThat(stuck.isAlive()).isFalse();
    stop.set(Optional.empty());
    r.logStale("shadow", stuck.pid(), since, "CLEAN", List.of(), TestLogStats.of(240, List.of(), 5), "/var/log/shadow.log");
    Remediation done = awaitReport(2);
    assertThat(done.getOutcome()).as(done.toString()).isEqualTo(Outcome.DONE);
    assertThat(hours()).containsExactly("22");
  }
  /**
   * The restart command hangs (restart.timeout is a minute) and a STOP arrives, with the agent's
   * gate (a real StopEnactor): the STOP kills the command and is acked without waiting for it; the
   * restart is reported FAILED at once, naming the stop, and not decided again while it holds.
   */
  @Test
  void aStopThatComesWhileTheRestartCommandRunsKillsItAndIsNotHeldUp() throws Exception {
    List<dev.lockstep.proto.lite.v1.StopAck> acks = new CopyOnWriteArrayList<>();
    dev.lockstep.agent.config.AgentConfig.Stop config = dev.lockstep.agent.config.AgentConfig.defaults("a1", "h:1", dir)
        .withStopFile(dir.resolve("run/STOP")).withHooks("true", null, null).stop();
    try (dev.lockstep.agent.metrics.AgentMetrics metrics = new dev.lockstep.agent.metrics.AgentMetrics()) {
      dev.lockstep.agent.stop.StopEnactor enactor = new dev.lockstep.agent.stop.StopEnactor("a1", config,
          dir.resolve("stop-state"), Clock.systemUTC(), metrics, acks::add, n -> { }, l -> { });
      try {
        Remediator.Host gated = new Remediator.Host() {
          @Override
          public List<ProcFs.Proc> find(String process) {
            return host.find(process);
          }

          @Override
          public Optional<String> stopCovering() {
            return enactor.current().stopped() ? Optional.of("stop order " + enactor.current().heldOrderIds()
                + " covers this host") : Optional.empty();
          }

          @Override
          public void report(Remediation r) {
            reports.add(r);
          }

          @Override
          public dev.lockstep.agent.stop.StopEnactor.Restart unlessStopped(
              java.util.function.Supplier<dev.lockstep.agent.stop.Hook.Running> start, Duration timeout) {
            return enactor.unlessStopped(this::stopCovering, start, timeout);
          }
        };
        Remediator.Restart restart = new Remediator.Restart("echo \"$LOCKSTEP_REMAINING_HOURS\" >> " + dir.resolve("hours")
            + "; sleep 60", 5, 120, 24, 3, Duration.ofSeconds(60), Duration.ofSeconds(10));
        remediator = new Remediator(List.of(new Remediator.Policy("shadow", restart, null)),
            dir.resolve("state/remediation.log"), gated, Clock.systemUTC());
        Instant since = Instant.now();
        LogStats stats = TestLogStats.of(120, List.of(), 5);
        remediator.processDown("shadow", 9, since, "CLEAN", List.of(), stats, "");
        Eventually.await("the restart command running", WAIT, () -> Files.exists(dir.resolve("hours")));
        enactor.offer(dev.lockstep.proto.lite.v1.StopState.newBuilder().setGeneration(2)
            .setMode(dev.lockstep.proto.lite.v1.StopMode.STOPPED)
            .addOrders(dev.lockstep.proto.lite.v1.StopOrder.newBuilder().setId("ORD-2")
                .setScope(dev.lockstep.proto.lite.v1.StopScope.newBuilder().setFleet(true)))
            .build(), false);
        dev.lockstep.proto.lite.v1.StopAck ack = Eventually.value(Duration.ofSeconds(10), "the STOP's ack",
            () -> acks.isEmpty() ? null : acks.get(0));
        assertThat(ack.getEnacted()).as(ack.getDetail()).isTrue();
        Remediation failed = Eventually.value(Duration.ofSeconds(10), "the restart's report",
            () -> reports.isEmpty() ? null : reports.get(0));
        assertThat(failed.getOutcome()).as(failed.toString()).isEqualTo(Outcome.FAILED);
        assertThat(failed.getReason()).contains("ORD-2");
        assertThat(failed.getDetail()).contains("killed");
        remediator.processDown("shadow", 9, since, "CLEAN", List.of(), stats, "");
        assertThat(reports).as("still stopped: not decided again").hasSize(1);
        assertThat(hours()).hasSize(1);
      } finally {
        enactor.close();
      }
    }
  }
}
