package dev.lockstep.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tarball's {@code bin/lockstep} running the offline tools as an operator does: their JVM
 * runs with the compiler directives shipped next to {@code bin/java-flags.sh}, and HotSpot's
 * announcement of them never mixes into {@code -o json} (stdout and stderr are read together).
 */
class ShippedOfflineToolsTest {
  private static final ObjectMapper STRICT = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  @TempDir Path tmp;

  private static String golden(String role, int total) {
    return "{\"format\": \"lockstep.golden/v1\", \"run_id\": \"r1\", \"workflow\": \"w\", \"role\": \"" + role
        + "\", \"seed\": 7, \"steps\": [{\"index\": 0, \"name\": \"s0\", \"kind\": \"compute\", \"output\": {\"n\": 1}}],"
        + " \"output\": {\"total\": " + total + "}}\n";
  }

  @Test
  void hashAndDiffPrintOnlyJsonWithTheShippedDirectivesInEffect() throws Exception {
    try (Shipped dist = Shipped.unpack(tmp.resolve("opt"))) {
      assertThat(dist.bin("c2-sha256.directives")).isRegularFile();
      Path a = Files.writeString(tmp.resolve("a.primary.golden.json"), golden("primary", 42));
      Path b = Files.writeString(tmp.resolve("b.shadow.golden.json"), golden("shadow", 43));
      String lockstep = dist.bin("lockstep").toString();

      Shipped.Run hash = dist.run(Map.of(), lockstep, "hash", "-o", "json", a.toString());
      assertThat(hash.exitCode()).as(hash.output()).isZero();
      assertThat(hash.output()).startsWith("[");
      JsonNode hashes = STRICT.readTree(hash.output());
      assertThat(hashes.get(0).get("run_id").asText()).isEqualTo("r1");

      Shipped.Run diff = dist.run(Map.of(), lockstep, "diff", "--golden-a", a.toString(), "--golden-b", b.toString(),
          "-o", "json");
      assertThat(diff.exitCode()).as(diff.output()).isEqualTo(1);
      assertThat(diff.output()).startsWith("{");
      assertThat(STRICT.readTree(diff.output()).get("verdict").asText()).isEqualTo("MISMATCH");

      // the VM's own output turned back on shows the directives were loaded (on stderr)
      Shipped.Run loud = dist.run(Map.of("LOCKSTEP_JAVA_OPTS", "-XX:+DisplayVMOutput"), lockstep, "hash", a.toString());
      assertThat(loud.exitCode()).as(loud.output()).isZero();
      assertThat(loud.output()).contains("3 compiler directives added");
    }
  }
}
