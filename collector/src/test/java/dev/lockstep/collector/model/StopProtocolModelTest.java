package dev.lockstep.collector.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * docs/model/stop-orders.pml, the stop-order protocol (orders, generations, acks, adoption,
 * restores from backups, fail-safe stops, states enacted after their stream broke), checked
 * exhaustively with Spin: no error in the model as built, and each mutant — one rule of the
 * collector or the agent taken out — caught with the assertion it breaks (so the check is not
 * vacuous). Spin and a C compiler come from .ci/run (Debian packages spin and gcc).
 *
 * <p>The build checks 3 driver steps (operator actions, disconnects, restores, fail-safes) after
 * which everything settles; deeper runs by hand: {@code spin -a -DBUDGET=4 stop-orders.pml &&
 * gcc -O2 -DSAFETY -o pan pan.c && ./pan -m100000} (11 million states, no error).
 */
class StopProtocolModelTest {
  static final Path MODEL = Path.of("..", "docs", "model", "stop-orders.pml").toAbsolutePath().normalize();

  @TempDir Path dir;

  record Run(int exit, String output) {}

  Run run(Path cwd, String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("%s finished", List.of(command)).isTrue();
    return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** Generates, compiles and runs the verifier; returns pan's report. */
  String verify(String... defines) throws Exception {
    Files.copy(MODEL, dir.resolve("stop-orders.pml"));
    List<String> spin = new ArrayList<>(List.of("spin", "-a", "-DBUDGET=3"));
    for (String d : defines) spin.add("-D" + d);
    spin.add("stop-orders.pml");
    Run generated = run(dir, spin.toArray(String[]::new));
    assertThat(generated.exit()).as(generated.output()).isZero();
    Run compiled = run(dir, "gcc", "-O2", "-w", "-DSAFETY", "-o", "pan", "pan.c");
    assertThat(compiled.exit()).as(compiled.output()).isZero();
    Run checked = run(dir, "./pan", "-m100000");
    assertThat(checked.output()).as("pan ran the whole search")
        .contains("State-vector").doesNotContain("max search depth too small");
    return checked.output();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "none (the protocol as built)|''",
      "the agent resumes on any RUNNING|NO_RELEASE_CHECK",
      "a restored collector ignores the stops agents report|NO_ADOPTION",
      "generations are prev+1 only (no clock floor)|NO_CLOCK_FLOOR",
      "refused and stale acks teach the collector nothing|NO_ACK_LEARNING"})
  void spinFindsNoErrorInTheProtocolAndCatchesEveryMutant(String what, String mutant) throws Exception {
    String report = mutant.isEmpty() ? verify() : verify(mutant);
    if (mutant.isEmpty()) {
      assertThat(report).as(report).contains("errors: 0");
      return;
    }
    String broken = switch (mutant) {
      case "NO_RELEASE_CHECK", "NO_ADOPTION" -> "opResumed[stale]";   // ran while an order held
      case "NO_CLOCK_FLOOR" -> "g>maxSent[a]";                        // a generation reissued
      default -> "budget<=3";                                         // never converges
    };
    assertThat(report).as(what + ":\n" + report).contains("errors: 1").contains("assertion violated")
        .contains(broken);
  }
}
