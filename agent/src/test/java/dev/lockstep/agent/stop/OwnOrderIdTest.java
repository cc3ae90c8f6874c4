package dev.lockstep.agent.stop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.Eventually;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.metrics.AgentMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The orders an agent takes on its own (LOCAL-…, FAILSAFE-…) have ids the collector keeps as they
 * are, whatever the length of the agent id (up to 128 characters). A longer id the collector
 * adopts as UNNAMED-…; its resume releases that name, which the agent does not hold, so the host
 * would stay stopped for good (found by review).
 */
class OwnOrderIdTest {
  /** Copied from collector/src/main/java/dev/lockstep/collector/core/StopRules.java, ORDER_ID. */
  static final Pattern COLLECTOR_ORDER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}");

  @TempDir Path root;

  static String longAgentId(char last) {
    return "worker-" + "x".repeat(120) + last; // 128 characters, as agent.yaml allows
  }

  StopEnactor enactor(String agentId, AgentMetrics metrics) throws Exception {
    AgentConfig.Stop config = AgentConfig.defaults(agentId, "h:1", root).withStopFile(root.resolve("run/STOP"))
        .withHooks("true", null, null).stop();
    return new StopEnactor(agentId, config, root.resolve("state"), Clock.systemUTC(), metrics,
        ack -> { }, notice -> { }, line -> { });
  }

  @Test
  void aLocalStopOfAnAgentWithA128CharacterIdHasAnIdTheCollectorKeeps() throws Exception {
    String agentId = longAgentId('a');
    assertThat(agentId).hasSize(128);
    Files.createDirectories(root.resolve("run"));
    Files.writeString(root.resolve("run/STOP"), ""); // an operator's touch: a local order
    try (AgentMetrics metrics = new AgentMetrics()) {
      StopEnactor stop = enactor(agentId, metrics);
      try {
        String id = stop.current().heldOrderIds().get(0);
        assertThat(id).startsWith("LOCAL-worker-xxx").matches(COLLECTOR_ORDER_ID);
      } finally {
        stop.close();
      }
    }
  }

  @Test
  void aFailsafeStopOfAnAgentWithA128CharacterIdHasAnIdTheCollectorKeeps() throws Exception {
    try (AgentMetrics metrics = new AgentMetrics()) {
      StopEnactor stop = enactor(longAgentId('a'), metrics);
      try {
        stop.failsafe(Duration.ofMinutes(6));
        Eventually.await("the fail-safe stop enacted", () -> stop.current().stopped() && stop.current().done());
        String id = stop.current().heldOrderIds().get(0);
        assertThat(id).startsWith("FAILSAFE-worker-xxx").matches(COLLECTOR_ORDER_ID);
      } finally {
        stop.close();
      }
    }
  }

  @Test
  void idsKeepShortAgentIdsWholeAndTellLongOnesApart() {
    assertThat(StopEnactor.ownOrderId("LOCAL", "a1", "7-abc")).isEqualTo("LOCAL-a1-7-abc");
    String tail = Long.MAX_VALUE + "-" + "f".repeat(12); // the longest tail: a 19-digit seq
    String a = StopEnactor.ownOrderId("LOCAL", longAgentId('a'), tail);
    String b = StopEnactor.ownOrderId("LOCAL", longAgentId('b'), tail);
    assertThat(a).matches(COLLECTOR_ORDER_ID).endsWith("-" + tail);
    assertThat(b).matches(COLLECTOR_ORDER_ID).isNotEqualTo(a);
    assertThat(StopEnactor.ownOrderId("FAILSAFE", longAgentId('a'), "9999999999999-" + "f".repeat(12)))
        .matches(COLLECTOR_ORDER_ID);
    // just at and just over the limit
    String fits = "y".repeat(128 - "LOCAL-".length() - 1 - tail.length());
    assertThat(StopEnactor.ownOrderId("LOCAL", fits, tail)).isEqualTo("LOCAL-" + fits + "-" + tail).hasSize(128);
    assertThat(StopEnactor.ownOrderId("LOCAL", fits + "y", tail)).matches(COLLECTOR_ORDER_ID);
  }
}
