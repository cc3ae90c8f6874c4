package dev.lockstep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training run of cli/make-cds.sh runs each listed command, one per line, tab-separated arguments. */
class TrainingTest {
  @TempDir Path dir;

  @Test
  void runsEveryListedCommandInThisJvm() throws Exception {
    Path golden = Files.createDirectories(dir.resolve("g"));
    Files.writeString(golden.resolve("r.primary.golden.json"), "{\"run_id\":\"r\",\"steps\":[{\"index\":0}]}");
    Files.writeString(golden.resolve("r.shadow.golden.json"), "{\"run_id\":\"r\",\"steps\":[{\"index\":0}]}");
    Path first = dir.resolve("first.json");
    Path second = dir.resolve("second.json");
    Path commands = Files.writeString(dir.resolve("training.tsv"), String.join("\n",
        "--version",
        "summary\t--dir\t" + golden + "\t--out\t" + first,
        "",
        "hash\t" + golden.resolve("r.primary.golden.json"),
        "summary\t--dir\t" + golden + "\t--out\t" + second, ""));
    Training.main(new String[] {commands.toString()});
    assertThat(first).exists();
    assertThat(Files.readString(second)).contains("\"matches\" : 1");
  }
}
