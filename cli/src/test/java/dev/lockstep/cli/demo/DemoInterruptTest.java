package dev.lockstep.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ctrl-C (SIGINT/SIGTERM) on a running demo leaves no collector or agent process behind. */
class DemoInterruptTest {

  @Test
  void interruptingTheDemoStopsEveryProcessItStarted(@TempDir Path tmp) throws Exception {
    Path launcher = TestLauncher.write(tmp);
    Path workspace = tmp.resolve("demo");

    ProcessBuilder pb = new ProcessBuilder(TestLauncher.JAVA, "-cp", TestLauncher.CLASSPATH, "dev.lockstep.cli.Main", "demo", "--dir", workspace.toString())
        .redirectErrorStream(true).redirectOutput(tmp.resolve("demo.out").toFile());
    pb.environment().put("LOCKSTEP_LAUNCHER", launcher.toString());
    Process demo = pb.start();
    try {
      // a guard against a demo that never comes up, generous for a loaded 2-core machine
      long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
      while (!(Files.exists(workspace.resolve("agent-host-3.log")) && Files.readString(tmp.resolve("demo.out")).contains("agents connected"))) {
        assertThat(demo.isAlive()).as("demo still running: %s", Files.readString(tmp.resolve("demo.out"))).isTrue();
        assertThat(System.nanoTime()).as("demo reached a running fleet in time").isLessThan(deadline);
        Thread.sleep(100); // polling for the fleet to come up
      }
      List<ProcessHandle> fleet = demo.descendants().toList();
      assertThat(fleet).as("collector and agents run as child processes").hasSizeGreaterThanOrEqualTo(4);

      demo.destroy(); // SIGTERM: what the JVM does on Ctrl-C too (shutdown hooks run)
      assertThat(demo.waitFor(30, TimeUnit.SECONDS)).as("demo exits after the interrupt").isTrue();
      long waitUntil = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (fleet.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < waitUntil) {
        Thread.sleep(100); // polling for the children to exit
      }
      assertThat(fleet.stream().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList())
          .as("processes left behind after the interrupt").isEmpty();
    } finally {
      demo.descendants().forEach(ProcessHandle::destroyForcibly);
      demo.destroyForcibly();
    }
  }
}
