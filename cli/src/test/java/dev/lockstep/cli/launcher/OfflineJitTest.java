package dev.lockstep.cli.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The offline tools run on a real JVM with the command line the launcher builds (cli/java-flags.sh's
 * cli_command, executed as ./lockstep and bin/lockstep execute it, with this JDK and the cli's class
 * path): C2 compiles the SHA-256 methods and nothing else, and HotSpot's "N compiler directives
 * added" never reaches stdout, where it would break {@code -o json}.
 */
class OfflineJitTest {
  private static final Path FLAGS = Path.of("java-flags.sh").toAbsolutePath();
  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

  @TempDir Path dir;

  record Run(int exitCode, String out, String err) {}

  /** Runs {@code lockstep args...} through cli_command and exec, with {@code env} added. */
  private Run lockstep(Map<String, String> env, String... args) throws Exception {
    StringBuilder script = new StringBuilder(". '" + FLAGS + "'\ncli_command '" + dir + "' '" + JAVA + "' \"$CP\"");
    for (String a : args) {
      script.append(" '").append(a).append('\'');
    }
    script.append("\nexec \"${CLI_COMMAND[@]}\"\n");
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", script.toString());
    pb.environment().remove("LOCKSTEP_JAVA_OPTS");
    pb.environment().put("CP", System.getProperty("java.class.path"));
    pb.environment().putAll(env);
    Process p = pb.start();
    CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
      try {
        return p.getErrorStream().readAllBytes();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out, new String(err.get(), StandardCharsets.UTF_8));
  }

  /** {@code text} as one JSON document and nothing else (no line before it, no value after it). */
  private static JsonNode strictJson(String text) throws IOException {
    return new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(text);
  }

  private Path golden(String name, String role, int steps) throws IOException {
    Path f = dir.resolve(name);
    try (Writer w = Files.newBufferedWriter(f)) {
      w.write("{\"format\": \"lockstep.golden/v1\", \"run_id\": \"r1\", \"workflow\": \"w\", \"role\": \"" + role
          + "\", \"seed\": 7, \"steps\": [\n");
      for (int i = 0; i < steps; i++) {
        w.write((i == 0 ? "" : ",\n") + "{\"index\": " + i + ", \"name\": \"s" + i + "\", \"kind\": \"compute\","
            + " \"output\": {\"note\": \"r\\u00e9vision " + i + "\", \"total\": " + (i * 7) + ".25, \"ok\": true}}");
      }
      w.write("\n], \"output\": {\"total\": 42}}\n");
    }
    return f;
  }

  @Test
  void jsonOutputOfTheOfflineToolsIsOnlyJson() throws Exception {
    Path a = golden("a.primary.golden.json", "primary", 50);
    Path b = golden("b.shadow.golden.json", "shadow", 50);

    Run hash = lockstep(Map.of(), "hash", "-o", "json", a.toString());
    assertThat(hash.exitCode()).as(hash.err()).isZero();
    assertThat(hash.out()).startsWith("[");
    assertThat(strictJson(hash.out()).get(0).get("run_id").asText()).isEqualTo("r1");

    Run diff = lockstep(Map.of(), "diff", "--golden-a", a.toString(), "--golden-b", b.toString(), "-o", "json");
    assertThat(diff.exitCode()).as(diff.err()).isZero();
    assertThat(diff.out()).startsWith("{");
    assertThat(strictJson(diff.out()).isObject()).isTrue();

    for (Run r : List.of(hash, diff)) {
      assertThat(r.out() + r.err()).doesNotContain("compiler directives").doesNotContain("Could not load");
      assertThat(r.err()).isEmpty();
    }
  }

  @Test
  void c2CompilesTheSha256MethodsAndNothingElse() throws Exception {
    Path big = golden("big.primary.golden.json", "primary", 60_000); // about 8 MB
    // the user's flags come last: the VM's output turned back on goes to stderr, not stdout
    Run r = lockstep(Map.of("LOCKSTEP_JAVA_OPTS", "-XX:+DisplayVMOutput -XX:+PrintCompilation"),
        "hash", "-o", "json", big.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("[");
    assertThat(strictJson(r.out()).get(0).get("run_id").asText()).isEqualTo("r1");
    assertThat(r.err()).contains("3 compiler directives added");
    // PrintCompilation: "<ms> <id> <flags> <tier> <method> (<size> bytes)"; C2 is tier 4
    List<String> c2 = r.err().lines().filter(l -> l.matches("\\s*\\d+\\s+\\d+\\s+[%sbn!]*\\s*4\\s+.*")).toList();
    assertThat(c2).as(r.err()).anyMatch(l -> l.contains("sun.security.provider.SHA2::implCompress0")
        || l.contains("sun.security.provider.DigestBase::implCompressMultiBlock0"));
    assertThat(c2).allMatch(l -> l.contains("sun.security.provider.SHA2::implCompress")
        || l.contains("sun.security.provider.DigestBase::implCompressMultiBlock"));
  }
}
