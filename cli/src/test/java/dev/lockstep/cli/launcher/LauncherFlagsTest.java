package dev.lockstep.cli.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVM command line ./lockstep (and the distribution's bin/lockstep) builds, from the shell
 * functions in cli/java-flags.sh, run by a real bash against a fake JDK and fake archives.
 */
class LauncherFlagsTest {
  private static final Path FLAGS = Path.of("java-flags.sh").toAbsolutePath();

  @TempDir Path dir;
  private Path jdk17;
  private Path jdk25;
  private Path jar;

  @BeforeEach
  void fakeJdksAndAJar() throws IOException {
    jdk17 = fakeJdk("jdk17", "17.0.15");
    jdk25 = fakeJdk("jdk25", "25.0.3");
    jar = Files.createDirectories(dir.resolve("cli/target")).resolve("lockstep-cli-0.1.0.jar");
    Files.writeString(jar, "jar");
    Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(60)));
  }

  private Path fakeJdk(String name, String version) throws IOException {
    Path bin = Files.createDirectories(dir.resolve(name).resolve("bin"));
    Path java = bin.resolve("java");
    Files.writeString(java, "#!/bin/sh\necho fake\n");
    java.toFile().setExecutable(true);
    Files.writeString(dir.resolve(name).resolve("release"), "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"" + version + "\"\n");
    return java;
  }

  /** The command line for {@code lockstep args...} on {@code java}, one element per line. */
  private List<String> command(Path java, Map<String, String> env, String... args) throws Exception {
    StringBuilder script = new StringBuilder(". '" + FLAGS + "'\ncli_command '" + dir + "' '" + java + "' '" + jar
        + ":" + dir + "/lib/*'");
    for (String a : args) {
      script.append(" '").append(a).append('\'');
    }
    script.append("\nprintf '%s\\n' \"${CLI_COMMAND[@]}\"\n");
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", script.toString());
    pb.environment().remove("LOCKSTEP_JAVA_OPTS");
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(err).isZero();
    return new ArrayList<>(out.lines().toList());
  }

  private void archive(String name, String madeWith) throws IOException {
    Path a = dir.resolve("cli/target").resolve(name);
    Files.writeString(a, "archive");
    Files.writeString(dir.resolve("cli/target").resolve(name + ".java"), madeWith + "\n");
  }

  @Test
  void offlineToolsKeepTheTieredJitWithC2OnlyForSha256AndOtherCommandsRunC1Only() throws Exception {
    String directives = "-XX:CompilerDirectivesFile=" + FLAGS.resolveSibling("c2-sha256.directives");
    for (String tool : List.of("hash", "diff", "summary", "verify")) {
      List<String> c = command(jdk17, Map.of(), "--debug", tool, "x.json");
      assertThat(c).as(tool).doesNotContain("-XX:TieredStopAtLevel=1").contains("-XX:PretenureSizeThreshold=1m")
          .contains(directives, "-XX:-DisplayVMOutput", "-XX:+DisplayVMOutputToStderr")
          .contains("-XX:Tier4InvocationThreshold=100", "-XX:Tier4MinInvocationThreshold=50",
              "-XX:Tier4CompileThreshold=150", "-XX:Tier4BackEdgeThreshold=1000", "-XX:CICompilerCount=6")
          .doesNotContain("-XX:FreqInlineSize=150");
      assertThat(c.indexOf("-XX:+UnlockDiagnosticVMOptions")).as(tool).isPositive().isLessThan(c.indexOf(directives));
      assertThat(c.subList(c.indexOf("dev.lockstep.cli.Main"), c.size())).containsExactly(
          "dev.lockstep.cli.Main", "--debug", tool, "x.json");
    }
    for (String online : List.of("status", "stop", "incidents", "--help")) {
      assertThat(command(jdk17, Map.of(), online)).as(online).contains("-XX:TieredStopAtLevel=1")
          .doesNotContain("-XX:PretenureSizeThreshold=1m").doesNotContain("-XX:FreqInlineSize=150");
    }
    // a file named like a command after -- is not the command
    assertThat(command(jdk17, Map.of(), "--", "hash")).contains("-XX:TieredStopAtLevel=1");
  }

  @Test
  void withoutTheDirectivesFileOfflineToolsRunTheWholeTieredJit() throws Exception {
    Path alone = dir.resolve("alone");
    Files.createDirectories(alone);
    Files.copy(FLAGS, alone.resolve("java-flags.sh"));
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", ". '" + alone.resolve("java-flags.sh") + "'\ncli_command '"
        + dir + "' '" + jdk17 + "' '" + jar + "' hash x.json\nprintf '%s\\n' \"${CLI_COMMAND[@]}\"\n");
    pb.environment().remove("LOCKSTEP_JAVA_OPTS");
    Process p = pb.start();
    List<String> c = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(c).contains("-XX:FreqInlineSize=150", "-XX:InlineSmallCode=500", "dev.lockstep.cli.Main")
        .doesNotContain("-XX:TieredStopAtLevel=1").noneMatch(a -> a.contains("CompilerDirectivesFile"));
  }

  @Test
  void lockstepJavaOptsComeLastSoTheUserWins() throws Exception {
    List<String> c = command(jdk17, Map.of("LOCKSTEP_JAVA_OPTS", "-Xmx2g -XX:TieredStopAtLevel=4"), "status");
    int ours = c.indexOf("-XX:TieredStopAtLevel=1");
    assertThat(ours).isPositive();
    assertThat(c.indexOf("-Xmx2g")).isGreaterThan(ours).isEqualTo(c.indexOf("-cp") - 2);
    assertThat(c.indexOf("-XX:TieredStopAtLevel=4")).isEqualTo(c.indexOf("-cp") - 1);
    assertThat(c.get(0)).isEqualTo(jdk17.toString());
  }

  @Test
  void jdk25UsesTheAotCacheAndOlderJdksTheAppCdsArchiveMadeForThem() throws Exception {
    archive("lockstep-cli.aot", "25.0.3");
    archive("lockstep-cli.jsa", "17.0.15");
    String aot = "-XX:AOTCache=" + dir.resolve("cli/target/lockstep-cli.aot");
    String jsa = "-XX:SharedArchiveFile=" + dir.resolve("cli/target/lockstep-cli.jsa");
    assertThat(command(jdk25, Map.of(), "hash", "x")).contains(aot).doesNotContain(jsa);
    assertThat(command(jdk17, Map.of(), "hash", "x")).contains(jsa, "-Xshare:auto").doesNotContain(aot);
  }

  @Test
  void anArchiveForAnotherJavaOrOlderThanTheJarIsNotUsed() throws Exception {
    archive("lockstep-cli.aot", "25.0.2");
    assertThat(command(jdk25, Map.of(), "hash", "x")).noneMatch(a -> a.startsWith("-XX:AOTCache"));
    archive("lockstep-cli.aot", "25.0.3");
    Files.setLastModifiedTime(dir.resolve("cli/target/lockstep-cli.aot"), FileTime.from(Instant.now().minusSeconds(600)));
    assertThat(command(jdk25, Map.of(), "hash", "x")).noneMatch(a -> a.startsWith("-XX:AOTCache"));
  }

  @Test
  void theJavaVersionComesFromTheJdksReleaseFile() throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", ". '" + FLAGS + "'; java_version '" + jdk25 + "'");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(out).isEqualTo("25.0.3");
  }

  /** The agent's malloc-trim flag is added only when the Java starts with it (an unknown -XX flag is fatal). */
  @Test
  void theAgentsTrimFlagIsAddedOnlyWhenThatJavaAcceptsIt() throws Exception {
    Path refusing = dir.resolve("refusing-java");
    Files.writeString(refusing, "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in -XX:TrimNativeHeapInterval=*)"
        + " echo 'Unrecognized VM option' >&2; exit 1 ;; esac; done\nexit 0\n");
    refusing.toFile().setExecutable(true);
    Path accepting = dir.resolve("accepting-java");
    Files.writeString(accepting, "#!/bin/sh\nexit 0\n");
    accepting.toFile().setExecutable(true);
    assertThat(trimFlags(refusing)).isEmpty();
    assertThat(trimFlags(accepting)).containsExactly("-XX:TrimNativeHeapInterval=2000");
  }

  private List<String> trimFlags(Path java) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", ". '" + FLAGS + "'; agent_trim_flags '" + java
        + "'; for f in \"${AGENT_TRIM_FLAGS[@]}\"; do printf '%s\\n' \"$f\"; done");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    return out.lines().toList();
  }
}
