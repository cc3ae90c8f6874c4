package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CanonicalTest {

  static JsonNode tree(String json) throws GoldenParseException {
    return new StrictParser(GoldenConfig.Limits.DEFAULT).readTree(json.getBytes(StandardCharsets.UTF_8), "test");
  }

  static String canonical(String json) throws GoldenParseException {
    return Canonical.toText(tree(json));
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
  void escapesLoneSurrogatesInsteadOfWritingInvalidUtf8() throws Exception {
    byte[] bytes = Canonical.toBytes(tree("{\"s\":\"a\\ud800b\"}"), new Mask(java.util.Set.of(), java.util.List.of()));
    assertThat(new String(bytes, StandardCharsets.US_ASCII)).isEqualTo("{\"s\":\"a\\ud800b\"}");
  }

  @Test
  void writesSupplementaryCharactersAsFourByteUtf8() throws Exception {
    byte[] bytes = Canonical.toBytes(tree("{\"s\":\"\\ud83d\\ude00\"}"), new Mask(java.util.Set.of(), java.util.List.of()));
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
    JsonNode node = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("s", big);
    String text = Canonical.toText(node);
    assertThat(text).isEqualTo("{\"s\":\"" + big.replace("\n", "\\n") + "\"}");
  }

  @Test
  void masksVolatileNamesAtAnyDepthAndPointerGlobs() throws Exception {
    Mask mask = new Mask(java.util.Set.of("timestamp"),
        java.util.List.of("/steps/*/debug", "/**/trace~1id", "/meta/**"));
    String text = Canonical.toText(tree("""
        {"timestamp":"x","steps":[{"timestamp":1,"debug":2,"keep":3,"inner":{"debug":4}}],
         "deep":{"a":{"trace/id":5,"b":6}},"meta":{"x":{"y":1}},"meta2":1}"""), mask);
    assertThat(text).isEqualTo(
        "{\"deep\":{\"a\":{\"b\":6}},\"meta2\":1,\"steps\":[{\"inner\":{\"debug\":4},\"keep\":3}]}");
  }
}
