package dev.lockstep.agent;

import dev.lockstep.agent.config.AgentConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Agent configs tuned for tests: fast settle, fast probes, fast reconnects. */
final class Fixtures {
  private Fixtures() {}

  static AgentConfig config(String id, TestGateway gw, Path root) {
    Path golden = root.resolve("golden");
    golden.toFile().mkdirs();
    return AgentConfig.defaults(id, gw.target(), root.resolve("state"))
        .withReconnect(Duration.ofMillis(100), Duration.ofMillis(400))
        .withGolden(new AgentConfig.GoldenWatch(List.of(golden.toString()), "*.json", Duration.ofMillis(150),
            Duration.ofMillis(200), Duration.ofMillis(600)))
        .withProbes(new AgentConfig.Probes(Duration.ofMillis(100), Duration.ofSeconds(60)))
        .withStopFile(root.resolve("run/EMERGENCY_STOP"));
  }
}
