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
        .setCanonicalHash(hash("doc-" + variant)).setOutputHash(hash("out-" + variant));
    b.addSteps(StepSummary.newBuilder().setIndex(0).setName("load").setKind("compute")
        .setCanonicalHash(hash("s0")));
    b.addSteps(StepSummary.newBuilder().setIndex(1).setName("fetch").setKind("external")
        .setExternal(true).setCanonicalHash(hash("s1")).setResponseHash(hash("r1")));
    b.addSteps(StepSummary.newBuilder().setIndex(2).setName("sample").setKind("compute")
        .setCanonicalHash(hash("s2-" + variant)));
    return b.build();
  }

  /** A wire-form hash ("sha256:" + 64 hex digits) standing for {@code content}. */
  public static String hash(String content) {
    try {
      return "sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest
          .getInstance("SHA-256").digest(content.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
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
