package dev.lockstep.collector.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.Goldens;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.GoldenError;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.LogMatch;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventRulesTest {
  static final GoldenReport GOOD = Goldens.report("run-1", "billing", "primary", "a");

  static Event golden(long seq, GoldenReport r) {
    return Goldens.golden(seq, r);
  }

  static String problem(Event e) {
    return EventRules.batchProblem(List.of(e), 500).orElse(null);
  }

  @Test
  void aWellFormedBatchOfEveryKindPasses() {
    List<Event> batch = List.of(golden(1, GOOD),
        Goldens.health(2, HealthSample.Probe.DISK, "/", HealthSample.Level.OK),
        Event.newBuilder().setSeq(3).setLogMatch(LogMatch.newBuilder().setKind(LogMatch.Kind.CYCLE)).build(),
        Event.newBuilder().setSeq(4).setNotice(AgentNotice.newBuilder().setKind(AgentNotice.Kind.RETENTION)).build(),
        golden(5, GoldenReport.newBuilder().setPath("/g/x.json")
            .setError(GoldenError.newBuilder().setCode("TRUNCATED")).build()));
    assertThat(EventRules.batchProblem(batch, 500)).isEmpty();
  }

  @Test
  void anEventWithoutABodyIsRefusedNamingItsSeq() {
    assertThat(problem(Event.newBuilder().setSeq(7).build()))
        .isEqualTo("event seq 7: the event has no body (one of health, log_match, golden, notice, remediation);"
            + " batch not stored");
  }

  @Test
  void aGoldenReportMustNameItsRunAndRole() {
    assertThat(problem(golden(1, GOOD.toBuilder().setRunId("").build())))
        .contains("event seq 1: GoldenReport.run_id is empty").contains(GOOD.getPath());
    assertThat(problem(golden(2, GOOD.toBuilder().setRole(" ").build())))
        .contains("event seq 2: GoldenReport.role is empty");
  }

  @Test
  void hashesMustBeInWireForm() {
    assertThat(problem(golden(1, GOOD.toBuilder().setCanonicalHash("ABCDEF").build())))
        .contains("GoldenReport.canonical_hash must be \"sha256:\" and 64 lower-case hex digits")
        .contains("got 'ABCDEF'");
    String upper = "sha256:" + "AB".repeat(32);
    assertThat(problem(golden(1, GOOD.toBuilder().setCanonicalHash(upper).build()))).contains("canonical_hash");
    assertThat(problem(golden(1, GOOD.toBuilder().setOutputHash("md5:1").build()))).contains("output_hash");
    assertThat(problem(golden(1, GOOD.toBuilder().setSteps(1, GOOD.getSteps(1).toBuilder()
        .setCanonicalHash("")).build()))).contains("steps[index 1].canonical_hash");
    assertThat(problem(golden(1, GOOD.toBuilder().setSteps(1, GOOD.getSteps(1).toBuilder()
        .setResponseHash("x")).build()))).contains("steps[index 1].response_hash");
    assertThat(problem(golden(1, GOOD.toBuilder().setOutputHash("").setEngineHash("engine's own").build())))
        .as("optional hashes may be empty; engine hashes are the engine's own").isNull();
  }

  @Test
  void aBadGoldenFileNeedsAnErrorCodeButNoRun() {
    assertThat(problem(golden(1, GoldenReport.newBuilder().setError(GoldenError.newBuilder()).build())))
        .contains("GoldenReport.error.code is empty");
  }

  @Test
  void identifiersOverTheirLimitsAreRefusedNamingLengthAndLimitWithoutEchoingThem() {
    String refused = problem(golden(4, GOOD.toBuilder().setRunId("r".repeat(2_600_000)).build()));
    assertThat(refused)
        .startsWith("event seq 4: GoldenReport.run_id is 2600000 characters, the limit is 256")
        .contains("'" + "r".repeat(EventRules.SHOWN) + "…'").contains(GOOD.getPath())
        .hasSizeLessThan(1_000);
    assertThat(problem(golden(1, GOOD.toBuilder().setRunId("r".repeat(256)).build()))).isNull();
    assertThat(problem(golden(1, GOOD.toBuilder().setRole("p".repeat(257)).build())))
        .contains("GoldenReport.role is 257 characters, the limit is 256");
    assertThat(problem(golden(1, GOOD.toBuilder().setRole("p".repeat(256)).build()))).isNull();
    assertThat(problem(golden(1, GOOD.toBuilder().setWorkflow("w".repeat(513)).build())))
        .as("as long as a stop scope's workflow may be")
        .contains("GoldenReport.workflow is 513 characters, the limit is 512");
    assertThat(problem(golden(1, GOOD.toBuilder().setWorkflow("w".repeat(512)).build()))).isNull();
    String longPath = "/" + "é".repeat(2_048); // 4097 bytes in 2049 characters
    assertThat(problem(golden(1, GOOD.toBuilder().setPath(longPath).build())))
        .contains("GoldenReport.path is 4097 bytes, the limit is 4096")
        .contains("(GoldenReport of /" + "é".repeat(255) + "…)").hasSizeLessThan(1_000);
    assertThat(problem(golden(1, GOOD.toBuilder().setPath(longPath.substring(0, 2_048)).build())))
        .isNull();
  }

  /** Never refused (the run would never be compared): EventBounds keeps a long one as its digest. */
  @Test
  void engineHashesOfAnyLengthAreNeverRefused() {
    assertThat(problem(golden(3, GOOD.toBuilder().setEngineHash("e".repeat(1_000_000)).build()))).isNull();
    assertThat(problem(golden(1, GOOD.toBuilder().setSteps(1, GOOD.getSteps(1).toBuilder()
        .setEngineHash("e".repeat(257))).build()))).isNull();
  }

  @Test
  void aBadGoldenFileIsHeldToTheSameLimits() {
    GoldenReport bad = GoldenReport.newBuilder().setPath("/g/x.json")
        .setError(GoldenError.newBuilder().setCode("MISSING_FIELD")).build();
    assertThat(problem(golden(1, bad.toBuilder().setRunId("r".repeat(257)).build())))
        .contains("GoldenReport.run_id is 257 characters");
    assertThat(problem(golden(1, bad.toBuilder().setError(bad.getError().toBuilder()
        .setPath("/" + "x".repeat(5_000))).build())))
        .contains("GoldenReport.error.path is 5001 bytes, the limit is 4096");
  }

  @Test
  void aLongPathIsCutInOtherRefusals() {
    assertThat(problem(golden(1, GOOD.toBuilder().setRunId("").setPath("/" + "p".repeat(4_000)).build())))
        .contains("GoldenReport.run_id is empty").hasSizeLessThan(1_000);
  }

  @Test
  void unspecifiedKindsAreRefused() {
    assertThat(problem(Goldens.health(1, HealthSample.Probe.PROBE_UNSPECIFIED, "/", HealthSample.Level.OK)))
        .contains("HealthSample.probe is PROBE_UNSPECIFIED");
    assertThat(problem(Goldens.health(1, HealthSample.Probe.DISK, "/", HealthSample.Level.LEVEL_UNSPECIFIED)))
        .contains("HealthSample.level is LEVEL_UNSPECIFIED");
    assertThat(problem(Event.newBuilder().setSeq(1).setLogMatch(LogMatch.getDefaultInstance()).build()))
        .contains("LogMatch.kind");
    assertThat(problem(Event.newBuilder().setSeq(1).setNotice(AgentNotice.getDefaultInstance()).build()))
        .contains("AgentNotice.kind");
  }

  @Test
  void seqsMustBePositiveAndIncreaseAndBatchesStayBounded() {
    Event a = golden(3, GOOD);
    Event b = golden(2, GOOD);
    assertThat(EventRules.batchProblem(List.of(a, b), 500)).contains(
        "EventBatch seqs must strictly increase, got 2 after 3; batch not stored");
    assertThat(EventRules.batchProblem(List.of(golden(0, GOOD)), 500).orElseThrow())
        .startsWith("event seq must be positive, got 0");
    assertThat(EventRules.batchProblem(List.of(a), 0).orElseThrow())
        .isEqualTo("EventBatch holds 1 events, the limit is 0 (Welcome.max_batch_events)");
  }
}
