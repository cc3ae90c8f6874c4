package dev.lockstep.agent.stop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.proto.lite.v1.StopMode;
import dev.lockstep.proto.lite.v1.StopOrder;
import dev.lockstep.proto.lite.v1.StopScope;
import dev.lockstep.proto.lite.v1.StopState;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StopThreadErrorTest {
  @TempDir Path root;

  /**
   * An Error on the enactment thread (here thrown where the ack is sent) goes to the fatal action
   * — the agent's exit for its supervisor to restart it — instead of ending the thread quietly and
   * leaving an agent that enacts no later stop.
   */
  @Test
  void anErrorWhileEnactingGoesToTheFatalAction() throws Exception {
    CompletableFuture<String> fatal = new CompletableFuture<>();
    try (AgentMetrics metrics = new AgentMetrics()) {
      StopEnactor stop = new StopEnactor("a1", AgentConfig.defaults("a1", "h:1", root).stop(), root,
          Clock.systemUTC(), metrics, ack -> {
            throw new OutOfMemoryError("injected");
          }, notice -> { }, line -> { });
      try {
        stop.onFatal((component, e) -> fatal.complete(component + ": " + e.getMessage()));
        stop.offer(StopState.newBuilder().setGeneration(2).setMode(StopMode.STOPPED)
            .addOrders(StopOrder.newBuilder().setId("ORD-2").setScope(StopScope.newBuilder().setFleet(true)))
            .build(), false);
        assertThat(fatal.get(30, TimeUnit.SECONDS)).isEqualTo("stop: injected");
      } finally {
        stop.close();
      }
    }
  }
}
