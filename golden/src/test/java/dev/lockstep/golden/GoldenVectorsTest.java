package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * docs/golden-vectors.json is the contract every implementation of the format reproduces: the
 * engine and the tree reference must both give each document's canonical bytes, hashes and errors
 * and each pair's classification, and the file is pinned to {@link GoldenFormat#VERSION}.
 */
class GoldenVectorsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode file() throws Exception {
    return JSON.readTree(Files.readAllBytes(GoldenVectors.FILE));
  }

  private static byte[] input(JsonNode v) {
    return v.has("input_base64") ? Base64.getDecoder().decode(v.get("input_base64").asText())
        : v.get("input").asText().getBytes(StandardCharsets.UTF_8);
  }

  @SuppressWarnings("unchecked")
  private static GoldenConfig config(JsonNode v) {
    return GoldenVectors.config(v.has("config") ? JSON.convertValue(v.get("config"), Map.class) : null);
  }

  @Test
  void theVectorsArePinnedToTheFormatVersion() throws Exception {
    byte[] bytes = Files.readAllBytes(GoldenVectors.FILE);
    String digest = Hashes.of(bytes, 0, bytes.length);
    assertThat(file().get("format_version").asInt()).isEqualTo(GoldenFormat.VERSION);
    assertThat(GoldenFormat.VECTORS.keySet()).allMatch(v -> v <= GoldenFormat.VERSION).contains(GoldenFormat.VERSION);
    assertThat(digest).as("docs/golden-vectors.json changed (now %s). A change of the canonical form or of a hash"
        + " stops a fleet whose agents and collector run different versions: if it is intended, bump"
        + " GoldenFormat.VERSION, regenerate the vectors (GoldenVectors.main) and add the new version's digest to"
        + " GoldenFormat.VECTORS; never edit a released entry.", digest)
        .isEqualTo(GoldenFormat.VECTORS.get(GoldenFormat.VERSION));
  }

  @Test
  void theFileIsWhatTheVectorToolWrites() throws Exception {
    String written = new String(Files.readAllBytes(GoldenVectors.FILE), StandardCharsets.UTF_8);
    assertThat(written).as("run GoldenVectors.main to regenerate docs/golden-vectors.json")
        .isEqualTo(GoldenVectors.render(GoldenVectors.file()));
  }

  /** One document of the file, read. */
  private record Vector(JsonNode v, String name, byte[] in, GoldenConfig config, String source) {}

  private static java.util.List<Vector> documents() throws Exception {
    java.util.List<Vector> out = new java.util.ArrayList<>();
    for (JsonNode v : file().get("documents")) {
      out.add(new Vector(v, v.get("name").asText(), input(v), config(v), v.get("source").asText()));
    }
    return out;
  }

  @Test
  void theEngineReproducesEveryDocument() throws Exception {
    for (Vector d : documents()) {
      JsonNode v = d.v();
      String name = d.name();
      byte[] in = d.in();
      GoldenConfig config = d.config();
      String source = d.source();
      if (v.has("error")) {
        GoldenParseException e = refusal(in, source, config);
        assertThat(e).as(name).isNotNull();
        assertThat(e.code().name()).as(name).isEqualTo(v.get("error").get("code").asText());
        continue;
      }
      assertThat(new String(Golden.canonicalBytes(in, source, config, false), StandardCharsets.UTF_8)).as(name)
          .isEqualTo(v.get("canonical").asText());
      byte[] canonical = v.get("canonical").asText().getBytes(StandardCharsets.UTF_8);
      assertThat(Hashes.of(canonical, 0, canonical.length)).as(name).isEqualTo(v.get("canonical_sha256").asText());
      String masked = new String(Golden.canonicalBytes(in, source, config, true), StandardCharsets.UTF_8);
      assertThat(masked).as(name).isEqualTo(v.get("masked").asText());
      RunSummary s = Golden.parse(in, source, config).summary();
      assertThat((JsonNode) JSON.valueToTree(GoldenVectors.summary(s))).as(name).isEqualTo(v.get("summary"));
      // the run hash is SHA-256 of the masked canonical bytes
      byte[] m = masked.getBytes(StandardCharsets.UTF_8);
      assertThat(s.canonicalHash()).as(name).isEqualTo(Hashes.of(m, 0, m.length));
    }
  }

  @Test
  void theTreeReferenceReproducesEveryDocumentToo() throws Exception {
    for (Vector d : documents()) {
      JsonNode v = d.v();
      String name = d.name();
      byte[] in = d.in();
      GoldenConfig config = d.config();
      String source = d.source();
      if (v.has("error")) {
        GoldenParseException e = null;
        try {
          ReferenceSummary.of(in, source, config);
          if (v.get("error").get("code").asText().equals("STRING_TOO_LONG")) {
            continue; // the reference does not check string lengths
          }
        } catch (GoldenParseException x) {
          e = x;
        }
        assertThat(e).as(name).isNotNull();
        continue;
      }
      assertThat(ReferenceCanonical.text(ReferenceParser.read(in, config.limits()))).as(name)
          .isEqualTo(v.get("canonical").asText());
      assertThat((JsonNode) JSON.valueToTree(GoldenVectors.summary(ReferenceSummary.of(in, source, config)))).as(name)
          .isEqualTo(v.get("summary"));
    }
  }

  @Test
  void everyPairIsClassifiedAsWritten() throws Exception {
    JsonNode f = file();
    Map<String, RunSummary> summaries = new HashMap<>();
    for (Vector d : documents()) {
      if (!d.v().has("error")) {
        summaries.put(d.name(), Golden.parse(d.in(), d.source(), d.config()).summary());
      }
    }
    for (JsonNode p : f.get("pairs")) {
      GoldenVectors.Pair pair = new GoldenVectors.Pair(p.get("name").asText(), "", p.get("a").asText(), p.get("b").asText());
      JsonNode expected = p.deepCopy();
      ((com.fasterxml.jackson.databind.node.ObjectNode) expected).put("note", "");
      Map<String, Object> actual = GoldenVectors.expected(pair, summaries);
      actual.put("note", "");
      assertThat((JsonNode) JSON.valueToTree(actual)).as(pair.name()).isEqualTo(expected);
    }
  }

  @Test
  void theVectorsCoverTheEdgeCases() throws Exception {
    JsonNode f = file();
    Set<String> names = new HashSet<>();
    Set<String> errors = new HashSet<>();
    int valid = 0;
    for (JsonNode v : f.get("documents")) {
      assertThat(names.add(v.get("name").asText())).as("unique name " + v.get("name")).isTrue();
      if (v.has("error")) {
        errors.add(v.get("error").get("code").asText());
      } else {
        valid++;
      }
    }
    assertThat(f.get("documents").size()).isGreaterThanOrEqualTo(50);
    assertThat(valid).isGreaterThanOrEqualTo(30);
    assertThat(errors).contains("NON_FINITE_NUMBER", "INVALID_UTF8", "DUPLICATE_KEY", "TRUNCATED", "NOT_AN_OBJECT",
        "NOT_JSON", "TOO_DEEP", "STRING_TOO_LONG", "MISSING_FIELD");
    Set<String> categories = new HashSet<>();
    boolean findings = false;
    boolean match = false;
    for (JsonNode p : f.get("pairs")) {
      categories.add(p.get("category").asText());
      findings |= p.get("findings").size() > 0;
      match |= p.get("match").asBoolean();
    }
    assertThat(categories).contains("SEED_MISMATCH", "VOLATILE_LEAK", "EXTERNAL_CALL", "UNSEEDED_RNG",
        "DETERMINISM_VIOLATION");
    assertThat(findings).isTrue();
    assertThat(match).isTrue();
  }

  private static GoldenParseException refusal(byte[] in, String source, GoldenConfig config) {
    try {
      Golden.parse(in, source, config);
      return null;
    } catch (GoldenParseException e) {
      return e;
    }
  }
}
