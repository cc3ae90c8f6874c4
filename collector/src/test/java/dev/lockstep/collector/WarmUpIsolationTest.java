package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.store.Store;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A collector warms its stop path up after start-up on made-up agents and orders: none of it may
 * reach the real store (where it would be a stop order, agents and audit entries nobody made).
 */
class WarmUpIsolationTest {
  @TempDir Path dir;

  @Test
  void theWarmUpRunsAndLeavesNothingInTheCollectorsStore() throws Exception {
    List<String> lines = new CopyOnWriteArrayList<>();
    CollectorConfig config = CollectorConfig.defaults(dir).withInsecure(true).withListen("127.0.0.1", 0);
    // the build turns it off for collectors inside test JVMs (pom.xml); on here, as in production
    String before = System.setProperty("lockstep.collector.warmUpAgents", "1000");
    try (Collector c = Collector.start(config, Clock.systemUTC(), lines::add)) {
      Eventually.await(Duration.ofSeconds(120), "the warm-up's summary line",
          () -> lines.stream().anyMatch(l -> l.startsWith("stop path warmed up")));
      assertThat(lines).anyMatch(l -> l.contains("for 1000 made-up agents, 12000 acks"));
      byte[] needle = "warm-up".getBytes(StandardCharsets.UTF_8);
      List<String> found = new ArrayList<>();
      for (Store.Family f : Store.Family.values()) {
        c.store.scan(f, "", (k, v) -> {
          if (contains(k, needle) || contains(v, needle)) found.add(f + ": " + new String(k, StandardCharsets.UTF_8));
          return true;
        });
      }
      assertThat(found).as("records of the warm-up in the real store").isEmpty();
      assertThat(c.fleet.stopStatus().getAgentsList()).as("agents the collector knows").isEmpty();
      assertThat(dir.resolve("warm-up")).as("the warm-up's scratch store").doesNotExist();
    } finally {
      if (before == null) {
        System.clearProperty("lockstep.collector.warmUpAgents");
      } else {
        System.setProperty("lockstep.collector.warmUpAgents", before);
      }
    }
  }

  static boolean contains(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) continue outer;
      }
      return true;
    }
    return false;
  }
}
