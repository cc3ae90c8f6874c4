package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.config.CollectorConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RetentionTest {
  @TempDir Path dir;

  @Test
  void oldRecordsGoButRunsOfOpenIncidentsStay() throws Exception {
    TestClock clock = new TestClock(Instant.parse("2026-01-01T00:00:00Z"));
    CollectorConfig config = CollectorConfig.defaults(dir).withInsecure(true).withListen("127.0.0.1", 0)
        .withStopPolicy(CollectorConfig.StopPolicy.OFF)
        .withRetention(new CollectorConfig.Retention(Duration.ofDays(1), Duration.ofDays(2),
            Duration.ofDays(3), Duration.ofDays(30), Duration.ofDays(4)));
    try (Collector c = Collector.start(config, clock, l -> { });
        RawAgent a = RawAgent.connect(c.port(), "host-a")) {
      a.report(Goldens.report("clean", "wf", "primary", "a"), Goldens.report("clean", "wf", "shadow", "a"),
          Goldens.report("bad", "wf", "primary", "a"), Goldens.report("bad", "wf", "shadow", "b"));
      Eventually.await(Duration.ofSeconds(5), "incident", () -> c.fleet().incidents().get("INC-000001").isPresent());
      clock.advance(Duration.ofDays(3));
      c.fleet().retain();
      assertThat(c.fleet().runs().get("clean")).as("decided run past retention").isEmpty();
      assertThat(c.fleet().runs().get("bad")).as("run of an open incident is pinned").isPresent();
      c.fleet().call(new dev.lockstep.collector.core.Input.IncidentAction("INC-000001", true, "done",
          "test", "operator", ""));
      clock.advance(Duration.ofDays(5));
      c.fleet().retain();
      assertThat(c.fleet().runs().get("bad")).isEmpty();
      assertThat(c.fleet().incidents().get("INC-000001")).as("resolved incident past retention").isEmpty();
    }
  }
}
