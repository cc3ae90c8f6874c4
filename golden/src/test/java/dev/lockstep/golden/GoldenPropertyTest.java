package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class GoldenPropertyTest {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  @Property(tries = 500)
  void arbitraryBytesGiveADocumentOrAGoldenParseException(@ForAll byte[] bytes) {
    parseOrRefuse(bytes);
  }

  @Property(tries = 500)
  void jsonLikeTextGivesADocumentOrAGoldenParseException(@ForAll("jsonish") String text) {
    parseOrRefuse(text.getBytes(StandardCharsets.UTF_8));
  }

  @Property(tries = 300)
  void mangledValidDocumentsGiveADocumentOrAGoldenParseException(@ForAll("trees") JsonNode tree,
      @ForAll("cuts") int cut, @ForAll byte junk) {
    byte[] bytes = Canonical.toText(withRunId(tree)).getBytes(StandardCharsets.UTF_8);
    int at = Math.floorMod(cut, bytes.length);
    parseOrRefuse(java.util.Arrays.copyOf(bytes, at));
    byte[] flipped = bytes.clone();
    flipped[at] = junk;
    parseOrRefuse(flipped);
  }

  @Property(tries = 300)
  void canonicalisationIsIdempotent(@ForAll("trees") JsonNode tree) throws Exception {
    String once = Canonical.toText(withRunId(tree));
    JsonNode reparsed = Golden.parse(once.getBytes(StandardCharsets.UTF_8), "p", GoldenConfig.DEFAULT).tree();
    assertThat(Canonical.toText(reparsed)).isEqualTo(once);
  }

  @Property(tries = 300)
  void canonicalFormDoesNotDependOnKeyOrder(@ForAll("trees") JsonNode tree, @ForAll long seed) throws Exception {
    JsonNode doc = withRunId(tree);
    JsonNode shuffled = shuffle(doc, new Random(seed));
    assertThat(Canonical.toText(shuffled)).isEqualTo(Canonical.toText(doc));
    byte[] a = Canonical.toText(doc).getBytes(StandardCharsets.UTF_8);
    byte[] b = pretty(shuffled).getBytes(StandardCharsets.UTF_8);
    assertThat(Golden.parse(b, "b", GoldenConfig.DEFAULT).summary().canonicalHash())
        .isEqualTo(Golden.parse(a, "a", GoldenConfig.DEFAULT).summary().canonicalHash());
  }

  @Property(tries = 300)
  void streamingSummaryAgreesWithTheTreeReference(@ForAll("trees") JsonNode tree, @ForAll("trees") JsonNode step,
      @ForAll long seed) throws Exception {
    ObjectNode doc = (ObjectNode) shuffle(withRunId(tree), new Random(seed));
    ArrayNode steps = doc.putArray("steps");
    steps.add(step);
    ObjectNode s = F.objectNode();
    s.put("name", "n").put("kind", "external").set("response", tree);
    s.set("rng", step);
    s.put("timestamp", seed);
    steps.add(s);
    byte[] bytes = pretty(doc).getBytes(StandardCharsets.UTF_8);
    RunSummary streamed = Golden.parse(bytes, "p", GoldenConfig.DEFAULT).summary();
    JsonNode parsed = new StrictParser(GoldenConfig.Limits.DEFAULT).readTree(bytes, "p");
    assertThat(streamed).isEqualTo(new Summarizer(GoldenConfig.DEFAULT).summarize(parsed, "p"));
  }

  private static void parseOrRefuse(byte[] bytes) {
    try {
      Golden.parse(bytes, "fuzz", GoldenConfig.DEFAULT);
    } catch (GoldenParseException e) {
      assertThat(e.getMessage()).startsWith("fuzz").isNotBlank();
      assertThat(e.code()).isNotNull();
    }
  }

  private static JsonNode withRunId(JsonNode tree) {
    ObjectNode root = F.objectNode();
    root.put("run_id", "r");
    root.set("data", tree);
    return root;
  }

  private static JsonNode shuffle(JsonNode n, Random random) {
    if (n.isObject()) {
      List<String> keys = new ArrayList<>();
      n.fieldNames().forEachRemaining(keys::add);
      Collections.shuffle(keys, random);
      ObjectNode o = F.objectNode();
      for (String k : keys) {
        o.set(k, shuffle(n.get(k), random));
      }
      return o;
    }
    if (n.isArray()) {
      ArrayNode a = F.arrayNode();
      n.forEach(e -> a.add(shuffle(e, random)));
      return a;
    }
    return n;
  }

  private static String pretty(JsonNode n) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(n);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  @Provide
  Arbitrary<Integer> cuts() {
    return Arbitraries.integers();
  }

  @Provide
  Arbitrary<String> jsonish() {
    return Arbitraries.strings().withChars("{}[]\":,.-+eE0123456789 \n\\utrfalsenNI\u00e9\ud83d\ude00")
        .ofMaxLength(200);
  }

  @Provide
  Arbitrary<JsonNode> trees() {
    return Arbitraries.randomValue(r -> value(r, 0));
  }

  private static JsonNode value(Random r, int depth) {
    int kind = r.nextInt(depth > 4 ? 5 : 7);
    switch (kind) {
      case 0:
        return F.nullNode();
      case 1:
        return F.booleanNode(r.nextBoolean());
      case 2:
        return F.numberNode(r.nextInt());
      case 3: {
        double d = Double.longBitsToDouble(r.nextLong());
        return F.numberNode(Double.isFinite(d) ? d : r.nextDouble());
      }
      case 4:
        return F.textNode(string(r));
      case 5: {
        ArrayNode a = F.arrayNode();
        for (int i = r.nextInt(4); i > 0; i--) {
          a.add(value(r, depth + 1));
        }
        return a;
      }
      default: {
        ObjectNode o = F.objectNode();
        for (int i = r.nextInt(5); i > 0; i--) {
          o.set(string(r), value(r, depth + 1));
        }
        return o;
      }
    }
  }

  private static String string(Random r) {
    String alphabet = "ab\u20ac\r\n\t\"\\/\u0001\u00f6\ufb33\ud83d\ude00Z1 ";
    StringBuilder sb = new StringBuilder();
    for (int i = r.nextInt(6); i > 0; i--) {
      char c = alphabet.charAt(r.nextInt(alphabet.length()));
      if (Character.isSurrogate(c)) {
        sb.append("\ud83d\ude00");
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
