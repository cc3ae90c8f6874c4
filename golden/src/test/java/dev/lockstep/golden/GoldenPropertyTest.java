package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Property tests: each property runs on many generated inputs from a seeded {@link Random}; a
 * failure names the seed of the input that broke it, so it can be replayed with
 * {@code -Dlockstep.property.seed}. (Plain JUnit rather than jqwik: jqwik's author asks that AI
 * agents not use it, and this project respects that.) Generators ({@link Gen}) produce masks,
 * volatile keys, integers beyond 2^53, whole doubles, non-BMP names and inserted/removed steps.
 */
class GoldenPropertyTest {
  private static final long BASE_SEED = Long.getLong("lockstep.property.seed", 20261128L);

  /** Runs {@code property} on {@code tries} inputs, each from its own seeded generator. */
  private static void forAll(int tries, Consumer<Random> property) {
    for (int i = 0; i < tries; i++) {
      long seed = BASE_SEED * 31 + i;
      try {
        property.accept(new Random(seed));
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("property failed for input seed " + seed + ": " + e.getMessage(), e);
      }
    }
  }

  // ---- the engine agrees with the tree reference ---------------------------------------------

  @Test
  void summaryAgreesWithTheTreeReferenceUnderRandomMasks() {
    forAll(400, r -> {
      GoldenConfig config = Gen.config(r);
      byte[] bytes = Gen.bytes(Gen.golden(r, r.nextInt(6)), Gen.Style.random(r));
      RunSummary engine = parse(bytes, config).summary();
      assertThat(engine).isEqualTo(reference(bytes, config));
    });
  }

  @Test
  void canonicalBytesAgreeWithTheTreeReference() {
    forAll(400, r -> {
      GoldenConfig config = Gen.config(r);
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("run_id", "r");
      doc.put("data", Gen.value(r, 0));
      assertCanonicalBytesAgreeWithTheReference(Gen.bytes(doc, Gen.Style.random(r)), config);
    });
  }

  /** The canonical bytes of {@code bytes}, masked and not, are the tree reference's. */
  private static void assertCanonicalBytesAgreeWithTheReference(byte[] bytes, GoldenConfig config) {
    try {
      String engine = new String(Golden.canonicalBytes(bytes, "p", config, false), StandardCharsets.UTF_8);
      assertThat(engine).isEqualTo(ReferenceCanonical.text(ReferenceParser.read(bytes, config.limits())));
      String masked = new String(Golden.canonicalBytes(bytes, "p", config, true), StandardCharsets.UTF_8);
      assertThat(masked).isEqualTo(ReferenceCanonical.text(ReferenceParser.read(bytes, config.limits()),
          ReferenceMask.forContent(config), List.of()));
    } catch (GoldenParseException e) {
      throw new AssertionError("valid document refused: " + e.getMessage(), e);
    }
  }

  @Test
  void readingForADiffGivesTheSameSummaryAsReadingForAHash() {
    forAll(150, r -> {
      GoldenConfig config = Gen.config(r);
      byte[] bytes = Gen.bytes(Gen.golden(r, r.nextInt(5)), Gen.Style.random(r));
      try {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("prop", ".golden.json");
        try {
          java.nio.file.Files.write(f, bytes);
          RunSummary forDiff = Golden.readForDiff(f, config).summary();
          RunSummary forHash = Golden.read(f, config).summary();
          assertThat(forDiff).isEqualTo(forHash);
        } finally {
          java.nio.file.Files.delete(f);
        }
      } catch (java.io.IOException | GoldenParseException e) {
        throw new AssertionError(e);
      }
    });
  }

  // ---- invariances ----------------------------------------------------------------------------

  @Test
  void hashesDoNotDependOnMemberOrderWhitespaceEscapesOrNumberSpelling() {
    forAll(300, r -> {
      GoldenConfig config = Gen.config(r);
      Map<String, Object> doc = Gen.golden(r, r.nextInt(5));
      RunSummary plain = parse(Gen.bytes(doc, Gen.Style.plain()), config).summary();
      RunSummary spelled = parse(Gen.bytes(doc, Gen.Style.random(r)), config).summary();
      assertThat(spelled).isEqualTo(plain);
    });
  }

  @Test
  void canonicalisationIsIdempotent() {
    forAll(300, r -> {
      Map<String, Object> doc = Gen.golden(r, r.nextInt(4));
      try {
        byte[] once = Golden.canonicalBytes(Gen.bytes(doc, Gen.Style.random(r)), "p", GoldenConfig.DEFAULT, false);
        assertThat(Golden.canonicalBytes(once, "p", GoldenConfig.DEFAULT, false)).isEqualTo(once);
      } catch (GoldenParseException e) {
        throw new AssertionError(e);
      }
    });
  }

  // ---- repeated object shapes (the canonicaliser reuses what it learned from the last object) ----

  /**
   * Objects that repeat a few shapes, as golden files do (every account, every rate table): the
   * same names in the same order, in another order, a prefix, one more member, one renamed, a
   * masked name among them, names that differ only by escapes or past their eighth byte, nested
   * arrays of such objects. Canonical bytes, masked and not, and the summary must equal the tree
   * reference's whatever shape came before.
   */
  @Test
  void repeatedObjectShapesCanonicaliseLikeTheTreeReference() {
    forAll(300, r -> {
      GoldenConfig config = Gen.config(r);
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("run_id", "r");
      doc.put("rows", shapedRows(r, shapes(r), 0));
      Map<String, Object> golden = Gen.golden(r, 1 + r.nextInt(3));
      for (Object step : list(golden.get("steps"))) {
        cast(step).put("output", shapedRows(r, shapes(r), 1));
      }
      for (Map<String, Object> d : List.of(doc, golden)) {
        byte[] bytes = Gen.bytes(d, Gen.Style.random(r));
        assertCanonicalBytesAgreeWithTheReference(bytes, config);
        assertThat(parse(bytes, config).summary()).isEqualTo(reference(bytes, config));
      }
    });
  }

  /**
   * Remembered path-pattern steps (Transitions) give what the patterns give: many pointer globs
   * (state in one word and in several), names that share their first eight bytes and their last
   * byte, names too long to be remembered, escaped names, the same names under other parents, in
   * documents of repeated shapes. Canonical bytes, masked and not, and summaries equal the tree
   * reference's.
   */
  @Test
  void manyPointerGlobsMaskLikeTheTreeReference() {
    String longA = "n".repeat(70) + "a";
    String longB = "n".repeat(70) + "b";
    String[] names = {"abcdefgh_x", "abcdefgh_y", "abcdefghx_x", "abcdefgh", "abcdefg", longA, longB, "\u0061b",
        "ab", "x", "debug", "\ud83d\ude00", "\ue000", "timestamp"};
    forAll(150, r -> {
      List<String> globs = new ArrayList<>();
      int count = r.nextBoolean() ? 1 + r.nextInt(6) : 20 + r.nextInt(20); // one state word, or several
      for (int i = 0; i < count; i++) {
        StringBuilder g = new StringBuilder();
        for (int k = 1 + r.nextInt(3); k > 0; k--) {
          int pick = r.nextInt(names.length + 3);
          g.append('/').append(pick == names.length ? "*" : pick == names.length + 1 ? "**"
              : pick == names.length + 2 ? "rows" : unescape(names[pick]));
        }
        globs.add(g.toString());
      }
      GoldenConfig config = new GoldenConfig(GoldenConfig.Limits.DEFAULT, GoldenConfig.Mapping.DEFAULT,
          new GoldenConfig.VolatileMask(Set.of(unescape(names[r.nextInt(names.length)])), globs));
      StringBuilder json = new StringBuilder("{\"run_id\":\"r\",\"rows\":[");
      for (int row = 0, n = 1 + r.nextInt(8); row < n; row++) {
        json.append(row > 0 ? "," : "").append(object(r, names, 2));
      }
      json.append("],\"steps\":[");
      for (int step = 0, n = r.nextInt(4); step < n; step++) {
        json.append(step > 0 ? "," : "").append("{\"index\":").append(step).append(",\"output\":")
            .append(object(r, names, 2)).append('}');
      }
      json.append("]}");
      byte[] bytes = json.toString().getBytes(StandardCharsets.UTF_8);
      assertCanonicalBytesAgreeWithTheReference(bytes, config);
      assertThat(parse(bytes, config).summary()).isEqualTo(reference(bytes, config));
    });
  }

  /** An object of distinct names drawn from {@code names} (JSON text of names), nested to {@code depth}. */
  private static String object(Random r, String[] names, int depth) {
    List<String> picked = new ArrayList<>(List.of(names));
    java.util.Collections.shuffle(picked, r);
    StringBuilder sb = new StringBuilder("{");
    java.util.Set<String> seen = new java.util.HashSet<>();
    int n = r.nextInt(6);
    for (String name : picked) {
      if (seen.size() == n) {
        break;
      }
      if (!seen.add(unescape(name))) {
        continue; // "\u0061b" is "ab"
      }
      sb.append(seen.size() > 1 ? "," : "").append('"').append(name).append("\":");
      sb.append(depth > 0 && r.nextInt(3) == 0 ? object(r, names, depth - 1) : Integer.toString(r.nextInt(100)));
    }
    return sb.append('}').toString();
  }

  /** The string a JSON name text with \\u escapes stands for. */
  private static String unescape(String text) {
    return JsonBytes.decode(text.getBytes(StandardCharsets.UTF_8), 0, text.getBytes(StandardCharsets.UTF_8).length);
  }

  /** A repeated shape with a duplicate name is refused wherever the duplicate stands. */
  @Test
  void aDuplicateNameInARepeatedShapeIsRefused() {
    forAll(200, r -> {
      List<List<String>> shapes = shapes(r);
      List<String> names = shapes.get(0);
      List<Object> rows = new ArrayList<>();
      for (int i = 1 + r.nextInt(4); i > 0; i--) {
        rows.add(row(r, names, 0));
      }
      StringBuilder dup = new StringBuilder("{");
      List<String> withDup = new ArrayList<>(names);
      withDup.add(r.nextInt(withDup.size() + 1), names.get(r.nextInt(names.size())));
      for (int i = 0; i < withDup.size(); i++) {
        dup.append(i > 0 ? "," : "").append(Gen.text(withDup.get(i))).append(":").append(i);
      }
      dup.append('}');
      String json = "{\"run_id\":\"r\",\"rows\":" + Gen.text(rows).replaceFirst("]$", (rows.isEmpty() ? "" : ",")
          + java.util.regex.Matcher.quoteReplacement(dup.toString()) + "]") + "}";
      byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
      for (GoldenConfig config : List.of(GoldenConfig.DEFAULT, Gen.config(r))) {
        for (int way = 0; way < 2; way++) {
          try {
            if (way == 0) {
              Golden.parse(bytes, "p", config).summary();
            } else {
              Golden.canonicalBytes(bytes, "p", config, false);
            }
            throw new AssertionError("duplicate accepted: " + json);
          } catch (GoldenParseException e) {
            assertThat(e.code()).as(json).isEqualTo(GoldenParseException.Code.DUPLICATE_KEY);
          }
        }
      }
    });
  }

  /** A few related shapes (lists of distinct names): a base one and variations of it. */
  private static List<List<String>> shapes(Random r) {
    java.util.LinkedHashSet<String> base = new java.util.LinkedHashSet<>();
    String[] similar = {"currency", "currencz", "currency_code", "a", "b", "id", "note", "timestamp", "\u00e9t\u00e9",
        "\ud83d\ude00", "\ue000", "longer_than_eight", "longer_than_eighu"};
    for (int n = 1 + r.nextInt(7); base.size() < n; ) {
      base.add(r.nextBoolean() ? similar[r.nextInt(similar.length)] : Gen.name(r));
    }
    List<String> b = new ArrayList<>(base);
    List<List<String>> shapes = new ArrayList<>();
    shapes.add(b);
    List<String> shuffled = new ArrayList<>(b);
    java.util.Collections.shuffle(shuffled, r);
    shapes.add(shuffled);
    if (b.size() > 1) {
      shapes.add(b.subList(0, 1 + r.nextInt(b.size() - 1)));
    }
    List<String> longer = new ArrayList<>(b);
    String extra = similar[r.nextInt(similar.length)];
    if (!longer.contains(extra)) {
      longer.add(r.nextInt(longer.size() + 1), extra);
    }
    shapes.add(longer);
    List<String> renamed = new ArrayList<>(b);
    String other = Gen.name(r) + "_";
    if (!renamed.contains(other)) {
      renamed.set(r.nextInt(renamed.size()), other);
    }
    shapes.add(renamed);
    shapes.add(List.of());
    return shapes;
  }

  /** An array of objects, mostly of the first shape, some of the others, some with nested rows. */
  private static List<Object> shapedRows(Random r, List<List<String>> shapes, int depth) {
    List<Object> rows = new ArrayList<>();
    for (int i = r.nextInt(12); i > 0; i--) {
      List<String> names = r.nextInt(3) > 0 ? shapes.get(0) : shapes.get(r.nextInt(shapes.size()));
      rows.add(row(r, names, depth));
    }
    return rows;
  }

  private static Map<String, Object> row(Random r, List<String> names, int depth) {
    Map<String, Object> row = new LinkedHashMap<>();
    for (String name : names) {
      row.put(name, depth < 2 && r.nextInt(6) == 0 ? shapedRows(r, shapes(r), depth + 1) : Gen.value(r, 3));
    }
    return row;
  }

  // ---- exactness: no false match ----------------------------------------------------------------

  @Test
  void integersThatDifferAnywhereGiveDifferentHashes() {
    forAll(300, r -> {
      BigInteger x = Gen.bigInteger(r);
      BigInteger y = x.add(BigInteger.valueOf(1 + r.nextInt(3)));
      RunSummary a = parse(("{\"run_id\":\"r\",\"order_id\":" + x + "}").getBytes(StandardCharsets.UTF_8),
          GoldenConfig.DEFAULT).summary();
      RunSummary b = parse(("{\"run_id\":\"r\",\"order_id\":" + y + "}").getBytes(StandardCharsets.UTF_8),
          GoldenConfig.DEFAULT).summary();
      assertThat(a.canonicalHash()).isNotEqualTo(b.canonicalHash());
      assertThat(Classifier.classify(a, b).match()).isFalse();
    });
  }

  @Test
  void wholeDoublesEqualTheIntegerOfTheirExactValue() {
    forAll(300, r -> {
      double d = Math.scalb(1.0 + r.nextInt(1 << 20), r.nextInt(50));
      BigInteger exact = new java.math.BigDecimal(d).toBigInteger();
      String spelledAsDouble = Gen.respell(d, r);
      RunSummary a = parse(("{\"run_id\":\"r\",\"v\":" + exact + "}").getBytes(StandardCharsets.UTF_8),
          GoldenConfig.DEFAULT).summary();
      RunSummary b = parse(("{\"run_id\":\"r\",\"v\":" + spelledAsDouble + "}").getBytes(StandardCharsets.UTF_8),
          GoldenConfig.DEFAULT).summary();
      assertThat(b.canonicalHash()).as("%s vs %s", exact, spelledAsDouble).isEqualTo(a.canonicalHash());
      RunSummary c = parse(("{\"run_id\":\"r\",\"v\":" + exact.add(BigInteger.ONE) + "}")
          .getBytes(StandardCharsets.UTF_8), GoldenConfig.DEFAULT).summary();
      assertThat(c.canonicalHash()).isNotEqualTo(a.canonicalHash());
    });
  }

  // ---- classification and diff ------------------------------------------------------------------

  @Test
  void volatileChangesAloneAlwaysMatch() {
    forAll(200, r -> {
      Map<String, Object> doc = Gen.golden(r, 1 + r.nextInt(5));
      Map<String, Object> other = copy(doc);
      other.put("timestamp", "later");
      other.put("role", "shadow");
      for (Object s : (List<?>) other.get("steps")) {
        cast(s).put("started_at", "changed-" + r.nextInt());
      }
      DiffReport report = diff(doc, other, GoldenConfig.DEFAULT, r);
      assertThat(report.match()).isTrue();
      assertThat(report.realDifferences()).isZero();
      assertThat(report.volatileDifferences()).isPositive();
    });
  }

  /** Looking large containers' ends up (the diff's layout) changes nothing the diff finds. */
  @Test
  void theDiffFindsTheSameWhetherContainerEndsAreLookedUpOrScanned() {
    forAll(200, r -> {
      GoldenConfig config = Gen.config(r);
      Map<String, Object> doc = Gen.golden(r, 1 + r.nextInt(5));
      Map<String, Object> other = copy(doc);
      for (int i = r.nextInt(4); i >= 0; i--) {
        mutate(other, r);
      }
      GoldenDocument a = parse(Gen.bytes(doc, Gen.Style.random(r)), config);
      GoldenDocument b = parse(Gen.bytes(other, Gen.Style.random(r)), config);
      CanonicalDiff scanned = new CanonicalDiff(a.canonical(), b.canonical(), config, a.summary(), b.summary(),
          Integer.MAX_VALUE).run();
      CanonicalDiff lookedUp = new CanonicalDiff(a.canonical(), b.canonical(), config, a.summary(), b.summary(),
          1 + r.nextInt(24)).run();
      assertThat(lookedUp.listed()).isEqualTo(scanned.listed());
      assertThat(lookedUp.realCount).isEqualTo(scanned.realCount);
      assertThat(lookedUp.volatileCount).isEqualTo(scanned.volatileCount);
    });
  }

  @Test
  void anInsertedOrRemovedStepIsTheFirstDivergentStepAndLaterStepsStillPair() {
    forAll(200, r -> {
      int n = 3 + r.nextInt(5);
      Map<String, Object> doc = Gen.golden(r, n);
      Map<String, Object> other = copy(doc);
      List<Object> steps = list(other.get("steps"));
      int at = r.nextInt(n);
      boolean insert = r.nextBoolean();
      if (insert) {
        // a new step with an index no other step has, in the middle of the array
        Map<String, Object> extra = Gen.step(r, 1000 + at);
        steps.add(at, extra);
      } else {
        steps.remove(at);
      }
      DiffReport report = diff(doc, other, GoldenConfig.DEFAULT, r);
      assertThat(report.match()).isFalse();
      assertThat(report.category()).isEqualTo(Category.DETERMINISM_VIOLATION);
      if (insert) {
        // every original step pairs with itself; the inserted one has the highest index
        assertThat(report.firstDivergentStep().index()).isEqualTo(1000 + at);
        assertThat(report.differences()).filteredOn(d -> !d.volatileField())
            .extracting(Difference::kind).containsOnly(Difference.Kind.EXTRA);
      } else {
        assertThat(report.firstDivergentStep().index()).isEqualTo(at);
        assertThat(report.differences()).filteredOn(d -> !d.volatileField())
            .extracting(Difference::kind).containsOnly(Difference.Kind.MISSING);
      }
      assertThat(report.realDifferences()).isEqualTo(1);
    });
  }

  @Test
  void theDiffVerdictIsTheClassifierVerdict() {
    forAll(200, r -> {
      Map<String, Object> doc = Gen.golden(r, 1 + r.nextInt(4));
      Map<String, Object> other = copy(doc);
      mutate(other, r);
      GoldenConfig config = Gen.config(r);
      byte[] a = Gen.bytes(doc, Gen.Style.random(r));
      byte[] b = Gen.bytes(other, Gen.Style.random(r));
      GoldenDocument da = parse(a, config);
      GoldenDocument db = parse(b, config);
      DiffReport report = GoldenDiff.diff(da, db, config);
      Classification c = Classifier.classify(da.summary(), db.summary());
      assertThat(report.match()).isEqualTo(c.match());
      assertThat(report.category()).isEqualTo(c.category());
      assertThat(report.firstDivergentStep()).isEqualTo(c.firstDivergentStep());
      // a mismatch is always explained by at least one difference, a match never by a real one
      assertThat(report.realDifferences() + report.volatileDifferences() > 0 || c.match()).isTrue();
      if (c.match()) {
        assertThat(report.realDifferences()).isZero();
      }
    });
  }

  // ---- bad input --------------------------------------------------------------------------------

  @Test
  void theEngineRefusesExactlyWhatTheReferenceRefuses() {
    forAll(1500, r -> {
      byte[] bytes = switch (r.nextInt(3)) {
        case 0 -> randomBytes(r);
        case 1 -> jsonish(r).getBytes(StandardCharsets.UTF_8);
        default -> mangled(r);
      };
      GoldenParseException engine = null;
      GoldenParseException reference = null;
      try {
        Golden.canonicalBytes(bytes, "fuzz", GoldenConfig.DEFAULT, false);
      } catch (GoldenParseException e) {
        engine = e;
        assertThat(e.getMessage()).startsWith("fuzz");
      }
      try {
        ReferenceParser.read(bytes, GoldenConfig.Limits.DEFAULT);
      } catch (GoldenParseException e) {
        reference = e;
      }
      assertThat(engine == null).as("engine %s, reference %s on %s", engine, reference,
          new String(bytes, StandardCharsets.UTF_8)).isEqualTo(reference == null);
    });
  }

  // ---- helpers --------------------------------------------------------------------------------

  private static GoldenDocument parse(byte[] bytes, GoldenConfig config) {
    try {
      return Golden.parse(bytes, "p.primary.golden.json", config);
    } catch (GoldenParseException e) {
      throw new AssertionError("valid document refused: " + e.getMessage() + "\n" + new String(bytes, StandardCharsets.UTF_8), e);
    }
  }

  private static RunSummary reference(byte[] bytes, GoldenConfig config) {
    try {
      return ReferenceSummary.of(bytes, "p.primary.golden.json", config);
    } catch (GoldenParseException e) {
      throw new AssertionError("reference refused: " + e.getMessage(), e);
    }
  }

  private static DiffReport diff(Map<String, Object> a, Map<String, Object> b, GoldenConfig config, Random r) {
    return GoldenDiff.diff(parse(Gen.bytes(a, Gen.Style.random(r)), config),
        parse(Gen.bytes(b, Gen.Style.random(r)), config), config);
  }

  /** One random change: a value somewhere, a step's rng or response, a seed, a volatile field. */
  private static void mutate(Map<String, Object> doc, Random r) {
    List<Object> steps = list(doc.get("steps"));
    Map<String, Object> step = cast(steps.get(r.nextInt(steps.size())));
    switch (r.nextInt(7)) {
      case 0 -> step.put("output", Gen.value(r, 2));
      case 1 -> step.put("rng", List.of(r.nextDouble()));
      case 2 -> {
        step.put("kind", "external");
        step.put("response", Gen.value(r, 2));
      }
      case 3 -> doc.put("seed", BigInteger.valueOf(r.nextInt(100)));
      case 4 -> step.put("hash", "sha256:other" + r.nextInt());
      case 5 -> doc.put("timestamp", "never");
      default -> doc.put("output", Gen.value(r, 1));
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Object o) {
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    return (List<Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static <T> T copy(T v) {
    if (v instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      m.forEach((k, x) -> out.put((String) k, copy(x)));
      return (T) out;
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>();
      l.forEach(x -> out.add(copy(x)));
      return (T) out;
    }
    return v;
  }

  private static byte[] randomBytes(Random r) {
    byte[] b = new byte[r.nextInt(300)];
    r.nextBytes(b);
    return b;
  }

  private static String jsonish(Random r) {
    String chars = "{}[]\":,.-+eE0123456789 \n\\utrfalsenNI\u00e9\ud83d\ude00";
    StringBuilder sb = new StringBuilder(r.nextBoolean() ? "{\"run_id\":" : "");
    for (int i = r.nextInt(200); i > 0; i--) {
      sb.append(chars.charAt(r.nextInt(chars.length())));
    }
    return sb.toString();
  }

  /** A valid document cut short, or with one byte changed, or with a surrogate escape split. */
  private static byte[] mangled(Random r) {
    String text = Gen.text(Gen.golden(r, 2));
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    int at = r.nextInt(bytes.length);
    return switch (r.nextInt(4)) {
      case 0 -> java.util.Arrays.copyOf(bytes, at);
      case 1 -> {
        byte[] b = bytes.clone();
        b[at] = (byte) r.nextInt(256);
        yield b;
      }
      case 2 -> text.replaceFirst("\"name\":", "\"name\":1,\"name\":").getBytes(StandardCharsets.UTF_8);
      default -> text.replaceFirst("\"step", r.nextBoolean() ? "\"\\ud83dstep" : "\"\\ude00step")
          .getBytes(StandardCharsets.UTF_8);
    };
  }
}
