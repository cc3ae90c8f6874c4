package dev.lockstep.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * agent/jvm.options, what ./lockstep agent, bin/lockstep-agent and the benchmarks run the agent
 * with: the footprint flags stay, and this JVM starts with all of them and reports them in effect.
 */
class JvmOptionsTest {
  @Test
  void theFootprintFlagsAreThereAndTheJvmStartsWithThem() throws Exception {
    Path options = Path.of("jvm.options").toAbsolutePath();
    List<String> lines = Files.readAllLines(options);
    // C1 inlines less: ~0.6 MiB less code cache at 100 golden files/s
    assertThat(lines).contains("-XX:C1MaxInlineSize=20", "-XX:C1MaxInlineLevel=4", "-XX:TieredStopAtLevel=1",
        "-Xmn1m", "-XX:+UseSerialGC");

    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "@" + options, "-XX:+PrintFlagsFinal", "-version").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).containsPattern("C1MaxInlineSize\\s+= 20\\s")
        .containsPattern("C1MaxInlineLevel\\s+= 4\\s");
    // protobuf-lite's generic parser (2.7 KB of bytecode) is left to the interpreter: it parses the
    // collector's few frames a second, reached C1's threshold only after ~80 s at 100 golden
    // files/s, and C1 compiling it took ~5 MiB of arena memory at once (RSS 61 -> 66 MiB, measured)
    assertThat(lines).contains("-XX:CompileCommand=quiet",
        "-XX:CompileCommand=exclude,com.google.protobuf.MessageSchema::mergeFromHelper");
    assertThat(lines.indexOf("-XX:CompileCommand=quiet")).as("quiet before the command it silences")
        .isLessThan(lines.indexOf("-XX:CompileCommand=exclude,com.google.protobuf.MessageSchema::mergeFromHelper"));
    Process plain = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "@" + options, "-version").redirectErrorStream(true).start();
    String plainOut = new String(plain.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(plain.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(plainOut).as("the agent's output (its log) gets no CompileCommand lines").doesNotContain("CompileCommand");
  }
}
