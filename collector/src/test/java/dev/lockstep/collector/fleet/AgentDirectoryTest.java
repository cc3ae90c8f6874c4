package dev.lockstep.collector.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Hello;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentDirectoryTest {
  @TempDir Path dir;

  static HealthSample disk(String target, HealthSample.Level level) {
    return HealthSample.newBuilder().setProbe(HealthSample.Probe.DISK).setTarget(target)
        .setLevel(level).build();
  }

  @Test
  void anAgentsRowKeepsAtMostMaxProbesAndTheKeptOnesStillUpdate() throws Exception {
    try (Store store = Store.open(dir.resolve("db"), true, 8 << 20, 8 << 20)) {
      AgentDirectory d = new AgentDirectory(store);
      d.connected(Hello.newBuilder().setAgentId("a1").build(), "127.0.0.1:1", Instant.EPOCH);
      for (int i = 0; i < 5_000; i++) d.probe("a1", disk("/d" + i, HealthSample.Level.OK));
      assertThat(d.get("a1").orElseThrow().getProbesCount()).isEqualTo(AgentDirectory.MAX_PROBES);
      d.probe("a1", disk("/d0", HealthSample.Level.CRITICAL));
      assertThat(d.get("a1").orElseThrow().getProbesList())
          .hasSize(AgentDirectory.MAX_PROBES)
          .anySatisfy(p -> {
            assertThat(p.getTarget()).isEqualTo("/d0");
            assertThat(p.getLevel()).isEqualTo(HealthSample.Level.CRITICAL);
          });
      assertThat(new AgentDirectory(store).get("a1").orElseThrow().getProbesCount())
          .as("the stored row too").isEqualTo(AgentDirectory.MAX_PROBES);
    }
  }
}
