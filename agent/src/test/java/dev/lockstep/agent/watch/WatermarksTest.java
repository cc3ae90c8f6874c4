package dev.lockstep.agent.watch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.Eventually;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WatermarksTest {
  @TempDir Path state;

  @Test
  void theFileIsReplacedAtMostOnceASecondAndADurableSaveWritesWhatIsPending() throws Exception {
    Path file = state.resolve("golden-watermarks.json");
    Watermarks w = new Watermarks(state);
    Watermarks.Mark m = w.create("/g");
    w.reported(m, "a.golden.json", 10);
    w.save(false);
    assertThat(Files.readString(file)).as("the first save writes").contains("a.golden.json");
    w.reported(m, "b.golden.json", 11);
    w.save(false);
    assertThat(Files.readString(file)).as("a save within the second after it does not").doesNotContain("b.golden.json");
    // what a kill -9 now leaves: b is not in the file, so a restart reports it again (never loses it)
    Watermarks crashed = new Watermarks(state);
    assertThat(Watermarks.seen(crashed.get("/g"), "a.golden.json", 10)).isTrue();
    assertThat(Watermarks.seen(crashed.get("/g"), "b.golden.json", 11)).isFalse();

    Eventually.await("a later save writes what was pending", Duration.ofSeconds(30), () -> {
      try {
        w.save(false);
        return Files.readString(file).contains("b.golden.json");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    w.reported(m, "c.golden.json", 12);
    w.save(true);
    Watermarks reopened = new Watermarks(state);
    assertThat(Watermarks.seen(reopened.get("/g"), "c.golden.json", 12)).as("a durable save writes at once").isTrue();
    assertThat(Watermarks.seen(reopened.get("/g"), "b.golden.json", 11)).isTrue();
  }
}
