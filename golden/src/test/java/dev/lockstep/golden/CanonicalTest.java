package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The engine's canonical form against RFC 8785's examples and our extension. */
class CanonicalTest {

  static String canonical(String json) throws GoldenParseException {
    return canonical(json, GoldenConfig.DEFAULT, false);
  }

  static String canonical(String json, GoldenConfig config, boolean masked) throws GoldenParseException {
    byte[] c = Golden.canonicalBytes(json.getBytes(StandardCharsets.UTF_8), "test", config, masked);
    return new String(c, StandardCharsets.UTF_8);
  }

  static byte[] canonicalBytes(String json) throws GoldenParseException {
    return Golden.canonicalBytes(json.getBytes(StandardCharsets.UTF_8), "test", GoldenConfig.DEFAULT, false);
  }

  @Test
  void sortsKeysByUtf16CodeUnitsAsInTheRfcSortingExample() throws Exception {
    String input = """
        {
          "\\u20ac": "Euro Sign",
          "\\r": "Carriage Return",
          "\\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\\ud83d\\ude00": "Emoji: Grinning Face",
          "\\u0080": "Control",
          "\\u00f6": "Latin Small Letter O With Diaeresis"
        }""";
    assertThat(canonical(input)).isEqualTo(
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\","
            + "\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\","
            + "\"\ud83d\ude00\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}");
  }

  @Test
  void canonicalisesTheRfcValuesExample() throws Exception {
    String input = """
        {
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
          "literals": [null, true, false]
        }""";
    assertThat(canonical(input)).isEqualTo(
        "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            + "\"string\":\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
  }

  @Test
  void canonicalisesTheWeirdKeysExample() throws Exception {
    String input = """
        {
          "\\u20ac": "Euro Sign",
          "1": "One",
          "\\u0080": "Control\\u007f",
          "\\ud83d\\ude02": "Smiley",
          "\\u00f6": "Latin Small Letter O With Diaeresis",
          "\\ufb33": "Hebrew Letter Dalet With Dagesh",
          "</script>": "Browser Challenge"
        }""";
    assertThat(canonical(input)).isEqualTo(
        "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\u0080\":\"Control\u007f\","
            + "\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\","
            + "\"\ud83d\ude02\":\"Smiley\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}");
  }

  @Test
  void canonicalisesNestedStructures() throws Exception {
    String input = """
        {"1": {"f": {"f": "hi","F": 5} ,"\\n": 56.0}, "10": { }, "": "empty", "a": { },
         "111": [ { } ], "A": { }}""";
    assertThat(canonical(input))
        .isEqualTo("{\"\":\"empty\",\"1\":{\"\\n\":56,\"f\":{\"F\":5,\"f\":\"hi\"}},\"10\":{},\"111\":[{}],\"A\":{},\"a\":{}}");
  }

  @Test
  void escapesControlCharactersWithLowercaseHexAndKeepsOtherUnicodeLiteral() throws Exception {
    assertThat(canonical("{\"s\":\"\\u0001\\b\\t\\n\\f\\r\\u001F\\u007f\\u00e9\"}"))
        .isEqualTo("{\"s\":\"\\u0001\\b\\t\\n\\f\\r\\u001f\u007f\u00e9\"}");
  }

  @Test
  void refusesLoneSurrogatesAsRfc8785Requires() {
    for (String s : List.of("a\\ud800b", "\\udc00", "\\ud800", "\\ud800\\u0041", "\\ude00\\ud83d")) {
      GoldenParseException e = catchThrowableOfType(GoldenParseException.class,
          () -> canonical("{\"run_id\":\"r\",\"s\":\"" + s + "\"}"));
      assertThat(e).as(s).isNotNull();
      assertThat(e.code()).as(s).isEqualTo(GoldenParseException.Code.INVALID_UTF8);
      assertThat(e.reason()).as(s).contains("lone surrogate");
    }
    GoldenParseException key = catchThrowableOfType(GoldenParseException.class,
        () -> canonical("{\"run_id\":\"r\",\"\\udbff\":1}"));
    assertThat(key.code()).isEqualTo(GoldenParseException.Code.INVALID_UTF8);
  }

  @Test
  void writesSupplementaryCharactersAsFourByteUtf8() throws Exception {
    byte[] bytes = canonicalBytes("{\"s\":\"\\ud83d\\ude00\"}");
    assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo("{\"s\":\"\ud83d\ude00\"}");
    assertThat(bytes).containsSubsequence(new byte[] {(byte) 0xf0, (byte) 0x9f, (byte) 0x98, (byte) 0x80});
  }

  @Test
  void treatsOneAndOnePointZeroAsTheSameNumber() throws Exception {
    assertThat(canonical("{\"a\":1.0,\"b\":1e0,\"c\":10E-1,\"d\":-0.0}"))
        .isEqualTo("{\"a\":1,\"b\":1,\"c\":1,\"d\":0}");
  }

  @Test
  void writesLongStringsAcrossBufferBoundaries() throws Exception {
    String big = "\u00e9\ud83d\ude00\n".repeat(50_000);
    String escaped = "\\u00e9\\ud83d\\ude00\\n".repeat(50_000);
    assertThat(canonical("{\"s\":\"" + escaped + "\",\"r\":\"" + big.replace("\n", "\\n") + "\"}"))
        .isEqualTo("{\"r\":\"" + big.replace("\n", "\\n") + "\",\"s\":\"" + big.replace("\n", "\\n") + "\"}");
  }

  @Test
  void masksVolatileNamesAtAnyDepthAndPointerGlobs() throws Exception {
    GoldenConfig config = new GoldenConfig(GoldenConfig.Limits.DEFAULT, GoldenConfig.Mapping.DEFAULT,
        new GoldenConfig.VolatileMask(Set.of("timestamp"), List.of("/steps/*/debug", "/**/trace~1id", "/meta/**")));
    String text = canonical("""
        {"timestamp":"x","steps":[{"timestamp":1,"debug":2,"keep":3,"inner":{"debug":4}}],
         "deep":{"a":{"trace/id":5,"b":6}},"meta":{"x":{"y":1}},"meta2":1,"run_id":"r"}""", config, true);
    assertThat(text).isEqualTo(
        "{\"deep\":{\"a\":{\"b\":6}},\"meta2\":1,\"run_id\":\"r\",\"steps\":[{\"inner\":{\"debug\":4},\"keep\":3}]}");
  }

  @Test
  void keepsTheExactDigitsOfIntegersBeyondTwoToThe53() throws Exception {
    assertThat(canonical("{\"a\":1234567890123456789,\"b\":1234567890123456790,\"c\":-0,"
        + "\"d\":18446744073709551615,\"e\":" + "9".repeat(400) + ",\"f\":9007199254740993}"))
        .isEqualTo("{\"a\":1234567890123456789,\"b\":1234567890123456790,\"c\":0,"
            + "\"d\":18446744073709551615,\"e\":" + "9".repeat(400) + ",\"f\":9007199254740993}");
  }

  @Test
  void writesWholeDoublesBelow1e21AsTheirExactIntegers() throws Exception {
    // ES6 would print 1e20 as 100000000000000000000 too, but 1.2345678901234567e19 as
    // 12345678901234567000, which is another integer than the double's value
    assertThat(canonical("{\"a\":1e20,\"b\":1.2345678901234567e19,\"c\":9007199254740993.0,\"d\":1e21,"
        + "\"e\":-4.0e15,\"f\":1.5e300}"))
        .isEqualTo("{\"a\":100000000000000000000,\"b\":12345678901234567168,\"c\":9007199254740992,"
            + "\"d\":1e+21,\"e\":-4000000000000000,\"f\":1.5e+300}");
  }

  @Test
  void integerAndDecimalSpellingsOfTheSameValueAreEqualOnlyWhenTheDoubleIsExact() throws Exception {
    // 10^25 as an integer literal is exact; 1e25 is the double nearest to it, a different number
    assertThat(canonical("{\"a\":10000000000000000000000000}")).isEqualTo("{\"a\":10000000000000000000000000}");
    assertThat(canonical("{\"a\":1e25}")).isEqualTo("{\"a\":1e+25}");
    assertThat(canonical("{\"a\":12345678901234567168}")).isEqualTo(canonical("{\"a\":1.2345678901234567e19}"));
    assertThat(canonical("{\"a\":12345678901234567000}")).isNotEqualTo(canonical("{\"a\":1.2345678901234567e19}"));
  }

  @Test
  void wholeDoublesFromTwoToThe63UpTo1e21AreWrittenExactly() throws Exception {
    java.util.Random r = new java.util.Random(63);
    CanonicalNumber numbers = new CanonicalNumber();
    for (int i = 0; i < 2000; i++) {
      double d = Math.scalb(1.0 + r.nextInt(1 << 30) / (double) (1 << 30), 63 + r.nextInt(6));
      if (d >= 1e21) {
        continue;
      }
      String expected = new java.math.BigDecimal(d).toBigInteger().toString();
      assertThat(numbers.text(d)).as("%s", d).isEqualTo(expected);
      assertThat(numbers.text(-d)).isEqualTo("-" + expected);
    }
    assertThat(numbers.text(999999999999999868928.0)).isEqualTo("999999999999999868928");
    assertThat(numbers.text(Math.scalb(1.0, 63))).isEqualTo("9223372036854775808");
  }

  /**
   * Strings are scanned eight bytes at a time: a quote, an escape, a control character or a
   * multi-byte character at every offset of a word, near the end of the input too, is seen.
   */
  @Test
  void findsEveryStringBoundaryWhateverItsOffsetInAWord() throws Exception {
    for (int pad = 0; pad < 20; pad++) {
      String lead = "x".repeat(pad);
      for (String tail : List.of("", "y", "yyyyyyyyy")) {
        String name = lead + "\\\"" + tail; // x..x\" y.. : an escaped quote, then more
        String value = lead + "\u00e9\u00e8" + tail;
        String json = "{\"" + name + "\":\"" + value + "\",\"" + lead + "\":\"\u00e9" + lead + "\"}";
        assertThat(canonical(json)).as(json).isEqualTo(
            "{\"" + lead + "\":\"\u00e9" + lead + "\",\"" + name + "\":\"" + lead + "\u00e9\u00e8" + tail + "\"}");
        String control = "{\"k\":\"" + lead + "\u0001" + tail + "\"}";
        GoldenParseException e = catchThrowableOfType(() -> canonical(control), GoldenParseException.class);
        assertThat(e).as(lead).isNotNull();
        assertThat(e.reason()).contains("control character U+0001");
      }
    }
  }
}
