package dev.lockstep.cli.offline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.RunSummary;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HashCommandTest {
  @TempDir Path dir;

  @Test
  void printsIdentityAndRunAndStepHashes() throws Exception {
    Path a = Goldens.write(dir, "r1.primary.golden.json", Goldens.primary("r1"));
    RunSummary s = Golden.read(a, GoldenConfig.DEFAULT).summary();
    Lockstep.Result r = Lockstep.run("hash", a.toString());
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("run_id    r1").contains("role      primary").contains("seed      1234567")
        .contains("hash      " + s.canonicalHash())
        .containsPattern("2  sample\\s+compute\\s+" + s.steps().get(2).canonicalHash());
  }

  @Test
  void jsonIsOneArrayWithAnObjectPerFile() throws Exception {
    Path a = Goldens.write(dir, "r1.primary.golden.json", Goldens.primary("r1"));
    Path b = Goldens.write(dir, "r1.shadow.golden.json", Goldens.shadow("r1"));
    Lockstep.Result r = Lockstep.run("hash", a.toString(), b.toString(), "-o", "json");
    assertThat(r.exitCode()).isZero();
    JsonNode n = new ObjectMapper().readTree(r.out());
    assertThat(n.size()).isEqualTo(2);
    assertThat(n.get(0).get("role").asText()).isEqualTo("primary");
    assertThat(n.get(1).get("role").asText()).isEqualTo("shadow");
    assertThat(n.get(0).get("seed").asLong()).isEqualTo(1234567L);
    // volatile timestamp differs, canonical hashes agree
    assertThat(n.get(0).get("hash").asText()).isEqualTo(n.get(1).get("hash").asText()).startsWith("sha256:");
    assertThat(n.get(0).get("steps").get(1).get("external").asBoolean()).isTrue();
    assertThat(n.get(0).get("steps").get(1).get("response_hash").asText()).startsWith("sha256:");
  }

  @Test
  void badFilesAreReportedAndTheRestStillHashed() throws Exception {
    Path a = Goldens.write(dir, "a.json", Goldens.primary("r1"));
    Path bad = Goldens.write(dir, "bad.json", "{\"run_id\":");
    Lockstep.Result r = Lockstep.run("hash", bad.toString(), a.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("bad.json").contains("[TRUNCATED]");
    assertThat(r.out()).contains("run_id    r1");
  }
  @Test
  void hashWithOnlyFilesRunsWithoutPicocliAndPrintsTheSame() throws Exception {
    Path a = Goldens.write(dir, "a.json", Goldens.primary("r1"));
    Path b = Goldens.write(dir, "b.json", Goldens.shadow("r1"));
    Path bad = Goldens.write(dir, "bad.json", "{\"run_id\":\"r\",\"a\":1,\"a\":2}");
    Path missing = dir.resolve("missing.json");
    java.io.StringWriter sink = new java.io.StringWriter();
    java.io.PrintWriter w = new java.io.PrintWriter(sink);
    // only FILE... is run directly; an option, @file or -- goes through picocli
    assertThat(OfflineCommands.runPlain(w, w, "hash", a.toString())).isZero();
    assertThat(OfflineCommands.runPlain(w, w, "hash", "-o", "table", a.toString())).isNull();
    assertThat(OfflineCommands.runPlain(w, w, "hash", a.toString(), "--debug")).isNull();
    assertThat(OfflineCommands.runPlain(w, w, "hash", "@" + a)).isNull();
    assertThat(OfflineCommands.runPlain(w, w, "hash", "--", a.toString())).isNull();
    assertThat(OfflineCommands.runPlain(w, w, "hash")).isNull();
    assertThat(OfflineCommands.runPlain(w, w, "summary", a.toString())).isNull();
    for (Path[] files : new Path[][] {{a}, {a, b}, {bad, a}, {missing}, {a, missing, bad, b}}) {
      String[] names = java.util.Arrays.stream(files).map(Path::toString).toArray(String[]::new);
      String[] plain = new String[names.length + 1];
      plain[0] = "hash";
      System.arraycopy(names, 0, plain, 1, names.length);
      String[] withOption = new String[names.length + 3];
      withOption[0] = "hash";
      withOption[1] = "-o";
      withOption[2] = "table";
      System.arraycopy(names, 0, withOption, 3, names.length);
      assertThat(Lockstep.run(plain)).isEqualTo(Lockstep.run(withOption));
    }
  }
}
