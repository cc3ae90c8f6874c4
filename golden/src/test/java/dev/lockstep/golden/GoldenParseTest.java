package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.lockstep.golden.GoldenParseException.Code;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GoldenParseTest {
  @TempDir Path dir;

  private static GoldenParseException refusal(byte[] bytes) {
    return catchThrowableOfType(GoldenParseException.class,
        () -> Golden.parse(bytes, "bad.golden.json", GoldenConfig.DEFAULT));
  }

  private static GoldenParseException refusal(String text) {
    return refusal(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void summarisesTheDesignExample() throws Exception {
    RunSummary s = Samples.parse(Samples.primary()).summary();
    assertThat(s.runId()).isEqualTo("billing-7f3a-cycle-0042");
    assertThat(s.workflow()).isEqualTo("billing.reconcile");
    assertThat(s.role()).isEqualTo("primary");
    assertThat(s.seed()).isEqualTo(1234567L);
    assertThat(s.canonicalHash()).matches("sha256:[0-9a-f]{64}");
    assertThat(s.outputHash()).matches("sha256:[0-9a-f]{64}");
    assertThat(s.engineHash()).isEmpty();
    assertThat(s.steps()).extracting(StepSummary::index, StepSummary::name, StepSummary::kind, StepSummary::external)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(0, "load_accounts", "compute", false),
            org.assertj.core.groups.Tuple.tuple(1, "fetch_rates", "external", true),
            org.assertj.core.groups.Tuple.tuple(2, "sample", "compute", false));
    assertThat(s.steps().get(1).responseHash()).matches("sha256:[0-9a-f]{64}");
    assertThat(s.steps().get(0).responseHash()).isEmpty();
    assertThat(s.steps().get(2).rngHash()).matches("sha256:[0-9a-f]{64}");
    assertThat(s.steps().get(0).rngHash()).isEmpty();
  }

  @Test
  void hashesAreSha256OfTheCanonicalMaskedBytes() throws Exception {
    GoldenDocument d = Samples.parse("{\"run_id\":\"r\",\"timestamp\":\"now\",\"b\":1.0,\"a\":\"x\"}");
    java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
    byte[] digest = md.digest("{\"a\":\"x\",\"b\":1,\"run_id\":\"r\"}".getBytes(StandardCharsets.UTF_8));
    assertThat(d.summary().canonicalHash()).isEqualTo("sha256:" + java.util.HexFormat.of().formatHex(digest));
  }

  @Test
  void canonicalHashIgnoresVolatileFieldsKeyOrderAndNumberSpelling() throws Exception {
    String a = Samples.primary();
    String b = """
        {"output": {"total": 42.0}, "steps": [
            {"output": {"n": 3e0}, "kind": "compute", "name": "load_accounts", "index": 0, "duration_ms": 9},
            {"index": 1, "name": "fetch_rates", "kind": "external", "request": {"url": "https://rates"}, "response": {"eur": 1.080}},
            {"index": 2, "name": "sample", "kind": "compute", "rng": [0.12, 0.98], "output": {"pick": 7}, "started_at": "x"}],
         "timestamp": "2030-01-01T00:00:00Z", "duration_ms": 99999, "seed": 1234567,
         "role": "primary", "workflow": "billing.reconcile", "run_id": "billing-7f3a-cycle-0042",
         "format": "lockstep.golden/v1"}""";
    RunSummary sa = Samples.parse(a).summary();
    RunSummary sb = Samples.parse(b).summary();
    assertThat(sb.canonicalHash()).isEqualTo(sa.canonicalHash());
    assertThat(sb.steps()).isEqualTo(sa.steps());
    assertThat(sb.outputHash()).isEqualTo(sa.outputHash());
  }

  @Test
  void engineHashesAreReportedButLeftOutOfTheCanonicalHashes() throws Exception {
    RunSummary plain = Samples.parse(Samples.primary()).summary();
    String withHashes = Samples.primary()
        .replace("\"output\": {\"total\": 42}", "\"output\": {\"total\": 42}, \"hash\": \"sha256:run\"")
        .replace("\"output\": {\"n\": 3}}", "\"output\": {\"n\": 3}, \"hash\": \"sha256:s0\"}");
    RunSummary hashed = Samples.parse(withHashes).summary();
    assertThat(hashed.engineHash()).isEqualTo("sha256:run");
    assertThat(hashed.steps().get(0).engineHash()).isEqualTo("sha256:s0");
    assertThat(hashed.canonicalHash()).isEqualTo(plain.canonicalHash());
    assertThat(hashed.steps().get(0).canonicalHash()).isEqualTo(plain.steps().get(0).canonicalHash());
  }

  @Test
  void stepHashEqualsTheHashOfTheStepAlone() throws Exception {
    RunSummary s = Samples.parse(Samples.primary()).summary();
    GoldenDocument single = Samples.parse(
        "{\"run_id\":\"x\",\"output\":{\"n\":3},\"name\":\"load_accounts\",\"kind\":\"compute\",\"index\":0}");
    // the step's canonical bytes are those of the object {"index":0,"kind":...}; recompute directly
    java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
    byte[] digest = md.digest("{\"index\":0,\"kind\":\"compute\",\"name\":\"load_accounts\",\"output\":{\"n\":3}}"
        .getBytes(StandardCharsets.UTF_8));
    assertThat(s.steps().get(0).canonicalHash()).isEqualTo("sha256:" + java.util.HexFormat.of().formatHex(digest));
    assertThat(single.summary().canonicalHash()).isNotEqualTo(s.steps().get(0).canonicalHash());
  }

  @Test
  void roleFallsBackToTheFileName() throws Exception {
    String noRole = "{\"run_id\":\"r\"}";
    assertThat(Samples.parse(noRole, "/x/run42.shadow.golden.json").summary().role()).isEqualTo("shadow");
    assertThat(Samples.parse(noRole, "primary.golden.json").summary().role()).isEqualTo("primary");
    assertThat(Samples.parse(noRole, "a.b.replica-3.golden.json").summary().role()).isEqualTo("replica-3");
    assertThat(Samples.parse(noRole, "something.json").summary().role()).isEmpty();
  }

  @Test
  void mappingReadsOtherLayouts() throws Exception {
    GoldenConfig.Mapping mapping = new GoldenConfig.Mapping("/meta/id", "/meta/flow", "/meta/replica",
        "/meta/rng_seed", "/digest", "/result", "/trace", "/i", "/label", "/type", "/digest",
        List.of("/random/draws"), "reply");
    GoldenConfig config = new GoldenConfig(GoldenConfig.Limits.DEFAULT, mapping, GoldenConfig.VolatileMask.DEFAULT);
    String json = """
        {"meta": {"id": "r1", "flow": "wf", "replica": "shadow", "rng_seed": 7},
         "trace": [{"i": 5, "label": "call", "type": "http", "reply": {"ok": true}, "digest": "d5"},
                   {"i": 6, "label": "draw", "random": {"draws": [1, 2]}}],
         "result": 1, "digest": "top"}""";
    RunSummary s = Golden.parse(json.getBytes(StandardCharsets.UTF_8), "x", config).summary();
    assertThat(s.runId()).isEqualTo("r1");
    assertThat(s.workflow()).isEqualTo("wf");
    assertThat(s.role()).isEqualTo("shadow");
    assertThat(s.seed()).isEqualTo(7L);
    assertThat(s.engineHash()).isEqualTo("top");
    assertThat(s.outputHash()).isNotEmpty();
    assertThat(s.steps().get(0).index()).isEqualTo(5);
    assertThat(s.steps().get(0).external()).isTrue();
    assertThat(s.steps().get(0).engineHash()).isEqualTo("d5");
    assertThat(s.steps().get(1).rngHash()).isNotEmpty();
    assertThat(s.steps().get(1).external()).isFalse();
  }

  // ---- bad input: each a typed error naming file, position and reason ----------------------

  @Test
  void truncatedFileIsTruncated() {
    String full = Samples.primary();
    GoldenParseException e = refusal(full.substring(0, full.length() / 2));
    assertThat(e.code()).isEqualTo(Code.TRUNCATED);
    assertThat(e.file()).isEqualTo("bad.golden.json");
    assertThat(e.line()).isPositive();
    assertThat(e.getMessage()).startsWith("bad.golden.json:").contains("truncated");
  }

  @Test
  void cutAnywhereIsTruncated() {
    assertThat(refusal("{\"run_id\": \"r5\", ").code()).isEqualTo(Code.TRUNCATED);
    assertThat(refusal("{\"run_id\": \"r5").code()).isEqualTo(Code.TRUNCATED);
    assertThat(refusal("{\"run_id\": tr").code()).isEqualTo(Code.TRUNCATED);
    assertThat(refusal("{\"run_id\": \"r\", \"x\": 1.").code()).isEqualTo(Code.TRUNCATED);
  }

  @Test
  void emptyFileIsTruncated() {
    assertThat(refusal("").code()).isEqualTo(Code.TRUNCATED);
    assertThat(refusal("  \n").code()).isEqualTo(Code.TRUNCATED);
  }

  @Test
  void plainTextIsNotJson() {
    GoldenParseException e = refusal("run_id=42\nstatus=ok\n");
    assertThat(e.code()).isEqualTo(Code.NOT_JSON);
    assertThat(e.line()).isEqualTo(1);
  }

  @Test
  void binaryJunkIsRefused() {
    byte[] junk = new byte[4096];
    new java.util.Random(7).nextBytes(junk);
    junk[0] = (byte) 0x89; // like a PNG header: not a valid UTF-8 start
    assertThat(refusal(junk).code()).isIn(Code.INVALID_UTF8, Code.NOT_JSON);
    byte[] zeros = new byte[64];
    assertThat(refusal(zeros).code()).isEqualTo(Code.NOT_JSON);
  }

  @Test
  void invalidUtf8IsRefusedWithItsPosition() {
    byte[] prefix = "{\"run_id\":\"r\",\n\"s\":\"caf".getBytes(StandardCharsets.UTF_8);
    byte[][] bad = {
        {(byte) 0xe9, '"', '}'},                    // Latin-1 é
        {(byte) 0xc0, (byte) 0xaf, '"', '}'},        // overlong '/'
        {(byte) 0xed, (byte) 0xa0, (byte) 0x80, '"', '}'}, // UTF-8 encoded surrogate
        {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80, '"', '}'}, // above U+10FFFF
        {(byte) 0xe2, (byte) 0x82},                  // cut off
    };
    for (byte[] tail : bad) {
      byte[] all = new byte[prefix.length + tail.length];
      System.arraycopy(prefix, 0, all, 0, prefix.length);
      System.arraycopy(tail, 0, all, prefix.length, tail.length);
      GoldenParseException e = refusal(all);
      assertThat(e.code()).isEqualTo(Code.INVALID_UTF8);
      assertThat(e.line()).isEqualTo(2);
      assertThat(e.column()).isEqualTo(9);
    }
  }

  @Test
  void nesting200000DeepIsTooDeepNotAStackOverflow() {
    int n = 200_000;
    StringBuilder sb = new StringBuilder("{\"run_id\":\"r\",\"x\":");
    sb.append("[".repeat(n)).append("]".repeat(n)).append('}');
    GoldenParseException e = refusal(sb.toString());
    assertThat(e.code()).isEqualTo(Code.TOO_DEEP);
    assertThat(e.reason()).contains("512");

    StringBuilder objects = new StringBuilder();
    objects.append("{\"a\":".repeat(n));
    assertThat(refusal(objects.toString()).code()).isEqualTo(Code.TOO_DEEP);
  }

  @Test
  void nestingAtTheLimitIsAccepted() throws Exception {
    int n = 511; // the root object is level 1
    String json = "{\"run_id\":\"r\",\"x\":" + "[".repeat(n) + "]".repeat(n) + "}";
    assertThat(Samples.parse(json).summary().runId()).isEqualTo("r");
    String tooDeep = "{\"run_id\":\"r\",\"x\":" + "[".repeat(n + 1) + "]".repeat(n + 1) + "}";
    assertThat(refusal(tooDeep).code()).isEqualTo(Code.TOO_DEEP);
  }

  @Test
  void duplicateKeysAreRefusedAtAnyDepth() {
    GoldenParseException e = refusal("{\"run_id\":\"r\",\n \"steps\":[{\"name\":\"a\",\"name\":\"b\"}]}");
    assertThat(e.code()).isEqualTo(Code.DUPLICATE_KEY);
    assertThat(e.reason()).contains("\"name\"");
    assertThat(e.line()).isEqualTo(2);
    assertThat(refusal("{\"run_id\":\"r\",\"run_id\":\"s\"}").code()).isEqualTo(Code.DUPLICATE_KEY);
  }

  @Test
  void nanAndInfinityAreRefused() {
    for (String v : List.of("NaN", "Infinity", "-Infinity", "1e400", "-1e999")) {
      GoldenParseException e = refusal("{\"run_id\":\"r\",\"x\":" + v + "}");
      assertThat(e.code()).as(v).isEqualTo(Code.NON_FINITE_NUMBER);
      assertThat(e.column()).as(v).isEqualTo(19);
    }
  }

  @Test
  void fileOverTheSizeLimitIsRefusedBeforeItIsRead() throws Exception {
    Path huge = dir.resolve("huge.golden.json");
    try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
      f.setLength(1L << 30); // sparse: 1 GiB of nothing, instant to create
    }
    long before = System.nanoTime();
    GoldenParseException e = catchThrowableOfType(GoldenParseException.class,
        () -> Golden.read(huge, GoldenConfig.DEFAULT));
    assertThat(e.code()).isEqualTo(Code.TOO_LARGE);
    assertThat(e.reason()).contains("1073741824").contains(Long.toString(64L << 20));
    assertThat(System.nanoTime() - before).isLessThan(2_000_000_000L);
  }

  @Test
  void smallerSizeLimitApplies() throws Exception {
    GoldenConfig tiny = new GoldenConfig(new GoldenConfig.Limits(10, 512, 100), GoldenConfig.Mapping.DEFAULT,
        GoldenConfig.VolatileMask.DEFAULT);
    Path f = Files.writeString(dir.resolve("a.golden.json"), "{\"run_id\":\"run-1\"}");
    GoldenParseException e = catchThrowableOfType(GoldenParseException.class, () -> Golden.read(f, tiny));
    assertThat(e.code()).isEqualTo(Code.TOO_LARGE);
  }

  @Test
  void stringOverTheLimitIsRefused() {
    GoldenConfig config = new GoldenConfig(new GoldenConfig.Limits(1 << 20, 512, 100),
        GoldenConfig.Mapping.DEFAULT, GoldenConfig.VolatileMask.DEFAULT);
    byte[] json = ("{\"run_id\":\"r\",\"s\":\"" + "x".repeat(101) + "\"}").getBytes(StandardCharsets.UTF_8);
    GoldenParseException e = catchThrowableOfType(GoldenParseException.class,
        () -> Golden.parse(json, "s.json", config));
    assertThat(e.code()).isEqualTo(Code.STRING_TOO_LONG);
    byte[] key = ("{\"run_id\":\"r\",\"" + "k".repeat(200) + "\":1}").getBytes(StandardCharsets.UTF_8);
    assertThat(catchThrowableOfType(GoldenParseException.class, () -> Golden.parse(key, "s.json", config)).code())
        .isEqualTo(Code.STRING_TOO_LONG);
  }

  @Test
  void topLevelMustBeAnObject() {
    assertThat(refusal("[1,2,3]").code()).isEqualTo(Code.NOT_AN_OBJECT);
    assertThat(refusal("\"text\"").code()).isEqualTo(Code.NOT_AN_OBJECT);
    assertThat(refusal("42").code()).isEqualTo(Code.NOT_AN_OBJECT);
  }

  @Test
  void trailingContentIsRefused() {
    assertThat(refusal("{\"run_id\":\"r\"} {\"run_id\":\"s\"}").code()).isEqualTo(Code.NOT_JSON);
    assertThat(refusal("{\"run_id\":\"r\"}x").code()).isEqualTo(Code.NOT_JSON);
  }

  @Test
  void missingRunIdAndBadSeedAreNamed() {
    GoldenParseException e = refusal("{\"workflow\":\"w\"}");
    assertThat(e.code()).isEqualTo(Code.MISSING_FIELD);
    assertThat(e.reason()).contains("/run_id");
    assertThat(refusal("{\"run_id\":\"r\",\"seed\":\"abc\"}").code()).isEqualTo(Code.MISSING_FIELD);
    assertThat(refusal("{\"run_id\":\"r\",\"steps\":{}}").code()).isEqualTo(Code.MISSING_FIELD);
  }

  @Test
  void missingFileIsAnIoError() {
    GoldenParseException e = catchThrowableOfType(GoldenParseException.class,
        () -> Golden.read(dir.resolve("nope.json"), GoldenConfig.DEFAULT));
    assertThat(e.code()).isEqualTo(Code.IO);
    assertThat(e.getMessage()).contains("nope.json");
  }

  @Test
  void volatilePointerGlobsAreConfigurable() throws Exception {
    GoldenConfig config = new GoldenConfig(GoldenConfig.Limits.DEFAULT, GoldenConfig.Mapping.DEFAULT,
        new GoldenConfig.VolatileMask(Set.of(), List.of("/steps/*/host")));
    byte[] a = "{\"run_id\":\"r\",\"steps\":[{\"host\":\"a\",\"v\":1}],\"timestamp\":1}".getBytes(StandardCharsets.UTF_8);
    byte[] b = "{\"run_id\":\"r\",\"steps\":[{\"host\":\"b\",\"v\":1}],\"timestamp\":2}".getBytes(StandardCharsets.UTF_8);
    RunSummary sa = Golden.parse(a, "a", config).summary();
    RunSummary sb = Golden.parse(b, "b", config).summary();
    assertThat(sa.steps().get(0).canonicalHash()).isEqualTo(sb.steps().get(0).canonicalHash());
    // timestamp is not volatile in this config
    assertThat(sa.canonicalHash()).isNotEqualTo(sb.canonicalHash());
  }

  // ---- v2: exact numbers, seeds, surrogates ----------------------------------------------------

  @Test
  void u64AndNegativeSeedsAreRead() throws Exception {
    RunSummary max = Samples.parse("{\"run_id\":\"r\",\"seed\":18446744073709551615}").summary();
    assertThat(max.seed()).isEqualTo(-1L);
    assertThat(max.seedText()).isEqualTo("18446744073709551615");
    RunSummary minusOne = Samples.parse("{\"run_id\":\"r\",\"seed\":-1}").summary();
    assertThat(minusOne.seed()).isEqualTo(max.seed()); // the same 64 bits
    assertThat(Samples.parse("{\"run_id\":\"r\",\"seed\":-9223372036854775808}").summary().seed())
        .isEqualTo(Long.MIN_VALUE);
    assertThat(Samples.parse("{\"run_id\":\"r\",\"seed\":\" 9223372036854775808 \"}").summary().seedText())
        .isEqualTo("9223372036854775808");
    assertThat(Samples.parse("{\"run_id\":\"r\",\"seed\":1.2e3}").summary().seed()).isEqualTo(1200L);
    assertThat(Samples.parse("{\"run_id\":\"r\",\"seed\":null}").summary().seed()).isNull();
    assertThat(Samples.parse("{\"run_id\":\"r\"}").summary().seedText()).isEmpty();
  }

  @Test
  void seedsOutsideSixtyFourBitsOrNotWholeAreRefusedNamingTheField() {
    for (String seed : List.of("18446744073709551616", "-9223372036854775809", "1.5", "\"abc\"", "[1]", "true", "1e30")) {
      GoldenParseException e = refusal("{\"run_id\":\"r\",\"seed\":" + seed + "}");
      assertThat(e.code()).as(seed).isEqualTo(Code.MISSING_FIELD);
      assertThat(e.reason()).as(seed).contains("/seed");
    }
    assertThat(refusal("{\"run_id\":\"r\",\"seed\":18446744073709551616}").reason())
        .contains("18446744073709551615");
  }

  @Test
  void integersOfAnySizeAreHashedByTheirExactValue() throws Exception {
    // the false match: these two are different order ids
    RunSummary a = Samples.parse("{\"run_id\":\"r\",\"order_id\":1234567890123456789}").summary();
    RunSummary b = Samples.parse("{\"run_id\":\"r\",\"order_id\":1234567890123456790}").summary();
    assertThat(a.canonicalHash()).isNotEqualTo(b.canonicalHash());
    String huge = "7".repeat(5000);
    RunSummary c = Samples.parse("{\"run_id\":\"r\",\"v\":" + huge + "}").summary();
    RunSummary d = Samples.parse("{\"run_id\":\"r\",\"v\":" + huge.substring(1) + "8}").summary();
    assertThat(c.canonicalHash()).isNotEqualTo(d.canonicalHash());
  }

  @Test
  void numbersOutsideTheDoubleRangeAreRefusedAtTheirPosition() {
    for (String v : List.of("1e400", "-1.5E+309", "1e-400", "-2.5e-999", "0." + "0".repeat(400) + "1")) {
      GoldenParseException e = refusal("{\"run_id\":\"r\",\"x\":" + v + "}");
      assertThat(e.code()).as(v).isEqualTo(Code.NON_FINITE_NUMBER);
      assertThat(e.column()).as(v).isEqualTo(19);
      assertThat(e.reason()).as(v).contains("IEEE 754 double range");
    }
    // zero spelled many ways is fine, and the smallest subnormal is not zero
    assertThat(refusal("{\"run_id\":\"r\",\"x\":0e-999}")).isNull();
    assertThat(refusal("{\"run_id\":\"r\",\"x\":5e-324}")).isNull();
  }

  @Test
  void decimalLiteralsHaveALengthLimitButIntegersDoNot() {
    GoldenParseException e = refusal("{\"run_id\":\"r\",\"x\":1." + "1".repeat(1000) + "}");
    assertThat(e.code()).isEqualTo(Code.NOT_JSON);
    assertThat(e.reason()).contains("longer than 1000");
    assertThat(refusal("{\"run_id\":\"r\",\"x\":" + "1".repeat(100_000) + "}")).isNull();
  }

  @Test
  void loneSurrogateEscapesAreRefusedWithTheirPosition() {
    GoldenParseException e = refusal("{\"run_id\":\"r\",\n\"s\":\"ab\\ud800cd\"}");
    assertThat(e.code()).isEqualTo(Code.INVALID_UTF8);
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.column()).isEqualTo(8);
    assertThat(e.reason()).contains("lone surrogate \\ud800");
    assertThat(refusal("{\"run_id\":\"r\",\"s\":\"\\ud800").code()).isEqualTo(Code.TRUNCATED);
  }

  @Test
  void eachSyntaxErrorNamesWhatWasWrong() {
    assertThat(refusal("{\"run_id\":\"r\",\"x\":01}").reason()).contains("leading zeros");
    assertThat(refusal("{\"run_id\":\"r\",\"x\":\"a\\qb\"}").reason()).contains("invalid escape \\q");
    assertThat(refusal("{\"run_id\":\"r\",\"x\":\"a\tb\"}").reason()).contains("control character U+0009");
    assertThat(refusal("{\"run_id\":\"r\" \"x\":1}").reason()).contains("expected ',' or '}'");
    assertThat(refusal("{\"run_id\":\"r\",x:1}").reason()).contains("expected a member name");
    assertThat(refusal("{\"run_id\":\"r\",\"x\":[1 2]}").reason()).contains("expected ',' or ']'");
    assertThat(refusal("{\"run_id\":\"r\",\"x\":\u00e9}").reason()).contains("'\u00e9' (U+00E9)");
    assertThat(refusal("{\"run_id\":\"r\",\"x\":truex}").reason()).contains("truex");
  }

  @Test
  void stringLimitCountsTheBytesAsWritten() {
    GoldenConfig config = new GoldenConfig(new GoldenConfig.Limits(1 << 20, 512, 12),
        GoldenConfig.Mapping.DEFAULT, GoldenConfig.VolatileMask.DEFAULT);
    // 6 characters, 12 bytes between the quotes: at the limit
    assertThat(catchThrowableOfType(GoldenParseException.class, () -> Golden.parse(
        "{\"run_id\":\"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\"}".getBytes(StandardCharsets.UTF_8), "s", config))).isNull();
    // one escape more is over it
    assertThat(catchThrowableOfType(GoldenParseException.class, () -> Golden.parse(
        "{\"run_id\":\"\\u00e9\\u00e9\u00e9\"}".getBytes(StandardCharsets.UTF_8), "s", config)).code())
        .isEqualTo(Code.STRING_TOO_LONG);
  }

  @Test
  void duplicateKeysInsideMaskedValuesAreRefusedToo() {
    GoldenParseException e = refusal("{\"run_id\":\"r\",\"timestamp\":{\"a\":1,\"b\":[{\"c\":1,\"c\":2}]}}");
    assertThat(e.code()).isEqualTo(Code.DUPLICATE_KEY);
    assertThat(e.reason()).contains("\"c\"");
    // the same name spelled with an escape is the same name
    assertThat(refusal("{\"run_id\":\"r\",\"a\":1,\"\\u0061\":2}").code()).isEqualTo(Code.DUPLICATE_KEY);
  }

  @Test
  void aFileThatGrowsWhileItIsReadIsReadOnUpToTheLimit() throws Exception {
    GoldenConfig tiny = new GoldenConfig(new GoldenConfig.Limits(30, 512, 100), GoldenConfig.Mapping.DEFAULT,
        GoldenConfig.VolatileMask.DEFAULT);
    Path f = Files.writeString(dir.resolve("g.golden.json"), "{\"run_id\":\"run-1\"}");
    assertThat(Golden.read(f, tiny).summary().runId()).isEqualTo("run-1");
    assertThat(Golden.readForDiff(f, tiny).canonicalText()).isEqualTo("{\"run_id\":\"run-1\"}");
  }

  @Test
  void theRunHashAloneIsTheSummarysRunHash() throws Exception {
    for (String json : List.of(Samples.primary(), "{\"run_id\":\"r\",\"hash\":\"x\",\"steps\":[{\"hash\":1,\"b\":2}]}")) {
      byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
      assertThat(Golden.canonicalHash(bytes, "x", GoldenConfig.DEFAULT))
          .isEqualTo(Golden.parse(bytes, "x", GoldenConfig.DEFAULT).summary().canonicalHash());
    }
  }
}
