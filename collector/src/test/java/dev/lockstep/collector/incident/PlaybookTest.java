package dev.lockstep.collector.incident;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.TestClock;
import dev.lockstep.collector.store.AuditLog;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.AuditEntry;
import dev.lockstep.proto.v1.GoldenError;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.LogMatch;
import dev.lockstep.proto.v1.Severity;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlaybookTest {
  @TempDir Path dir;

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
    Incidents.Raise bad = Playbook.badGolden("h", GoldenReport.newBuilder().setPath("/g/x.json")
        .setError(GoldenError.newBuilder().setCode("TRUNCATED").setLine(3).setColumn(9).setMessage("eof")).build());
    assertThat(bad.kind()).isEqualTo(IncidentKind.BAD_GOLDEN);
    assertThat(bad.severity()).isEqualTo(Severity.P2);
    assertThat(bad.title()).contains("/g/x.json:3:9").contains("TRUNCATED");
    assertThat(Playbook.webhookFailure("hook", "HTTP 503").severity()).isEqualTo(Severity.P3);
  }

  @Test
  void repeatsAreCountedEscalationsRaiseSeverityAndChangesAreAudited() throws Exception {
    TestClock clock = new TestClock(Instant.parse("2026-01-01T00:00:00Z"));
    try (Store store = Store.open(dir, true, 8 << 20, 8 << 20)) {
      AuditLog audit = new AuditLog(store, clock);
      Incidents book = new Incidents(store, audit, clock);
      Incidents.Raise warn = Playbook.fromHealth("h", sample(HealthSample.Probe.DISK, HealthSample.Level.WARN)).orElseThrow();
      Incidents.Raise crit = Playbook.fromHealth("h", sample(HealthSample.Probe.DISK, HealthSample.Level.CRITICAL)).orElseThrow();
      Incident first = book.raise(warn).incident();
      assertThat(first.getId()).isEqualTo("INC-000001");
      clock.advance(Duration.ofMinutes(1));
      assertThat(book.raise(warn).change()).isEqualTo(Incidents.Change.REPEATED);
      clock.advance(Duration.ofMinutes(1));
      Incidents.Outcome esc = book.raise(crit);
      assertThat(esc.change()).isEqualTo(Incidents.Change.ESCALATED);
      assertThat(esc.incident().getSeverity()).isEqualTo(Severity.P1);
      assertThat(esc.incident().getCount()).isEqualTo(3);
      assertThat(esc.incident().getLastSeen().getSeconds() - esc.incident().getFirstSeen().getSeconds())
          .isEqualTo(120);
      Incident acked = book.acknowledge("INC-000001", "on it", "alice", "10.0.0.1:5000");
      assertThat(acked.getNotesList()).anySatisfy(n -> {
        assertThat(n.getBy()).isEqualTo("alice");
        assertThat(n.getNote()).isEqualTo("on it");
      });
      // The operator's ack is audited by the Operator service with the caller's certificate role
      // (see the collector's TlsTest and the CLI's tests); the incident book audits its own changes.
      List<AuditEntry> entries = audit.list(0, 100);
      assertThat(entries).extracting(AuditEntry::getAction)
          .containsExactly("incident.escalate", "incident.open");
    }
    try (Store store = Store.open(dir, true, 8 << 20, 8 << 20)) {
      Incidents again = new Incidents(store, new AuditLog(store, clock), clock);
      assertThat(again.get("INC-000001")).isPresent();
      Incidents.Raise other = Playbook.webhookFailure("hook", "x");
      assertThat(again.raise(other).incident().getId()).isEqualTo("INC-000002");
    }
  }
}
