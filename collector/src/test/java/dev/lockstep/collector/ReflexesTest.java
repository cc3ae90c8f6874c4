package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.proto.v1.CaptureRequest;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.GoldenError;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.LogMatch;
import dev.lockstep.proto.v1.Severity;
import dev.lockstep.proto.v1.StopMode;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the collector reacts to each kind of report (playbook rows end to end over gRPC). */
class ReflexesTest {
  @TempDir Path dir;

  CollectorConfig config() {
    return CollectorConfig.defaults(dir).withInsecure(true).withListen("127.0.0.1", 0);
  }

  static Optional<Incident> incident(Collector c, IncidentKind kind) {
    return c.fleet().incidents().all().stream().filter(i -> i.getKind() == kind).findFirst();
  }

  @Test
  void aReplicaThatNeverArrivesBecomesMissingReplicaWhenTheWindowCloses() throws Exception {
    TestClock clock = new TestClock(Instant.parse("2026-01-01T00:00:00Z"));
    try (Collector c = Collector.start(config().withCorrelationWindow(Duration.ofMinutes(5)), clock, l -> { });
        RawAgent a = RawAgent.connect(c.port(), "host-a")) {
      a.report(Goldens.report("run-1", "billing.reconcile", "primary", "a"));
      a.await("ack", f -> f.hasAck());
      Eventually.await(Duration.ofSeconds(5), "pending", () -> c.fleet().runs().pending().size() == 1);
      clock.advance(Duration.ofMinutes(4));
      assertThat(c.fleet().incidents().all()).isEmpty();
      clock.advance(Duration.ofMinutes(1));
      Incident inc = Eventually.value(Duration.ofSeconds(5), "missing replica incident", () ->
          incident(c, IncidentKind.MISMATCH).orElse(null));
      assertThat(inc.getCategory()).isEqualTo("MISSING_REPLICA");
      assertThat(inc.getSeverity()).isEqualTo(Severity.P1);
      assertThat(inc.getExplanation()).contains("missing shadow");
      assertThat(c.fleet().orders()).as("a P1 does not stop the fleet").isEmpty();
    }
  }

  @Test
  void aLogLineReportingMismatchesOpensAP0LinkedToTheRunsGoldenIncident() throws Exception {
    try (Collector c = Collector.start(config().withStopPolicy(CollectorConfig.StopPolicy.OFF), Clock.systemUTC(), l -> { });
        RawAgent a = RawAgent.connect(c.port(), "host-a")) {
      a.report(Goldens.report("run-1", "wf", "primary", "a"), Goldens.report("run-1", "wf", "shadow", "b"));
      Eventually.await(Duration.ofSeconds(5), "golden incident", () -> c.fleet().incidents().get("INC-000001").isPresent());
      a.seq(a.lastSeq());
      a.events(Event.newBuilder().setSeq(a.lastSeq() + 1).setLogMatch(LogMatch.newBuilder()
          .setKind(LogMatch.Kind.MISMATCH_COUNT).setCount(2).setRunId("run-1").setPath("/var/lib/aos/shadow.log")
          .setLineNumber(88).setLine("CRITICAL: 2 mismatch errors found")).build());
      Incident log = Eventually.value(Duration.ofSeconds(5), "log incident", () ->
          c.fleet().incidents().get("INC-000002").orElse(null));
      assertThat(log.getSeverity()).isEqualTo(Severity.P0);
      assertThat(log.getRunIdsList()).containsExactly("run-1");
      assertThat(log.getExplanation()).contains("INC-000001").contains("shadow.log:88");
    }
  }

  @Test
  void healthProbesOpenTheirPlaybookIncidentsAndADeadProcessGetsItsLogsCaptured() throws Exception {
    try (Collector c = Collector.start(config(), Clock.systemUTC(), l -> { });
        RawAgent a = RawAgent.connect(c.port(), "host-a")) {
      a.events(Goldens.health(1, HealthSample.Probe.PROCESS, "run_shadow_simulation", HealthSample.Level.CRITICAL),
          Goldens.health(2, HealthSample.Probe.DISK, "/var/lib/aos", HealthSample.Level.WARN),
          Goldens.health(3, HealthSample.Probe.DISK, "/var/lib/aos", HealthSample.Level.CRITICAL),
          Goldens.health(4, HealthSample.Probe.LOG_STALENESS, "/var/log/x", HealthSample.Level.CRITICAL),
          Event.newBuilder().setSeq(5).setGolden(GoldenReport.newBuilder().setPath("/g/bad.json")
              .setError(GoldenError.newBuilder().setCode("TRUNCATED").setMessage("unexpected end"))).build());
      Eventually.await(Duration.ofSeconds(5), "four incidents", () -> c.fleet().incidents().all().size() == 4);
      assertThat(incident(c, IncidentKind.PROCESS_DIED).orElseThrow().getSeverity()).isEqualTo(Severity.P1);
      Incident disk = incident(c, IncidentKind.DISK_FULL).orElseThrow();
      assertThat(disk.getSeverity()).as("escalated from WARNING").isEqualTo(Severity.P1);
      assertThat(disk.getCount()).isEqualTo(2);
      assertThat(incident(c, IncidentKind.STALE_LOG).orElseThrow().getSeverity()).isEqualTo(Severity.P2);
      assertThat(incident(c, IncidentKind.BAD_GOLDEN).orElseThrow().getTitle()).contains("/g/bad.json");
      CaptureRequest capture = a.await("log capture", f -> f.hasCapture() && f.getCapture().getIncludeLogs()).getCapture();
      assertThat(capture.getRunIdsList()).isEmpty();
      assertThat(c.fleet().orders()).as("no P0, no stop").isEmpty();
    }
  }

  @Test
  void remediationReportsBecomeNotesOnTheProcesssIncidentAndAuditEntriesByTheAgent() throws Exception {
    try (Collector c = Collector.start(config(), Clock.systemUTC(), l -> { });
        RawAgent a = RawAgent.connect(c.port(), "host-a")) {
      a.events(Goldens.health(1, HealthSample.Probe.PROCESS, "shadow", HealthSample.Level.CRITICAL),
          Goldens.health(2, HealthSample.Probe.LOG_STALENESS, "/var/log/other.log", HealthSample.Level.CRITICAL),
          Event.newBuilder().setSeq(3).setRemediation(dev.lockstep.proto.v1.Remediation.newBuilder()
              .setProcess("shadow").setAction(dev.lockstep.proto.v1.Remediation.Action.RESTART)
              .setOutcome(dev.lockstep.proto.v1.Remediation.Outcome.DONE).setReason("last 5 cycles clean")
              .setRemainingHours(7).setOldPid(100).setNewPid(200).setRestartsToday(1)).build(),
          Event.newBuilder().setSeq(4).setRemediation(dev.lockstep.proto.v1.Remediation.newBuilder()
              .setProcess("engine").setLogPath("/var/log/other.log")
              .setAction(dev.lockstep.proto.v1.Remediation.Action.UNSTICK)
              .setOutcome(dev.lockstep.proto.v1.Remediation.Outcome.SKIPPED)
              .setReason("stop order ORD-1 covers this host")).build());
      Eventually.await(Duration.ofSeconds(5), "notes on both incidents", () ->
          incident(c, IncidentKind.PROCESS_DIED).map(Incident::getNotesCount).orElse(0) == 1
              && incident(c, IncidentKind.STALE_LOG).map(Incident::getNotesCount).orElse(0) == 1);
      var note = incident(c, IncidentKind.PROCESS_DIED).orElseThrow().getNotes(0);
      assertThat(note.getBy()).isEqualTo("agent:host-a");
      assertThat(note.getAction()).isEqualTo("REMEDIATION");
      assertThat(note.getNote()).contains("RESTART DONE of shadow", "last 5 cycles clean", "remaining 7 h",
          "old pid 100", "new pid 200");
      assertThat(incident(c, IncidentKind.STALE_LOG).orElseThrow().getNotes(0).getNote())
          .contains("UNSTICK SKIPPED of engine", "stop order ORD-1 covers this host");
      String died = incident(c, IncidentKind.PROCESS_DIED).orElseThrow().getId();
      assertThat(c.fleet().audit().list(0, 100)).anyMatch(e -> e.getAction().equals("Remediation")
          && e.getWho().equals("agent:host-a") && e.getTarget().equals(died) && e.getDetail().contains("RESTART DONE"));
      // a remediation without an action is refused with the rest of its batch
      a.events(Event.newBuilder().setSeq(5).setRemediation(
          dev.lockstep.proto.v1.Remediation.newBuilder().setProcess("shadow")
              .setOutcome(dev.lockstep.proto.v1.Remediation.Outcome.DONE)).build());
      io.grpc.Status refused = Eventually.value(Duration.ofSeconds(5), "stream closed", () -> a.closedWith);
      assertThat(refused.getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
      assertThat(refused.getDescription()).contains("Remediation.action is ACTION_UNSPECIFIED");
    }
  }

  @Test
  void aStopIsResentUntilTheAgentAcksIt() throws Exception {
    try (Collector c = Collector.start(config().withStopResendInterval(Duration.ofMillis(100)), Clock.systemUTC(), l -> { });
        RawAgent a = RawAgent.connect(c.port(), "host-a")) {
      a.report(Goldens.report("run-1", "wf", "primary", "a"), Goldens.report("run-1", "wf", "shadow", "b"));
      Eventually.await(Duration.ofSeconds(5), "stop sent three times", () ->
          a.received.stream().filter(f -> f.hasStop()).count() >= 3);
      a.ack(a.stops().get(a.stops().size() - 1), true);
      Eventually.await(Duration.ofSeconds(5), "confirmed", () -> c.fleet().stopStatus().getConfirmed() == 1);
      // frames on one stream are ordered: an ack round trip flushes resends already under way
      a.seq(a.lastSeq() + 1);
      a.events(Goldens.health(a.lastSeq(), HealthSample.Probe.DISK, "/", HealthSample.Level.OK));
      a.await("flush", f -> f.hasAck() && f.getAck().getUptoSeq() == a.lastSeq());
      int before = a.received.size();
      long sent = a.received.stream().filter(f -> f.hasStop()).count();
      c.fleet().resendPending().get(5, java.util.concurrent.TimeUnit.SECONDS);
      a.events(Goldens.health(a.lastSeq() + 1, HealthSample.Probe.DISK, "/", HealthSample.Level.OK));
      a.await("ack after resend", f -> f.hasAck() && f.getAck().getUptoSeq() == a.lastSeq() + 1);
      assertThat(a.received.subList(before, a.received.size()).stream().filter(f -> f.hasStop()).count())
          .as("no resend after the ack").isZero();
      assertThat(a.received.stream().filter(f -> f.hasStop()).count()).isEqualTo(sent);
      assertThat(a.stops()).allSatisfy(s -> assertThat(s.getMode()).isIn(StopMode.STOPPED, StopMode.RUNNING));
    }
  }

  @Test
  void withThreeReplicasTheDissentingHostIsBlamedAndStoppedUnderHostPolicy() throws Exception {
    CollectorConfig cfg = config().withStopPolicy(CollectorConfig.StopPolicy.HOST)
        .withCorrelation(new CollectorConfig.Correlation(Duration.ofMinutes(5),
            new CollectorConfig.Expectation(java.util.List.of("primary", "shadow"), 0),
            java.util.Map.of("billing.reconcile", new CollectorConfig.Expectation(java.util.List.of(), 3))));
    try (Collector c = Collector.start(cfg, Clock.systemUTC(), l -> { });
        RawAgent h1 = RawAgent.connect(c.port(), "host-1");
        RawAgent h2 = RawAgent.connect(c.port(), "host-2");
        RawAgent h3 = RawAgent.connect(c.port(), "host-3")) {
      h1.report(Goldens.report("run-1", "billing.reconcile", "primary", "a"));
      h2.report(Goldens.report("run-1", "billing.reconcile", "replica-2", "a"));
      h3.report(Goldens.report("run-1", "billing.reconcile", "replica-3", "z"));
      Incident inc = Eventually.value(Duration.ofSeconds(5), "incident", () ->
          c.fleet().incidents().get("INC-000001").orElse(null));
      assertThat(inc.getBlamedAgentIdsList()).containsExactly("host-3");
      assertThat(inc.getAgentIdsList()).containsExactly("host-1", "host-2", "host-3");
      assertThat(inc.getExplanation()).contains("blames host-3").contains("likely a bad host");
      var stop = h3.await("stop", f -> f.hasStop()).getStop().getState();
      assertThat(stop.getMode()).isEqualTo(StopMode.STOPPED);
      assertThat(stop.getOrders(0).getScope().getAgentId()).isEqualTo("host-3");
      assertThat(c.fleet().stopStatus().getAgentsList()).extracting(r -> r.getAgentId() + "=" + r.getMode())
          .containsExactly("host-1=RUNNING", "host-2=RUNNING", "host-3=STOPPED");
      assertThat(h1.received).as("an agent the order does not cover gets no command").noneMatch(f -> f.hasStop());
      assertThat(c.fleet().agentRows()).filteredOn(r -> r.getAgentId().equals("host-3"))
          .singleElement().satisfies(r -> assertThat(r.getRunsBlamed()).isEqualTo(1));
    }
  }

  @Test
  void hostPolicyStopsOnlyTheReportingHost() throws Exception {
    try (Collector c = Collector.start(config().withStopPolicy(CollectorConfig.StopPolicy.HOST), Clock.systemUTC(), l -> { });
        RawAgent a = RawAgent.connect(c.port(), "host-a");
        RawAgent b = RawAgent.connect(c.port(), "host-b")) {
      b.await("welcome", f -> f.hasWelcome());
      a.report(Goldens.report("run-1", "wf", "primary", "a"), Goldens.report("run-1", "wf", "shadow", "b"));
      assertThat(a.await("stop", f -> f.hasStop()).getStop().getState().getMode()).isEqualTo(StopMode.STOPPED);
      assertThat(c.fleet().orders()).singleElement()
          .satisfies(o -> assertThat(o.getScope().getAgentId()).isEqualTo("host-a"));
      assertThat(c.fleet().stopStatus().getAgentsList()).extracting(r -> r.getAgentId() + "=" + r.getMode())
          .containsExactly("host-a=STOPPED", "host-b=RUNNING");
      assertThat(b.received).as("host-b's desired state never changed").noneMatch(f -> f.hasStop());
    }
  }
}
