package dev.lockstep.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RefusalRateLimitTest {
  /** A clock tests move by hand. */
  static final class TestClock extends Clock {
    Instant now = Instant.parse("2026-03-01T00:00:00Z");

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  final TestClock clock = new TestClock();
  final List<AuditEntry> stored = new ArrayList<>();
  final RefusalRateLimit limit = new RefusalRateLimit(stored::add, 3, Duration.ofMinutes(1), clock);

  AuditEntry entry(AuditEntry.Outcome outcome) {
    return new AuditEntry(clock.instant(), "mallory", "none", "TlsHandshake", "", "unknown", outcome, "");
  }

  @Test
  void aFloodOfRefusalsIsCappedPerWindowAndSummarised() {
    for (int i = 0; i < 10; i++) {
      limit.record(entry(AuditEntry.Outcome.REFUSED));
    }
    assertThat(stored).hasSize(3);
    assertThat(limit.dropped()).isEqualTo(7);

    clock.now = clock.now.plus(Duration.ofMinutes(1));
    limit.record(entry(AuditEntry.Outcome.REFUSED));

    assertThat(stored).hasSize(5);
    assertThat(stored.get(3).action()).isEqualTo("AuditDropped");
    assertThat(stored.get(3).detail()).startsWith("7 refused attempts not recorded");
    assertThat(stored.get(4).action()).isEqualTo("TlsHandshake");
  }

  @Test
  void actionsThatRanAreNeverDropped() {
    for (int i = 0; i < 5; i++) {
      limit.record(entry(AuditEntry.Outcome.REFUSED));
    }
    limit.record(entry(AuditEntry.Outcome.SUCCEEDED));
    limit.record(entry(AuditEntry.Outcome.FAILED));

    assertThat(stored).extracting(AuditEntry::outcome).containsExactly(AuditEntry.Outcome.REFUSED,
        AuditEntry.Outcome.REFUSED, AuditEntry.Outcome.REFUSED, AuditEntry.Outcome.SUCCEEDED,
        AuditEntry.Outcome.FAILED);
  }
}
