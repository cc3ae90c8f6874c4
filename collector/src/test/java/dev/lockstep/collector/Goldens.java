package dev.lockstep.collector;

import com.google.protobuf.Timestamp;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.StepSummary;

/** GoldenReport and Event builders for tests. */
public final class Goldens {
  private Goldens() {}

  /** A three-step report; {@code variant} changes step 2's content hash (a divergence). */
  public static GoldenReport report(String runId, String workflow, String role, String variant) {
    GoldenReport.Builder b = GoldenReport.newBuilder()
        .setPath("/golden/" + runId + "." + role + ".golden.json")
        .setRunId(runId).setWorkflow(workflow).setRole(role).setHasSeed(true).setSeed(1234)
        .setCanonicalHash("sha256:doc-" + variant).setOutputHash("sha256:out-" + variant);
    b.addSteps(StepSummary.newBuilder().setIndex(0).setName("load").setKind("compute")
        .setCanonicalHash("sha256:s0"));
    b.addSteps(StepSummary.newBuilder().setIndex(1).setName("fetch").setKind("external")
        .setExternal(true).setCanonicalHash("sha256:s1").setResponseHash("sha256:r1"));
    b.addSteps(StepSummary.newBuilder().setIndex(2).setName("sample").setKind("compute")
        .setCanonicalHash("sha256:s2-" + variant));
    return b.build();
  }

  public static Event golden(long seq, GoldenReport r) {
    return Event.newBuilder().setSeq(seq).setObservedAt(Timestamp.newBuilder().setSeconds(1))
        .setGolden(r).build();
  }

  public static Event health(long seq, HealthSample.Probe probe, String target,
      HealthSample.Level level) {
    return Event.newBuilder().setSeq(seq).setHealth(HealthSample.newBuilder().setProbe(probe)
        .setTarget(target).setLevel(level).setSummary(probe + " " + target + " " + level)).build();
  }
}
