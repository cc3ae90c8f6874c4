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
  void engineHashesOverTheirLimitAreNamedAsTheReportNamesThem() {
    assertThat(ReportLimits.over(summary("r", "p", "w", "h".repeat(257), List.of())).orElseThrow().describe())
        .isEqualTo("engine_hash of 257 characters (at most 256)");
    ReportLimits.Over step = ReportLimits.over(summary("r", "p", "w", "",
        List.of(step(0, "h"), step(7, "h".repeat(1_000_000))))).orElseThrow();
    assertThat(step.describe()).isEqualTo("steps[index 7].engine_hash of 1000000 characters (at most 256)");
    assertThat(step.field()).isEqualTo("steps[index 7].engine_hash");
    assertThat(step.limit()).isEqualTo(256);
  }
}
