package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generated completion script, loaded into a real bash. */
class CompletionTest {
  @TempDir Path dir;

  @Test
  void bashCompletesCommandsAndSubcommands() throws Exception {
    Cli.Result r = Cli.run("completion", "bash");
    assertThat(r.exitCode()).isZero();
    Path script = Files.writeString(dir.resolve("lockstep.bash"), r.out());

    String words = bash(script, "COMP_WORDS=(lockstep st); COMP_CWORD=1; _complete_lockstep; echo \"${COMPREPLY[@]}\";"
        + " COMP_WORDS=(lockstep stop ''); COMP_CWORD=2; _complete_lockstep; echo \"${COMPREPLY[@]}\"");

    assertThat(words.lines()).containsExactly("status stop", "enable resume disable status");
  }

  @Test
  void zshGetsTheSameScriptThroughBashcompinit() {
    Cli.Result r = Cli.run("completion", "zsh");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("bashcompinit").contains("complete -F _complete_lockstep");
  }

  @Test
  void anUnknownShellIsAUsageError() {
    Cli.Result r = Cli.run("completion", "fish");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("lockstep: expected bash or zsh, got 'fish'");
  }

  private static String bash(Path script, String commands) throws Exception {
    Process p = new ProcessBuilder("bash", "-c", "source '" + script + "'; " + commands)
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }
}
