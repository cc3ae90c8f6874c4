package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The byte-level engine must agree with the tree-based reference ({@link ReferenceSummary}). */
class ReferenceAgreementTest {

  static RunSummary streamed(String json, GoldenConfig config) throws GoldenParseException {
    return Golden.parse(json.getBytes(StandardCharsets.UTF_8), "x.primary.golden.json", config).summary();
  }

  static RunSummary reference(String json, GoldenConfig config) throws GoldenParseException {
    return ReferenceSummary.of(json.getBytes(StandardCharsets.UTF_8), "x.primary.golden.json", config);
  }

  @Test
  void agreesWithTheTreeReferenceOnTheSamples() throws Exception {
    for (String json : List.of(
        Samples.primary(),
        Samples.golden("shadow", 5, "t", "[1, {\"b\": 2, \"a\": [3, {\"z\": 1, \"y\": 2}]}]", "{\"k\": [0.1, 1e30]}", "null"),
        "{\"run_id\":\"r\",\"steps\":[1, \"two\", [3], {\"name\":\"n\",\"hash\":\"h\",\"index\":9}],\"hash\":\"x\"}",
        "{\"z\":1,\"run_id\":\"r\",\"a\":{\"timestamp\":1,\"c\":\"\\u00e9\\ud83d\\ude00\\n\",\"b\":[{\"y\":1,\"x\":2}]},\"output\":[1,2]}")) {
      assertThat(streamed(json, GoldenConfig.DEFAULT)).isEqualTo(reference(json, GoldenConfig.DEFAULT));
    }
  }

  @Test
  void agreesWithTheTreeReferenceUnderAnotherMappingAndGlobs() throws Exception {
    GoldenConfig.Mapping mapping = new GoldenConfig.Mapping("/meta/id", "/meta/flow", "/meta/replica",
        "/meta/rng_seed", "/digest", "/result", "/trace", "/i", "/label", "/type", "/digest",
        List.of("/random/draws", "noise"), "reply");
    GoldenConfig config = new GoldenConfig(GoldenConfig.Limits.DEFAULT, mapping,
        new GoldenConfig.VolatileMask(Set.of("ts"), List.of("/trace/*/host", "/**/debug")));
    String json = """
        {"meta": {"id": "r1", "flow": "wf", "replica": "shadow", "rng_seed": 7, "ts": 1},
         "trace": [{"i": 5, "label": "call", "type": "http", "reply": {"ok": true, "debug": 1}, "digest": "d5", "host": "h1"},
                   {"label": "draw", "random": {"draws": [1, 2]}, "noise": 0.5, "i": 6}],
         "result": {"b": 1, "a": 2}, "digest": "top"}""";
    assertThat(streamed(json, config)).isEqualTo(reference(json, config));
  }

  /**
   * A member name with an escape, kept as long in canonical form (here {@code \n}), of 255 or 256
   * bytes as written (and, once the name buffer has grown to 2n, of 2n - 1 or 2n bytes) overflowed
   * the canonicaliser's name buffer where the name is matched against mapped fields and globs: an
   * ArrayIndexOutOfBoundsException refused a valid file (an agent reported it as INTERNAL, so its
   * run was never compared).
   */
  @Test
  void agreesOnEscapedMemberNamesOfEveryLengthAroundTheNameBuffer() throws Exception {
    StringBuilder root = new StringBuilder("{\"run_id\":\"r\"");
    StringBuilder step = new StringBuilder("{\"index\":0");
    for (int n = 250; n <= 1100; n++) {
      String name = "\\n" + "a".repeat(n - 2); // n bytes between the quotes
      root.append(",\"").append(name).append("\":").append(n);
      step.append(",\"").append(name).append("\":").append(n);
    }
    String json = root.append(",\"steps\":[").append(step).append("}]}").toString();
    assertThat(streamed(json, GoldenConfig.DEFAULT)).isEqualTo(reference(json, GoldenConfig.DEFAULT));
  }
}
