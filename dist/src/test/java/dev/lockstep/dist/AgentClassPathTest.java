package dev.lockstep.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/lockstep-agent runs the agent with its own jars only (lib/agent.classpath and the agent's
 * jar), the class path its footprint is measured with (agent/target/lib), not lib/* with the
 * collector's and the CLI's: every jar on it keeps its central directory on the agent's heap.
 */
class AgentClassPathTest {
  static boolean javaHasTrimFlag() {
    try {
      java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
          .getVMOption("TrimNativeHeapInterval");
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  @Test
  void theInstalledAgentRunsWithItsOwnJarsOnly(@TempDir Path dir) throws Exception {
    try (Shipped shipped = Shipped.unpack(dir.resolve("opt"))) {
      Path golden = Files.createDirectories(dir.resolve("golden"));
      int metricsPort = Shipped.freePort();
      Path config = Shipped.agentConfig(dir, "lean", golden, metricsPort);
      Shipped.Started agent = shipped.start("agent", Map.of("JAVA_HOME", System.getProperty("java.home")),
          dir.resolve("logs"), shipped.bin("lockstep-agent").toString(), "--config", config.toString());
      Shipped.writeGolden(golden, 1);
      URI scrape = URI.create("http://127.0.0.1:" + metricsPort + "/metrics");
      shipped.await(Duration.ofSeconds(60), "the agent reported a golden file",
          () -> Shipped.body(scrape).contains("lockstep_agent_golden_files_total{result=\"ok\"} 1.0"));

      List<String> args = List.of(agent.process().info().arguments().orElseThrow());
      // malloc trimming when this Java has the flag (the launcher tries it), never an unknown flag
      assertThat(args.contains("-XX:TrimNativeHeapInterval=2000")).as("trim flag in %s", args)
          .isEqualTo(javaHasTrimFlag());
      List<Path> classPath = Arrays.stream(args.get(args.indexOf("-cp") + 1).split(":")).map(Path::of).toList();
      Path lib = shipped.home.resolve("lib").toRealPath();
      assertThat(classPath).allMatch(Files::isRegularFile, "an installed jar")
          .allMatch(p -> p.getParent().equals(lib), "in lib/");
      List<String> names = classPath.stream().map(p -> p.getFileName().toString()).toList();
      // what the agent module resolved as its runtime jars (its target/lib holds the same)
      List<String> agentLib = Arrays.stream(Files.readString(shipped.home.resolve("lib/agent.classpath")).strip()
          .split(":")).map(e -> Path.of(e).getFileName().toString()).toList();
      assertThat(agentLib).anyMatch(n -> n.startsWith("grpc-netty-shaded-"))
          // the protocol as lite messages on protobuf's lite runtime, not the full one with descriptors
          .anyMatch(n -> n.startsWith("lockstep-proto-lite-")).anyMatch(n -> n.startsWith("protobuf-javalite-"))
          .noneMatch(n -> n.startsWith("protobuf-java-") || n.matches("lockstep-proto-[0-9].*")
              || n.startsWith("grpc-protobuf-1"));
      assertThat(names).hasSize(agentLib.size() + 1).containsAll(agentLib)
          .anyMatch(n -> n.matches("lockstep-agent-[0-9].*\\.jar"))
          .noneMatch(n -> n.startsWith("rocksdbjni") || n.startsWith("kafka") || n.startsWith("lockstep-collector")
              || n.startsWith("lockstep-cli") || n.startsWith("jackson-databind") || n.startsWith("bcprov"));
      try (Stream<Path> all = Files.list(lib)) {
        assertThat(all.count()).as("lib/ holds every component's jars").isGreaterThan(names.size() + 10);
      }
    }
  }
}
