package dev.lockstep.bench.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.core.EventRules;
import dev.lockstep.proto.v1.Event;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The golden reports the fleet, scale and disk-full benches send pass the collector's event rules
 * (the disk-full bench once sent bare hex hashes, was refused, and waited for a stop that never
 * came), and the mismatch pair really differs.
 */
class BenchReportsTest {
  @Test
  void everyReportABenchSendsIsOneTheCollectorTakes() {
    for (String hash : List.of(SimAgent.PRIMARY_HASH, SimAgent.SHADOW_HASH, SimAgent.FILL_HASH)) {
      Event e = Event.newBuilder().setSeq(1)
          .setGolden(SimAgent.report("run-1", "primary", hash)).build();
      assertThat(EventRules.problem(e)).as("report with %s", hash).isEmpty();
    }
    assertThat(SimAgent.PRIMARY_HASH).isNotEqualTo(SimAgent.SHADOW_HASH);
  }
}
