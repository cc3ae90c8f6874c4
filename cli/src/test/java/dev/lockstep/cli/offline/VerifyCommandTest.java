package dev.lockstep.cli.offline;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real child processes: a shell script standing in for the workflow engine. */
class VerifyCommandTest {
  @TempDir Path dir;

  private Path engine(String body) throws Exception {
    Path script = dir.resolve("engine.sh");
    Files.writeString(script, "#!/bin/sh\nset -e\n" + body);
    script.toFile().setExecutable(true);
    return script;
  }

  private static final String WRITE_GOLDEN = """
      cat > "$1" <<EOF
      {"run_id": "r1", "workflow": "w", "seed": 7, "timestamp": "t$LOCKSTEP_RUN_INDEX",
       "steps": [{"index": 0, "name": "draw", "rng": [$RNG], "output": {"v": 1}}]}
      EOF
      """;

  @Test
  void deterministicWorkflowAgreesAcrossRuns() throws Exception {
    Path golden = dir.resolve("out.golden.json");
    Path script = engine("RNG=0.5\n" + WRITE_GOLDEN + "echo run $LOCKSTEP_RUN_INDEX done\n");
    Lockstep.Result r = Lockstep.run("verify", "--runs", "5", "--golden", golden.toString(), "--",
        script.toString(), golden.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("run 4: sha256:").contains("all 5 runs agree");
    assertThat(r.err()).contains("run 0 done").contains("run 4 done");
  }

  @Test
  void disagreeingRunsExitOneWithTheDiffOfTheFirstDivergentPair() throws Exception {
    Path golden = dir.resolve("out.golden.json");
    Path script = engine("if [ \"$LOCKSTEP_RUN_INDEX\" = 2 ] || [ \"$LOCKSTEP_RUN_INDEX\" = 3 ]; then RNG=0.9; else RNG=0.5; fi\n"
        + WRITE_GOLDEN);
    Lockstep.Result r = Lockstep.run("verify", "--runs", "5", "--golden", golden.toString(), "--",
        script.toString(), golden.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).contains("run 2: sha256:").contains("DIFFERS from run 0")
        .contains("2 of 5 runs differ from run 0 (runs 2, 3)")
        .contains("dissenting runs: 2, 3")
        .contains("first divergent pair: run 0 vs run 2")
        .contains("MISMATCH  UNSEEDED_RNG")
        .containsPattern("/steps/0/rng/0\\s+VALUE\\s+0\\.5\\s+0\\.9");
  }

  @Test
  void failingCommandIsBadInput() throws Exception {
    Path golden = dir.resolve("out.golden.json");
    Path script = engine("echo boom >&2\nexit 3\n");
    Lockstep.Result r = Lockstep.run("verify", "--runs", "3", "--golden", golden.toString(), "--", script.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("boom").contains("lockstep: run 0: command exited with status 3");
  }

  @Test
  void commandThatWritesNoGoldenIsBadInput() throws Exception {
    Path golden = dir.resolve("out.golden.json");
    Files.writeString(golden, "{\"run_id\":\"stale\"}"); // a stale file must not count
    Path script = engine("true\n");
    Lockstep.Result r = Lockstep.run("verify", "--runs", "2", "--golden", golden.toString(), "--", script.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("left no golden file");
  }

  @Test
  void missingCommandIsAUsageError() {
    Lockstep.Result r = Lockstep.run("verify", "--runs", "3", "--golden", "x.json");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("CMD");
  }
}
