package dev.lockstep.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's class archive as bin/lockstep-agent makes it in LOCKSTEP_AGENT_ARCHIVE_DIR (the
 * systemd unit's state directory otherwise): the first start records the classes it loads, the
 * second makes the archive from that list and runs on it.
 */
class AgentArchiveTest {
  @Test
  void theFirstStartRecordsItsClassesAndTheNextOneRunsOnTheArchiveMadeFromThem(@TempDir Path dir) throws Exception {
    try (Shipped shipped = Shipped.unpack(dir.resolve("opt"))) {
      Path archives = Files.createDirectories(dir.resolve("archives"));
      Path golden = Files.createDirectories(dir.resolve("golden"));
      int metricsPort = Shipped.freePort();
      Path config = Shipped.agentConfig(dir, "archived", golden, metricsPort);
      Map<String, String> env = Map.of("JAVA_HOME", System.getProperty("java.home"),
          "LOCKSTEP_AGENT_ARCHIVE_DIR", archives.toString());
      URI scrape = URI.create("http://127.0.0.1:" + metricsPort + "/metrics");

      Shipped.Started first = shipped.start("first", env, dir.resolve("logs"), shipped.bin("lockstep-agent").toString(),
          "--config", config.toString());
      Shipped.writeGolden(golden, 1);
      shipped.await(Duration.ofSeconds(60), "the first agent reported a golden file",
          () -> Shipped.body(scrape).contains("lockstep_agent_golden_files_total{result=\"ok\"} 1.0"));
      assertThat(arguments(first)).anyMatch(a -> a.startsWith("-XX:DumpLoadedClassList=" + archives));
      assertThat(shipped.end(first)).isTrue();
      Path list = only(archives, ".classlist");
      assertThat(Files.readAllLines(list)).contains("dev/lockstep/agent/AgentMain",
          "io/grpc/netty/shaded/io/grpc/netty/NettyClientHandler");

      Shipped.Started second = shipped.start("second", env, dir.resolve("logs"), shipped.bin("lockstep-agent").toString(),
          "--config", config.toString());
      Shipped.writeGolden(golden, 2);
      shipped.await(Duration.ofSeconds(90), "the second agent reported a golden file",
          () -> Shipped.body(scrape).contains("lockstep_agent_golden_files_total{result=\"ok\"} 1.0"));
      Path jsa = only(archives, ".jsa");
      assertThat(arguments(second)).contains("-XX:SharedArchiveFile=" + jsa);
      assertThat(second.output()).doesNotContain("shared archive", "Unable to use");
    }
  }

  private static List<String> arguments(Shipped.Started s) {
    return List.of(s.process().info().arguments().orElseThrow());
  }

  private static Path only(Path dir, String suffix) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> found = files.filter(p -> p.getFileName().toString().endsWith(suffix)).toList();
      assertThat(found).as("the %s file in %s", suffix, dir).hasSize(1);
      return found.get(0);
    }
  }
}
