package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GoldenReaderTest {
  @TempDir Path dir;

  @Test
  void oneReaderSummarisesFileAfterFileExactlyAsGoldenReadDoesEvenAfterAFailure() throws Exception {
    List<Path> files = new ArrayList<>();
    files.add(write("a.primary.golden.json", Samples.primary()));
    files.add(write("b.shadow.golden.json", Samples.golden("shadow", 42, "2025-12-02T10:00:01Z", "{\"n\": 4}",
        "[0.5, 0.25]", "{\"eur\": 1.09}")));
    StringBuilder big = new StringBuilder("{\"run_id\":\"big\",\"role\":\"primary\",\"steps\":[");
    for (int i = 0; i < 30_000; i++) {
      big.append(i == 0 ? "" : ",").append("{\"index\":").append(i).append(",\"output\":{\"v\":\"").append(i).append("\"}}");
    }
    // fails half way through hashing (a duplicate key is found while canonicalising), after
    // digests were fed: the next file must not inherit any of it
    files.add(write("broken.golden.json", big + ",{\"index\":30000,\"output\":{\"v\":1,\"v\":2}}]}"));
    files.add(write("big.golden.json", big.append("]}").toString())); // larger than the buffer kept
    files.add(write("c.primary.golden.json", Samples.primary().replace("billing", "ledger")));
    GoldenReader reader = new GoldenReader(GoldenConfig.DEFAULT);
    for (int round = 0; round < 2; round++) {
      for (Path f : files) {
        long hint = round == 0 ? Files.size(f) : 10; // a hint too small only costs a bigger buffer
        if (f.getFileName().toString().startsWith("broken")) {
          assertThatThrownBy(() -> reader.read(f, hint)).isInstanceOf(GoldenParseException.class)
              .hasMessageContaining(f.toString());
          continue;
        }
        assertThat(reader.read(f, hint)).as(f.toString()).isEqualTo(Golden.read(f, GoldenConfig.DEFAULT).summary());
      }
    }
  }

  @Test
  void limitsAndIoErrorsAreTypedErrors() throws Exception {
    Path f = write("x.golden.json", Samples.primary());
    GoldenConfig tiny = new GoldenConfig(new GoldenConfig.Limits(100, 512, 1000), GoldenConfig.Mapping.DEFAULT,
        GoldenConfig.VolatileMask.DEFAULT);
    GoldenReader reader = new GoldenReader(tiny);
    assertThatThrownBy(() -> reader.read(f, 0)).isInstanceOf(GoldenParseException.class)
        .satisfies(e -> assertThat(((GoldenParseException) e).code()).isEqualTo(GoldenParseException.Code.TOO_LARGE));
    assertThatThrownBy(() -> reader.read(dir.resolve("missing.json"), 0)).isInstanceOf(GoldenParseException.class)
        .satisfies(e -> assertThat(((GoldenParseException) e).code()).isEqualTo(GoldenParseException.Code.IO));
  }

  private Path write(String name, String content) throws Exception {
    return Files.writeString(dir.resolve(name), content);
  }
}
