package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Documents larger than the canonicaliser's buffer: large objects are written in two phases
 * (names collected, then members in order) and give the very bytes small buffered ones give; the
 * memory a hash takes stays bounded; deep nesting never overflows a small thread stack.
 */
class LargeDocumentTest {
  @TempDir Path dir;

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  /** A golden document of about {@code bytes} with {@code steps} large steps, unsorted names, pretty-printed. */
  static byte[] document(int bytes, int steps, long seed) {
    Random r = new Random(seed);
    StringBuilder sb = new StringBuilder("{\n  \"run_id\": \"big\",\n  \"role\": \"primary\",\n  \"seed\": 18446744073709551615,\n  \"timestamp\": \"t\",\n  \"steps\": [\n");
    int perStep = bytes / steps;
    for (int i = 0; i < steps; i++) {
      sb.append(i == 0 ? "" : ",\n").append("    {\"name\": \"s").append(i).append("\", \"index\": ").append(i)
          .append(", \"started_at\": ").append(r.nextInt()).append(", \"output\": {\"rows\": [");
      int start = sb.length();
      int k = 0;
      while (sb.length() - start < perStep) {
        sb.append(k == 0 ? "" : ",\n        ").append("{\"z\": ").append(r.nextLong()).append(", \"a\": ")
            .append(r.nextDouble()).append(", \"m\": \"r\\u00e9vision \\u2014 ").append(k).append("\", \"big\": ")
            .append(Long.MAX_VALUE).append("99}");
        k++;
      }
      sb.append("], \"total\": 1.50}, \"hash\": \"h").append(i).append("\"}");
    }
    sb.append("\n  ],\n  \"output\": {\"b\": 2, \"a\": 1}\n}\n");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void largeObjectsWrittenInTwoPhasesGiveTheSameBytesAsBufferedOnes() throws Exception {
    for (long seed = 1; seed <= 40; seed++) {
      Random r = new Random(seed);
      byte[] bytes = Gen.bytes(Gen.golden(r, 1 + r.nextInt(4)), Gen.Style.random(r));
      GoldenConfig config = Gen.config(r);
      // bigBytes 1: every container counts as large, so every object takes the two-phase path
      Layout everyObjectLarge = JsonSyntax.check(bytes, bytes.length, "x", config.limits(), 1);
      Layout usual = JsonSyntax.check(bytes, bytes.length, "x", config.limits(), Canonicalizer.BIG_BYTES);
      assertThat(Golden.summarize(bytes, bytes.length, everyObjectLarge, "x", config, false))
          .as("seed %d", seed).isEqualTo(Golden.summarize(bytes, bytes.length, usual, "x", config, false));
      assertThat(canonical(bytes, everyObjectLarge)).isEqualTo(canonical(bytes, usual));
    }
  }

  private static String canonical(byte[] bytes, Layout layout) throws GoldenParseException {
    GoldenDocument.Canonical c = Canonicalizer.whole(bytes, bytes.length, layout, "x");
    return new String(c.bytes(), 0, c.length(), StandardCharsets.UTF_8);
  }

  @Test
  void aMultiMegabyteDocumentAgreesWithTheReference() throws Exception {
    byte[] bytes = document(3 << 20, 3, 7); // steps of about 1 MiB: larger than the buffer
    assertThat(Golden.parse(bytes, "big.primary.golden.json", GoldenConfig.DEFAULT).summary())
        .isEqualTo(ReferenceSummary.of(bytes, "big.primary.golden.json", GoldenConfig.DEFAULT));
  }

  @Test
  void hashingTakesTheFileAndABoundedBufferNotACopyOfTheDocument() throws Exception {
    byte[] bytes = document(8 << 20, 4, 11);
    Golden.parse(bytes, "warm", GoldenConfig.DEFAULT); // load classes outside the measurement
    long before = THREADS.getCurrentThreadAllocatedBytes();
    RunSummary s = Golden.parse(bytes, "m.golden.json", GoldenConfig.DEFAULT).summary();
    long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
    assertThat(s.steps()).hasSize(4);
    // everything allocated, not only what is live at the peak, stays far below the document
    assertThat(allocated).as("allocated while hashing %d bytes", bytes.length).isLessThan(2L << 20);

    Layout layout = JsonSyntax.check(bytes, bytes.length, "x", GoldenConfig.Limits.DEFAULT, Canonicalizer.BIG_BYTES);
    Canonicalizer c = new Canonicalizer(Slots.forHashing(GoldenConfig.DEFAULT), new SummaryBuilder(GoldenConfig.DEFAULT),
        false, Hashes.sha256());
    c.walk(bytes, bytes.length, layout, "x");
    assertThat(c.workingBytes()).isLessThan(2L << 20);
  }

  @Test
  void aDiffKeepsTheCanonicalFormsNotTheFilesOrATree() throws Exception {
    byte[] a = document(4 << 20, 4, 21);
    byte[] b = new String(a, StandardCharsets.UTF_8).replace("\"total\": 1.50}, \"hash\": \"h2\"", "\"total\": 1.75}, \"hash\": \"h2\"")
        .getBytes(StandardCharsets.UTF_8);
    Path fa = Files.write(dir.resolve("big.primary.golden.json"), a);
    Path fb = Files.write(dir.resolve("big.shadow.golden.json"), b);
    Golden.readForDiff(fa, GoldenConfig.DEFAULT); // warm up
    long before = THREADS.getCurrentThreadAllocatedBytes();
    GoldenDocument da = Golden.readForDiff(fa, GoldenConfig.DEFAULT);
    GoldenDocument db = Golden.readForDiff(fb, GoldenConfig.DEFAULT);
    long read = THREADS.getCurrentThreadAllocatedBytes() - before;
    DiffReport r = GoldenDiff.diff(da, db, GoldenConfig.DEFAULT);
    long diffed = THREADS.getCurrentThreadAllocatedBytes() - before - read;
    assertThat(r.firstDivergentStep()).isEqualTo(new StepRef(2, "s2"));
    assertThat(r.differences()).filteredOn(d -> !d.volatileField()).extracting(Difference::path)
        .containsExactly("/steps/2/output/total");
    // reading: each file once plus its canonical form (at most its size); diffing: next to nothing
    assertThat(read).isLessThan((long) ((a.length + b.length) * 2.1));
    assertThat(diffed).isLessThan((a.length + b.length) / 10);
  }

  @Test
  void nestingAtTheLargestAllowedDepthNeedsNoDeepStack() throws Throwable {
    int depth = GoldenConfig.Limits.MAX_DEPTH_LIMIT;
    GoldenConfig config = new GoldenConfig(new GoldenConfig.Limits(64L << 20, depth, 16 << 20),
        GoldenConfig.Mapping.DEFAULT, GoldenConfig.VolatileMask.DEFAULT);
    String deepA = "{\"run_id\":\"r\",\"x\":" + "{\"a\":[".repeat((depth - 2) / 2) + "1" + "]}".repeat((depth - 2) / 2) + "}";
    String deepB = deepA.replace("[1]", "[2]");
    AtomicReference<Object> result = new AtomicReference<>();
    Thread t = new Thread(null, () -> {
      try {
        GoldenDocument a = Golden.parse(deepA.getBytes(StandardCharsets.UTF_8), "a", config);
        GoldenDocument b = Golden.parse(deepB.getBytes(StandardCharsets.UTF_8), "b", config);
        result.set(GoldenDiff.diff(a, b, config));
      } catch (Throwable e) {
        result.set(e);
      }
    }, "small-stack", 256 * 1024);
    t.start();
    t.join();
    if (result.get() instanceof Throwable e) {
      throw e;
    }
    DiffReport r = (DiffReport) result.get();
    assertThat(r.differences()).hasSize(1);
    assertThat(r.differences().get(0).path()).endsWith("/a/0").hasSizeGreaterThan(depth);
  }

  @Test
  void theConfigsStepsArrayIsFoundWhereverTheMappingPutsIt() throws Exception {
    GoldenConfig.Mapping m = new GoldenConfig.Mapping("/meta/id", "/meta/wf", "/meta/role", "/meta/seed", "/digest",
        "/result", "/trace/items", "/i", "/n", "/k", "/h", java.util.List.of("rand"), "/io/reply");
    GoldenConfig config = new GoldenConfig(GoldenConfig.Limits.DEFAULT, m, GoldenConfig.VolatileMask.DEFAULT);
    String json = "{\"meta\":{\"id\":\"x\",\"seed\":\"42\"},\"trace\":{\"items\":[{\"i\":3,\"n\":\"a\",\"io\":{\"reply\":1},"
        + "\"rand\":[1]},{\"i\":1,\"n\":\"b\",\"h\":\"hb\"}]}}";
    RunSummary s = Golden.parse(json.getBytes(StandardCharsets.UTF_8), "x", config).summary();
    assertThat(s.steps()).extracting(StepSummary::index, StepSummary::name).containsExactly(
        org.assertj.core.groups.Tuple.tuple(3, "a"), org.assertj.core.groups.Tuple.tuple(1, "b"));
    assertThat(s.steps().get(0).external()).isTrue();
    assertThat(s.steps().get(0).rngHash()).isNotEmpty();
    assertThat(s.steps().get(1).engineHash()).isEqualTo("hb");
    assertThat(s).isEqualTo(ReferenceSummary.of(json.getBytes(StandardCharsets.UTF_8), "x", config));
    assertThat(Map.of("seed", s.seedText())).containsEntry("seed", "42");
  }
}
