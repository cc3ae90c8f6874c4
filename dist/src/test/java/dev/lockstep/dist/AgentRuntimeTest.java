package dev.lockstep.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's jlink runtime image (dist/make-runtime.sh, shipped as runtime/ when the tarball is
 * built on JDK 25+), made here from the JDK running the tests and put into an unpacked tarball:
 * bin/lockstep-agent runs on it when JAVA_HOME is unset, and the agent works on only the modules
 * dist/runtime-modules lists (config, golden watching, its /metrics endpoint, gRPC).
 */
class AgentRuntimeTest {
  @Test
  void theAgentRunsOnItsJlinkImageWithOnlyTheListedModules(@TempDir Path dir) throws Exception {
    try (Shipped shipped = Shipped.unpack(dir.resolve("opt"))) {
      Path runtime = shipped.home.resolve("runtime");
      Shipped.Run made = Shipped.run(Map.of(), Path.of("."), Path.of("make-runtime.sh").toAbsolutePath().toString(),
          System.getProperty("java.home"), runtime.toString());
      assertThat(made.exitCode()).as(made.output()).isZero();

      List<String> wanted = Files.readAllLines(Path.of("runtime-modules")).stream()
          .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
      Shipped.Run modules = Shipped.run(Map.of(), dir, runtime.resolve("bin/java").toString(), "--list-modules");
      List<String> listed = Arrays.stream(modules.output().split("\n")).map(l -> l.replaceAll("@.*", "").strip())
          .filter(l -> !l.isEmpty()).toList();
      assertThat(listed).containsAll(wanted).doesNotContain("java.desktop", "java.sql", "jdk.jfr", "java.compiler");

      Path golden = Files.createDirectories(dir.resolve("golden"));
      int metricsPort = Shipped.freePort();
      Path config = Shipped.agentConfig(dir, "on-runtime", golden, metricsPort);
      Shipped.writeGolden(golden, 1);
      // JAVA_HOME unset: the launcher picks runtime/ over the java on the PATH
      Shipped.Started agent = shipped.start("agent", Map.of(), dir.resolve("logs"), "env", "-u", "JAVA_HOME",
          shipped.bin("lockstep-agent").toString(), "--config", config.toString());

      URI scrape = URI.create("http://127.0.0.1:" + metricsPort + "/metrics");
      shipped.await(Duration.ofSeconds(60), "the golden file spooled and the golden component running",
          () -> Shipped.body(scrape).contains("lockstep_agent_golden_files_total{result=\"ok\"} 1.0")
              && Shipped.body(scrape).contains("lockstep_agent_component_status{component=\"golden\"} 0.0"));
      String java = agent.process().info().command().orElseThrow();
      assertThat(Path.of(java).toRealPath()).isEqualTo(runtime.resolve("bin/java").toRealPath());
    }
  }
}
