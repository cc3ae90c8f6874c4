package dev.lockstep.collector.incident;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.GoldenError;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.LogMatch;
import dev.lockstep.proto.v1.Severity;
import org.junit.jupiter.api.Test;

class PlaybookTest {

  static HealthSample sample(HealthSample.Probe p, HealthSample.Level l) {
    return HealthSample.newBuilder().setProbe(p).setTarget("t").setLevel(l).build();
  }

  @Test
  void theQuickReferenceTableMapsSymptomsToSeverities() {
    assertThat(Playbook.fromHealth("h", sample(HealthSample.Probe.PROCESS, HealthSample.Level.CRITICAL)))
        .hasValueSatisfying(r -> {
          assertThat(r.kind()).isEqualTo(IncidentKind.PROCESS_DIED);
          assertThat(r.severity()).isEqualTo(Severity.P1);
        });
    assertThat(Playbook.fromHealth("h", sample(HealthSample.Probe.PROCESS, HealthSample.Level.OK))).isEmpty();
    assertThat(Playbook.fromHealth("h", sample(HealthSample.Probe.DISK, HealthSample.Level.CRITICAL)))
        .hasValueSatisfying(r -> assertThat(r.severity()).isEqualTo(Severity.P1));
    assertThat(Playbook.fromHealth("h", sample(HealthSample.Probe.DISK, HealthSample.Level.WARN)))
        .hasValueSatisfying(r -> assertThat(r.severity()).isEqualTo(Severity.WARNING));
    assertThat(Playbook.fromHealth("h", sample(HealthSample.Probe.LOG_STALENESS, HealthSample.Level.WARN)))
        .hasValueSatisfying(r -> assertThat(r.severity()).isEqualTo(Severity.WARNING));
    assertThat(Playbook.fromHealth("h", sample(HealthSample.Probe.LOG_STALENESS, HealthSample.Level.CRITICAL)))
        .hasValueSatisfying(r -> {
          assertThat(r.kind()).isEqualTo(IncidentKind.STALE_LOG);
          assertThat(r.severity()).isEqualTo(Severity.P2);
        });
    assertThat(Playbook.fromLogMatch("h", LogMatch.newBuilder().setKind(LogMatch.Kind.MISMATCH_COUNT)
        .setCount(3).setRunId("run-9").setPath("/var/log/x").build(), "INC-000007"))
        .hasValueSatisfying(r -> {
          assertThat(r.severity()).isEqualTo(Severity.P0);
          assertThat(r.runIds()).containsExactly("run-9");
          assertThat(r.explanation()).contains("INC-000007");
        });
    assertThat(Playbook.fromLogMatch("h", LogMatch.newBuilder().setKind(LogMatch.Kind.CLEAN_CYCLE).build(), ""))
        .isEmpty();
    Raise bad = Playbook.badGolden("h", GoldenReport.newBuilder().setPath("/g/x.json")
        .setError(GoldenError.newBuilder().setCode("TRUNCATED").setLine(3).setColumn(9).setMessage("eof")).build());
    assertThat(bad.kind()).isEqualTo(IncidentKind.BAD_GOLDEN);
    assertThat(bad.severity()).isEqualTo(Severity.P2);
    assertThat(bad.title()).contains("/g/x.json:3:9").contains("TRUNCATED");
    assertThat(Playbook.webhookFailure("hook", "HTTP 503").severity()).isEqualTo(Severity.P3);
  }

  @Test
  void theAgentsOwnTroubleIsAnAgentDegradedIncident() {
    HealthSample failed = HealthSample.newBuilder().setProbe(HealthSample.Probe.COMPONENT).setTarget("golden")
        .setLevel(HealthSample.Level.CRITICAL).setSummary("agent component golden failed: 2 of 2 golden dirs failing")
        .build();
    assertThat(Playbook.fromHealth("h", failed)).hasValueSatisfying(r -> {
      assertThat(r.kind()).isEqualTo(IncidentKind.AGENT_DEGRADED);
      assertThat(r.severity()).isEqualTo(Severity.P2);
      assertThat(r.title()).isEqualTo("agent component golden failed on h");
      assertThat(r.explanation()).contains("2 of 2 golden dirs failing");
    });
    assertThat(Playbook.fromHealth("h", failed.toBuilder().setLevel(HealthSample.Level.WARN).build()))
        .hasValueSatisfying(r -> assertThat(r.severity()).isEqualTo(Severity.WARNING));
    assertThat(Playbook.fromHealth("h", failed.toBuilder().setLevel(HealthSample.Level.OK).build())).isEmpty();
    for (AgentNotice.Kind k : java.util.List.of(AgentNotice.Kind.SPOOL_CORRUPT, AgentNotice.Kind.FATAL_ERROR)) {
      assertThat(Playbook.fromNotice("h", AgentNotice.newBuilder().setKind(k).setMessage("m").setCount(1).build()))
          .as(k.name()).hasValueSatisfying(r -> assertThat(r.severity()).isEqualTo(Severity.P2));
    }
    assertThat(Playbook.fromNotice("h", AgentNotice.newBuilder().setKind(AgentNotice.Kind.SOURCE_FAILED).build()))
        .as("a failing source shows as its component's state").isEmpty();
  }
}
