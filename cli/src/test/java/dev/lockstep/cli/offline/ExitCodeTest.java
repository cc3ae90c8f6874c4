package dev.lockstep.cli.offline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.golden.GoldenFormat;
import dev.lockstep.golden.GoldenParseException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 0 match, 1 mismatch, 2 bad input, 3 collector, 70 lockstep's own failure: never mixed up. */
class ExitCodeTest {
  @TempDir Path dir;

  @Test
  void badInputIsTwoAndEverythingElseThatEscapesIsInternal() {
    assertThat(OfflineCommands.exitCodeFor(new GoldenParseException("f", 1, 1, GoldenParseException.Code.NOT_JSON, "x")))
        .isEqualTo(2);
    assertThat(OfflineCommands.exitCodeFor(new IllegalArgumentException("refusing to compare different runs"))).isEqualTo(2);
    assertThat(OfflineCommands.exitCodeFor(new IOException("disk"))).isEqualTo(2);
    assertThat(OfflineCommands.exitCodeFor(new NullPointerException())).isEqualTo(ExitCode.INTERNAL);
    assertThat(OfflineCommands.exitCodeFor(new IllegalStateException("bug"))).isEqualTo(70);
    assertThat(OfflineCommands.exitCodeFor(new OutOfMemoryError("Java heap space"))).isEqualTo(70);
    assertThat(OfflineCommands.oneLine(new OutOfMemoryError("Java heap space")))
        .isEqualTo("internal error: out of memory (Java heap space); give the JVM more heap, e.g. LOCKSTEP_JAVA_OPTS=-Xmx4g");
    assertThat(OfflineCommands.oneLine(new IllegalStateException("bug"))).startsWith("internal error: ")
        .contains("a bug in lockstep").doesNotContain("\n");
  }

  @Test
  void runningOutOfMemoryExitsSeventyWithOneLine() throws Exception {
    // a real JVM with a heap smaller than the file: the read itself runs out of memory
    Path big = dir.resolve("big.primary.golden.json");
    try (var out = Files.newBufferedWriter(big)) {
      out.write("{\"run_id\":\"r\",\"pad\":\"");
      char[] chunk = new char[1 << 16];
      java.util.Arrays.fill(chunk, 'x');
      for (int i = 0; i < 600; i++) { // about 40 MB
        out.write(chunk);
      }
      out.write("\"}");
    }
    for (String[] args : List.of(new String[] {"hash", big.toString()},
        new String[] {"diff", "--golden-a", big.toString(), "--golden-b", big.toString()})) {
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx24m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "dev.lockstep.cli.Main"));
      cmd.addAll(List.of(args));
      Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      String err = new String(p.getErrorStream().readAllBytes());
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(err).isEqualTo(70);
      assertThat(err.strip().lines()).as(err).hasSize(1);
      assertThat(err).startsWith("lockstep: internal error: out of memory").contains("-Xmx");
    }
  }

  @Test
  void u64SeedsArePrintedUnsigned() throws Exception {
    Path a = Goldens.write(dir, "a.primary.golden.json", "{\"run_id\":\"r\",\"seed\":18446744073709551615}");
    Lockstep.Result table = Lockstep.run("hash", a.toString());
    assertThat(table.out()).contains("seed      18446744073709551615");
    JsonNode json = new ObjectMapper().readTree(Lockstep.run("hash", "-o", "json", a.toString()).out());
    assertThat(json.get(0).get("seed").bigIntegerValue()).isEqualTo(new java.math.BigInteger("18446744073709551615"));
    assertThat(json.get(0).get("format_version").asInt()).isEqualTo(GoldenFormat.VERSION);
  }

  @Test
  void versionNamesTheGoldenFormat() {
    Lockstep.Result r = Lockstep.run("--version");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("golden format " + GoldenFormat.VERSION);
  }
}
