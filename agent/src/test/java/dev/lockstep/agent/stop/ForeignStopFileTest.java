package dev.lockstep.agent.stop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.proto.lite.v1.StopMode;
import dev.lockstep.proto.lite.v1.StopOrder;
import dev.lockstep.proto.lite.v1.StopScope;
import dev.lockstep.proto.lite.v1.StopState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stop file this agent did not write (here: copied from a staging host) keeps the agent
 * STOPPED under one LOCAL order of its own, and holds none of the copied file's orders: a fleet
 * order the collector does not know would be adopted as an active fleet order and stop every
 * agent (found by review). The copied orders are named in the local order's reason.
 */
class ForeignStopFileTest {
  @TempDir Path root;

  @Test
  void aStopFileCopiedFromAnotherHostIsHeldUnderALocalOrderOnly() throws Exception {
    Path stopFile = root.resolve("run/STOP");
    StopState staging = StopState.newBuilder().setGeneration(40).setMode(StopMode.STOPPED).setReason("staging drill")
        .addOrders(StopOrder.newBuilder().setId("ORD-staging-1").setScope(StopScope.newBuilder().setFleet(true))
            .setReason("staging drill").setIssuedBy("op:alice"))
        .build();
    new StopFiles(stopFile, root.resolve("elsewhere/stop-enacted.json"), "staging-7", Clock.systemUTC())
        .writeStopFile(staging, 12, false);
    AgentConfig.Stop config = AgentConfig.defaults("a1", "h:1", root).withStopFile(stopFile)
        .withHooks("true", null, null).stop();
    try (AgentMetrics metrics = new AgentMetrics()) {
      StopEnactor stop = new StopEnactor("a1", config, root.resolve("state"), Clock.systemUTC(), metrics,
          ack -> { }, notice -> { }, line -> { });
      try {
        EnactedStop held = stop.current();
        assertThat(held.stopped()).isTrue();
        assertThat(held.heldOrderIds()).singleElement().asString().startsWith("LOCAL-a1-");
        StopOrder local = held.state().getOrders(0);
        assertThat(local.getScope().getAgentId()).isEqualTo("a1");
        assertThat(local.getReason()).contains("not written by this agent", "ORD-staging-1");
        assertThat(Files.readString(stopFile)).as("the rewritten stop file").doesNotContain("\"ORD-staging-1\"")
            .contains(local.getId());
      } finally {
        stop.close();
      }
    }
  }
}
