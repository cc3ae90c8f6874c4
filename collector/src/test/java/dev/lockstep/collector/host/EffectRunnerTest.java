package dev.lockstep.collector.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.core.Effect;
import dev.lockstep.collector.fleet.AgentDirectory;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Hello;
import dev.lockstep.proto.v1.StopState;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EffectRunnerTest {
  @TempDir Path dir;

  /**
   * Health samples are folded to the newest per agent, probe and target before they reach the
   * directory; samples that differ in any of the three are all kept. A failing effect is counted
   * and logged, and the effects after it still run.
   */
  @Test
  void newestSamplePerProbeAndTargetAndAFailingEffectDoesNotStopTheRest() throws Exception {
    ScheduledExecutorService background = Executors.newSingleThreadScheduledExecutor();
    try (Store store = Store.open(dir.resolve("db"), false, 8 << 20, 8 << 20)) {
      AgentDirectory agents = new AgentDirectory(store);
      for (String a : List.of("a", "b")) {
        agents.connected(Hello.newBuilder().setAgentId(a).build(), "127.0.0.1", Instant.EPOCH);
      }
      CollectorMetrics metrics = new CollectorMetrics();
      List<String> progress = new ArrayList<>();
      EffectRunner runner = new EffectRunner(agents, metrics, w -> { }, () -> { }, line -> {
        if (line.equals("boom")) throw new IllegalStateException("progress sink failed");
        progress.add(line);
      }, Clock.systemUTC(), background, Runnable::run);
      runner.accept(List.of(
          seen("a", HealthSample.Probe.PROCESS, "sim", HealthSample.Level.OK, "first"),
          seen("a", HealthSample.Probe.PROCESS, "other", HealthSample.Level.OK, "other target"),
          seen("b", HealthSample.Probe.PROCESS, "sim", HealthSample.Level.OK, "other agent"),
          new Effect.Progress("boom"),
          new Effect.SendStop("a", StopState.getDefaultInstance()), // no gateway attached: nothing
          seen("a", HealthSample.Probe.PROCESS, "sim", HealthSample.Level.CRITICAL, "newest"),
          seen("a", HealthSample.Probe.DISK, "sim", HealthSample.Level.OK, "other probe"),
          new Effect.Progress("after the failure")));
      assertThat(agents.get("a").orElseThrow().getProbesList()).extracting(HealthSample::getSummary)
          .containsExactlyInAnyOrder("newest", "other target", "other probe");
      assertThat(agents.get("b").orElseThrow().getProbesList()).extracting(HealthSample::getSummary)
          .containsExactly("other agent");
      assertThat(progress).containsExactly("after the failure");
      assertThat(metrics.internalErrors.labelValues("effects").get()).isEqualTo(1);
      assertThat(metrics.stopFanoutSeconds.collect().getDataPoints().get(0).getCount()).isEqualTo(1);
    } finally {
      background.shutdownNow();
    }
  }

  private static Effect.ProbeSeen seen(String agent, HealthSample.Probe probe, String target,
      HealthSample.Level level, String summary) {
    return new Effect.ProbeSeen(agent, HealthSample.newBuilder().setProbe(probe).setTarget(target)
        .setLevel(level).setSummary(summary).build());
  }
}
