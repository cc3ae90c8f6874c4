package dev.lockstep.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository's {@code ./lockstep} launcher, copied into a scratch checkout whose {@code mvnw}
 * stands in for a 2-second build (a real build inside a test would take minutes): two first runs
 * at once build once, one after the other, never into the same target/ at the same time.
 */
class LauncherTest {
  static final Path LAUNCHER = Path.of("..", "lockstep").toAbsolutePath().normalize();

  @Test
  void twoFirstRunsAtOnceBuildOnceUnderTheLock(@TempDir Path root) throws Exception {
    Files.copy(LAUNCHER, root.resolve("lockstep"));
    assertThat(root.resolve("lockstep").toFile().setExecutable(true)).isTrue();
    Path builds = root.resolve("builds.log");
    Files.writeString(root.resolve("mvnw"), """
        #!/usr/bin/env bash
        echo "start $$" >> "%s"
        sleep 2
        for m in proto golden security agent collector cli; do
          mkdir -p "$m/target/lib" && touch "$m/target/lockstep-$m-0.1.0.jar"
        done
        echo "end $$" >> "%s"
        """.formatted(builds, builds));
    assertThat(root.resolve("mvnw").toFile().setExecutable(true)).isTrue();

    List<Process> runs = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      runs.add(new ProcessBuilder(root.resolve("lockstep").toString(), "version")
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(root.resolve("stderr-" + i + ".txt").toFile()).start());
    }
    for (Process p : runs) {
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }

    List<String> log = Files.readAllLines(builds);
    assertThat(log).hasSize(2);
    assertThat(log.get(0)).startsWith("start ");
    assertThat(log.get(1)).isEqualTo(log.get(0).replace("start", "end"));
    String stderr = Files.readString(root.resolve("stderr-0.txt"), StandardCharsets.UTF_8)
        + Files.readString(root.resolve("stderr-1.txt"), StandardCharsets.UTF_8);
    assertThat(stderr).contains("lockstep: building").contains("waiting for another build");
    assertThat(root.resolve("target/.lockstep-built")).exists();
  }
}
