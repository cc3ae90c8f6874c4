package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReportLimitsTest {
  static StepSummary step(int index, String engineHash) {
    return new StepSummary(index, "s", "compute", false, "sha256:" + "a".repeat(64), engineHash, "", "");
  }

  static RunSummary summary(String runId, String role, String workflow, String engineHash, List<StepSummary> steps) {
    return new RunSummary(runId, workflow, role, 1L, "sha256:" + "a".repeat(64), engineHash, "", steps);
  }

  @Test
  void valuesAtTheirLimitsPass() {
    assertThat(ReportLimits.over(summary("r".repeat(256), "p".repeat(256), "w".repeat(512), "h".repeat(256),
        List.of(step(0, "h".repeat(256)))))).isEmpty();
  }

  @Test
  void theFirstValueOverItsLimitIsNamedWithItsLengthAndLimit() {
    assertThat(ReportLimits.over(summary("r".repeat(300), "p".repeat(300), "w", "", List.of())).orElseThrow()
        .describe()).isEqualTo("run_id of 300 characters (at most 256)");
    assertThat(ReportLimits.over(summary("r", "p".repeat(257), "w", "", List.of())).orElseThrow().describe())
        .isEqualTo("role of 257 characters (at most 256)");
    assertThat(ReportLimits.over(summary("r", "p", "w".repeat(513), "", List.of())).orElseThrow().describe())
        .isEqualTo("workflow of 513 characters (at most 512)");
  }

  @Test
  void engineHashesOfAnyLengthPass() {
    assertThat(ReportLimits.over(summary("r", "p", "w", "h".repeat(257),
        List.of(step(0, "h"), step(7, "h".repeat(1_000_000)))))).isEmpty();
  }

  /**
   * Compared by the classifier: a long engine hash becomes a digest that reads equal exactly when
   * the hashes are equal, even when they differ only past the limit; applying it again keeps it.
   */
  @Test
  void engineHashesOverTheLimitAreDigestsThatKeepEquality() {
    assertThat(ReportLimits.engineHash("")).isEmpty();
    assertThat(ReportLimits.engineHash("h".repeat(256))).isEqualTo("h".repeat(256));
    String a = "h".repeat(299) + "a";
    String digest = ReportLimits.engineHash(a);
    // printf %s "$a" | sha256sum: any agent can compute it
    assertThat(digest).isEqualTo(ReportLimits.ENGINE_HASH_DIGEST
        + "962bb2df9331244866aba1f3fa400fa538df05dab178905b79431b2eb851ed7e");
    assertThat(ReportLimits.engineHash(new String(a.toCharArray()))).isEqualTo(digest);
    assertThat(ReportLimits.engineHash("h".repeat(299) + "b")).isNotEqualTo(digest);
    assertThat(ReportLimits.engineHash(digest)).isEqualTo(digest);
    assertThat(ReportLimits.engineHash("é".repeat(300))).isNotEqualTo(ReportLimits.engineHash("e".repeat(300)));
  }
}
