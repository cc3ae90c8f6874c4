package dev.lockstep.collector.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.Goldens;
import dev.lockstep.golden.ReportLimits;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.ComponentStatus;
import dev.lockstep.proto.v1.DiskUsage;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.GoldenError;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.LogMatch;
import dev.lockstep.proto.v1.LogStaleness;
import dev.lockstep.proto.v1.ProcessState;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventBoundsTest {
  static final String HUGE = "x".repeat(3_000_000);

  static Event logMatch(LogMatch.Builder m) {
    return Event.newBuilder().setSeq(1).setLogMatch(m).build();
  }

  @Test
  void aHugeLogMatchIsCutWithAMarkerAndStillCountsItsMismatches() {
    LogMatch m = EventBounds.cut(logMatch(LogMatch.newBuilder().setKind(LogMatch.Kind.MISMATCH_COUNT)
        .setCount(3).setPath("/var/log/" + HUGE).setRule(HUGE).setLineNumber(9)
        .setLine("CRITICAL: 3 mismatch errors found " + HUGE)
        .addAllCaptures(Collections.nCopies(40, HUGE))
        .addAllContext(List.of("c1", "c2", "c3", "c4", "c5", HUGE, "c7")))).getLogMatch();
    assertThat(m.getKind()).isEqualTo(LogMatch.Kind.MISMATCH_COUNT);
    assertThat(m.getCount()).isEqualTo(3);
    assertThat(m.getLineNumber()).isEqualTo(9);
    assertThat(m.getLine()).hasSize(EventBounds.MAX_LINE)
        .startsWith("CRITICAL: 3 mismatch errors found xxx")
        .endsWith("… [cut: " + (HUGE.length() + 34) + " characters]");
    assertThat(m.getPath()).hasSize(EventBounds.MAX_PATH).startsWith("/var/log/xxx");
    assertThat(m.getRule()).hasSize(EventBounds.MAX_NAME);
    assertThat(m.getCapturesList()).hasSize(EventBounds.MAX_CAPTURES)
        .allSatisfy(c -> assertThat(c).hasSize(EventBounds.MAX_CAPTURE));
    assertThat(m.getContextList()).as("the lines nearest the match").hasSize(5)
        .startsWith("c3", "c4", "c5").endsWith("c7");
    assertThat(m.getContext(3)).hasSize(EventBounds.MAX_LINE);
  }

  @Test
  void cuttingAgainChangesNothingAndAnEventWithinTheLimitsIsKeptAsItIs() {
    Event huge = logMatch(LogMatch.newBuilder().setKind(LogMatch.Kind.ERROR).setLine(HUGE));
    Event once = EventBounds.cut(huge);
    assertThat(EventBounds.cut(once)).isSameAs(once);
    Event small = logMatch(LogMatch.newBuilder().setKind(LogMatch.Kind.ERROR).setLine("error: x"));
    assertThat(EventBounds.cut(small)).isSameAs(small);
    List<Event> batch = List.of(small);
    assertThat(EventBounds.cut(batch)).isSameAs(batch);
    assertThat(EventBounds.cut(List.of(small, huge))).containsExactly(small, once);
  }

  @Test
  void aSurrogatePairIsNeverSplit() {
    String s = "a" + "😀".repeat(5_000);
    String cut = EventBounds.text(s, EventBounds.MAX_LINE);
    assertThat(cut.length()).isLessThanOrEqualTo(EventBounds.MAX_LINE);
    String kept = cut.substring(0, cut.indexOf('…'));
    assertThat(Character.isHighSurrogate(kept.charAt(kept.length() - 1))).isFalse();
  }

  @Test
  void aHugeHealthSampleIsCutInEveryText() {
    HealthSample h = EventBounds.cut(Event.newBuilder().setSeq(1).setHealth(HealthSample.newBuilder()
        .setProbe(HealthSample.Probe.PROCESS).setLevel(HealthSample.Level.CRITICAL).setTarget(HUGE)
        .setSummary(HUGE)
        .setProcess(ProcessState.newBuilder().setExitAssessment(HUGE)
            .addAllEvidenceLines(Collections.nCopies(100, HUGE)))
        .setDisk(DiskUsage.newBuilder().setPath(HUGE))
        .setStaleness(LogStaleness.newBuilder().setPath(HUGE).setProcessSnapshot(HUGE))
        .setComponent(ComponentStatus.newBuilder().setName(HUGE).setReason(HUGE))).build()).getHealth();
    assertThat(h.getLevel()).isEqualTo(HealthSample.Level.CRITICAL);
    assertThat(h.getTarget()).hasSize(EventBounds.MAX_PATH);
    assertThat(h.getSummary()).hasSize(EventBounds.MAX_SUMMARY).endsWith("… [cut: 3000000 characters]");
    assertThat(h.getProcess().getExitAssessment()).hasSize(EventBounds.MAX_NAME);
    assertThat(h.getProcess().getEvidenceLinesList()).hasSize(EventBounds.MAX_EVIDENCE_LINES)
        .allSatisfy(l -> assertThat(l).hasSize(EventBounds.MAX_LINE));
    assertThat(h.getDisk().getPath()).hasSize(EventBounds.MAX_PATH);
    assertThat(h.getStaleness().getPath()).hasSize(EventBounds.MAX_PATH);
    assertThat(h.getStaleness().getProcessSnapshot()).hasSize(EventBounds.MAX_SNAPSHOT);
    assertThat(h.getComponent().getName()).hasSize(EventBounds.MAX_NAME);
    assertThat(h.getComponent().getReason()).hasSize(EventBounds.MAX_SUMMARY);
    HealthSample disk = EventBounds.cut(Event.newBuilder().setHealth(HealthSample.newBuilder()
        .setProbe(HealthSample.Probe.DISK).setLevel(HealthSample.Level.OK).setSummary(HUGE)).build())
        .getHealth();
    assertThat(disk.hasProcess()).as("no part is added that was not sent").isFalse();
    assertThat(disk.hasComponent()).isFalse();
  }

  @Test
  void aGoldenReportsStepNamesAndKindsAreCutButNeverItsHashes() {
    GoldenReport r = Goldens.report("run-1", "billing", "primary", "a");
    GoldenReport sent = r.toBuilder().setSteps(1, r.getSteps(1).toBuilder().setName(HUGE).setKind(HUGE)
        .setEngineHash("e".repeat(256))).build();
    GoldenReport g = EventBounds.cut(Goldens.golden(1, sent)).getGolden();
    assertThat(g.getSteps(1).getName()).hasSize(EventBounds.MAX_STEP_NAME).startsWith("xxx")
        .endsWith("… [cut: 3000000 characters]");
    assertThat(g.getSteps(1).getKind()).hasSize(EventBounds.MAX_NAME);
    assertThat(g.getSteps(1).getEngineHash()).isEqualTo("e".repeat(256));
    assertThat(g.toBuilder().setSteps(1, sent.getSteps(1)).build()).as("nothing else changed").isEqualTo(sent);
    Event within = Goldens.golden(1, r);
    assertThat(EventBounds.cut(within)).isSameAs(within);
  }

  /**
   * Compared, so never cut (two hashes cut to one start would read equal) nor refused: a hash over
   * 256 characters is kept as its digest, the same for the same hash, another for any other.
   */
  @Test
  void aGoldenReportsEngineHashesOverTheLimitAreKeptAsTheirDigests() {
    GoldenReport r = Goldens.report("run-1", "billing", "primary", "a");
    GoldenReport sent = r.toBuilder().setEngineHash("r".repeat(300))
        .setSteps(2, r.getSteps(2).toBuilder().setEngineHash("e".repeat(299) + "1")).build();
    GoldenReport g = EventBounds.cut(Goldens.golden(1, sent)).getGolden();
    assertThat(g.getEngineHash()).isEqualTo(ReportLimits.engineHash("r".repeat(300)))
        .startsWith("digest-sha256:").hasSize(78);
    assertThat(g.getSteps(2).getEngineHash()).isEqualTo(ReportLimits.engineHash("e".repeat(299) + "1"))
        .isNotEqualTo(ReportLimits.engineHash("e".repeat(299) + "2"));
    assertThat(g.getSteps(2).getName()).isEqualTo("sample");
    assertThat(g.toBuilder().setEngineHash(sent.getEngineHash()).setSteps(2, sent.getSteps(2)).build())
        .as("nothing else changed").isEqualTo(sent);
    Event again = Goldens.golden(1, g);
    assertThat(EventBounds.cut(again)).as("the core cuts again what the gateway stored").isSameAs(again);
  }

  @Test
  void aBadGoldenFilesErrorCodeAndMessageAreCut() {
    GoldenReport sent = GoldenReport.newBuilder().setPath("/g/x.json").setError(GoldenError.newBuilder()
        .setPath("/g/x.json").setLine(3).setCode(HUGE).setMessage(HUGE)).build();
    GoldenError e = EventBounds.cut(Goldens.golden(1, sent)).getGolden().getError();
    assertThat(e.getCode()).hasSize(EventBounds.MAX_NAME).endsWith("… [cut: 3000000 characters]");
    assertThat(e.getMessage()).hasSize(EventBounds.MAX_LINE).endsWith("… [cut: 3000000 characters]");
    assertThat(e.getPath()).isEqualTo("/g/x.json");
    assertThat(e.getLine()).isEqualTo(3);
  }

  @Test
  void aHugeNoticeMessageIsCut() {
    AgentNotice n = EventBounds.cut(Event.newBuilder().setSeq(1).setNotice(AgentNotice.newBuilder()
        .setKind(AgentNotice.Kind.FATAL_ERROR).setMessage(HUGE).setCount(2)).build()).getNotice();
    assertThat(n.getMessage()).hasSize(EventBounds.MAX_LINE).endsWith("… [cut: 3000000 characters]");
    assertThat(n.getKind()).isEqualTo(AgentNotice.Kind.FATAL_ERROR);
    assertThat(n.getCount()).isEqualTo(2);
  }
}
