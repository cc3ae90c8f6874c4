package dev.lockstep.golden;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The inputs of docs/golden-vectors.json and how their expected values are computed. Run
 * {@code main} (from the golden module directory) to write the file; {@link GoldenVectorsTest}
 * checks the engine and the tree reference against the file, and pins the file to
 * {@link GoldenFormat#VERSION}. Changing an input or the engine's output is a format change.
 */
final class GoldenVectors {
  private GoldenVectors() {}

  static final Path FILE = Path.of("..", "docs", "golden-vectors.json");

  record Doc(String name, String note, Map<String, Object> config, String source, byte[] input) {}

  record Pair(String name, String note, String a, String b) {}

  private static final List<Doc> DOCS = new ArrayList<>();
  private static final List<Pair> PAIRS = new ArrayList<>();

  private static void doc(String name, String note, String json) {
    doc(name, note, null, null, json.getBytes(StandardCharsets.UTF_8));
  }

  private static void doc(String name, String note, Map<String, Object> config, String json) {
    doc(name, note, config, null, json.getBytes(StandardCharsets.UTF_8));
  }

  private static void doc(String name, String note, Map<String, Object> config, String source, byte[] input) {
    DOCS.add(new Doc(name, note, config, source, input));
  }

  private static void pair(String name, String note, String a, String b) {
    PAIRS.add(new Pair(name, note, a, b));
  }

  static final String DESIGN = """
      {
        "format": "lockstep.golden/v1",
        "run_id": "billing-7f3a-cycle-0042",
        "workflow": "billing.reconcile",
        "role": "primary",
        "seed": 1234567,
        "timestamp": "2025-12-02T10:00:00Z",
        "duration_ms": 1520,
        "steps": [
          {"index": 0, "name": "load_accounts", "kind": "compute", "output": {"n": 3}, "hash": "sha256:e0"},
          {"index": 1, "name": "fetch_rates", "kind": "external", "request": {"url": "https://rates.example"}, "response": {"eur": 1.08}},
          {"index": 2, "name": "sample", "kind": "compute", "rng": [0.12, 0.98], "output": {"pick": 7}}
        ],
        "output": {"total": 42},
        "hash": "sha256:run"
      }
      """;

  static String design(String from, String to) {
    String s = DESIGN.replace(from, to);
    if (s.equals(DESIGN)) {
      throw new IllegalArgumentException("no " + from + " in the design example");
    }
    return s;
  }

  static String value(String json) {
    return "{\"run_id\":\"v\",\"v\":" + json + "}";
  }

  static {
    // ---- documents: the format and masking
    doc("design-example", "The example of DESIGN.md: volatile timestamp/duration_ms, role and engine hashes left out.", DESIGN);
    doc("design-example-shadow", "The same run as the shadow: only the role and volatile fields differ.",
        design("\"role\": \"primary\"", "\"role\": \"shadow\"").replace("10:00:00Z", "10:00:07Z")
            .replace("1520", "1999"));
    doc("design-example-compact-reordered", "Same content, no whitespace, members in another order, escapes: same hashes.",
        "{\"steps\":[{\"output\":{\"n\":3},\"hash\":\"sha256:e0\",\"kind\":\"compute\",\"name\":\"load_accounts\",\"index\":0},"
            + "{\"response\":{\"eur\":1.080},\"request\":{\"url\":\"https:\\/\\/rates.example\"},\"kind\":\"external\","
            + "\"name\":\"fetch_rates\",\"index\":1},{\"output\":{\"pick\":7},\"rng\":[0.12,0.98],\"kind\":\"compute\","
            + "\"name\":\"s\\u0061mple\",\"index\":2}],\"seed\":1234567,\"run_id\":\"billing-7f3a-cycle-0042\","
            + "\"output\":{\"total\":42.0},\"hash\":\"sha256:run\",\"format\":\"lockstep.golden/v1\",\"workflow\":\"billing.reconcile\"}");
    doc("volatile-names-at-any-depth", "Volatile names are masked in every object, also inside arrays.",
        "{\"run_id\":\"r\",\"a\":{\"timestamp\":1,\"b\":[{\"created_at\":2,\"elapsed_ms\":3,\"keep\":4}]},"
            + "\"started_at\":5,\"finished_at\":6}");
    doc("volatile-globs", "Pointer globs: * is one segment, ** any number (also none); ~1 is '/', ~0 is '~'.",
        Map.of("volatile", Map.of("pointers", List.of("/steps/*/debug", "/**/trace~1id", "/meta/**", "/x~0y"))),
        "{\"run_id\":\"r\",\"steps\":[{\"debug\":1,\"keep\":2,\"inner\":{\"debug\":3}}],"
            + "\"deep\":{\"a\":{\"trace/id\":4,\"b\":5}},\"meta\":{\"x\":1},\"meta2\":1,\"x~y\":1,\"x\":{\"y\":1}}");
    doc("volatile-replace-defaults", "With replace_defaults the built-in names are not volatile.",
        Map.of("volatile", Map.of("replace_defaults", true, "names", List.of("host"))),
        "{\"run_id\":\"r\",\"timestamp\":1,\"host\":\"h1\",\"n\":{\"host\":2}}");
    doc("a-glob-names-members-not-elements", "A glob that ends at an array index masks nothing.",
        Map.of("volatile", Map.of("pointers", List.of("/list/0", "/list/*/x"))),
        "{\"run_id\":\"r\",\"list\":[{\"x\":1,\"y\":2},3]}");
    doc("role-from-the-file-name", "Without a role member the role comes from the file name.", null,
        "run7.shadow.golden.json", "{\"run_id\":\"run7\",\"seed\":1}".getBytes(StandardCharsets.UTF_8));
    doc("engine-hashes-left-out", "The run hash and every step's hash are reported, not hashed.",
        "{\"run_id\":\"r\",\"hash\":\"H\",\"steps\":[{\"index\":0,\"hash\":\"h0\",\"x\":1},{\"hash\":\"h1\"}]}");
    doc("other-layout", "A mapping for another layout: nested identity, steps elsewhere, several rng keys.",
        Map.of("mapping", Map.ofEntries(Map.entry("run_id", "/meta/id"), Map.entry("workflow", "/meta/wf"),
            Map.entry("role", "/meta/replica"), Map.entry("seed", "/meta/rng_seed"), Map.entry("run_hash", "/digest"),
            Map.entry("output", "/result"), Map.entry("steps", "/trace"), Map.entry("step_index", "/i"),
            Map.entry("step_name", "/label"), Map.entry("step_kind", "/type"), Map.entry("step_hash", "/digest"),
            Map.entry("rng_keys", List.of("/random/draws", "noise")), Map.entry("response_key", "reply"))),
        "{\"meta\":{\"id\":\"r1\",\"wf\":\"wf\",\"replica\":\"shadow\",\"rng_seed\":\"7\"},\"trace\":["
            + "{\"i\":5,\"label\":\"call\",\"type\":\"http\",\"reply\":{\"ok\":true},\"digest\":\"d5\"},"
            + "{\"label\":\"draw\",\"random\":{\"draws\":[1,2]},\"noise\":0.5,\"i\":6}],\"result\":{\"b\":1,\"a\":2},\"digest\":\"top\"}");
    doc("masked-response-and-output", "A masked response leaves the step external with an empty response hash; a masked output has no output hash.",
        Map.of("volatile", Map.of("names", List.of("response", "output"))),
        "{\"run_id\":\"r\",\"steps\":[{\"index\":0,\"response\":{\"a\":1}}],\"output\":{\"x\":1}}");
    doc("nothing-inside-a-masked-member-is-mapped", "The steps array is inside a masked member: there are no steps.",
        Map.of("mapping", Map.of("steps", "/meta/steps"), "volatile", Map.of("names", List.of("meta"))),
        "{\"run_id\":\"r\",\"meta\":{\"steps\":[{\"index\":0}]}}");

    // ---- steps
    doc("steps-without-index-use-their-position", "A step without an integer index is paired by its position.",
        "{\"run_id\":\"r\",\"steps\":[{\"name\":\"a\"},{\"name\":\"b\",\"index\":\"7\"},{\"name\":\"c\",\"index\":2.0},"
            + "{\"name\":\"d\",\"index\":1.5},{\"name\":\"e\",\"index\":-3},{\"name\":\"f\",\"index\":4294967296}]}");
    doc("steps-that-are-not-objects", "Any JSON value can be a step; only objects have names, kinds and part hashes.",
        "{\"run_id\":\"r\",\"steps\":[1,\"two\",[3],null,{\"index\":9,\"name\":\"n\"}]}");
    doc("external-by-kind-or-by-response", "A step is external when its kind is \\\"external\\\" or it has a response.",
        "{\"run_id\":\"r\",\"steps\":[{\"index\":0,\"kind\":\"external\"},{\"index\":1,\"response\":null},{\"index\":2,\"kind\":\"http\"}]}");
    doc("rng-of-any-type", "rng values are hashed whatever their type.",
        "{\"run_id\":\"r\",\"steps\":[{\"index\":0,\"rng\":{\"b\":2,\"a\":1}},{\"index\":1,\"rng\":0.5},{\"index\":2,\"rng\":[]}]}");
    doc("null-steps", "steps may be null (no steps).", "{\"run_id\":\"r\",\"steps\":null}");
    doc("empty-containers", "Empty objects and arrays.", "{\"run_id\":\"r\",\"o\":{},\"a\":[],\"steps\":[],\"n\":[{},[]]}");
    doc("mapped-scalars-of-other-types", "A number or boolean where a name is expected is read in canonical form; an object is no value.",
        "{\"run_id\":42.50,\"workflow\":true,\"role\":{\"x\":1},\"steps\":[{\"name\":1e2,\"kind\":null}]}");

    // ---- strings and names
    doc("rfc8785-sorting", "RFC 8785 §3.2.3: names in UTF-16 code-unit order (emoji before U+FB33).",
        "{\"run_id\":\"r\",\"o\":{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\","
            + "\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}}");
    doc("utf16-order-is-not-code-point-order", "U+E000 sorts after a supplementary character in UTF-16, before it in code points.",
        "{\"run_id\":\"r\",\"o\":{\"\ue000\":1,\"\ud800\udc00\":2,\"\uffff\":3,\"\ud83d\ude00\":4,\"\u00e9\":5,\"z\":6}}");
    doc("rfc8785-values", "RFC 8785 §3.2.2: number and string serialisation.",
        "{\"run_id\":\"r\",\"numbers\":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"
            + "\"string\":\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\"literals\":[null,true,false]}");
    doc("rfc8785-weird-keys", "RFC 8785's weird keys example.",
        "{\"run_id\":\"r\",\"o\":{\"\\u20ac\":\"Euro Sign\",\"1\":\"One\",\"\\u0080\":\"Control\\u007f\",\"\\ud83d\\ude02\":\"Smiley\","
            + "\"\\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\",\"</script>\":\"Browser Challenge\"}}");
    doc("string-escapes", "Only \\\" \\\\ and control characters stay escaped (\\b \\t \\n \\f \\r or lower-case \\u00xx); \\/ and other escapes are decoded.",
        "{\"run_id\":\"r\",\"s\":\"\\u0001\\b\\t\\n\\f\\r\\u001F\\u007f\\u00e9\\/\\u0022\\u005C\",\"raw\":\"\u00e9\u20ac\ud83d\ude00\"}");
    doc("escaped-names", "Names are decoded before they are sorted, compared and masked.",
        "{\"run_id\":\"r\",\"\\u0074imestamp\":1,\"o\":{\"\\u0062\":2,\"a\":1,\"\\n\":0,\"\\\"\":3}}");
    doc("whitespace", "Insignificant whitespace (space, tab, CR, LF) anywhere.",
        " \t\r\n{ \"run_id\" :\t\"r\" ,\r\n \"a\" : [ 1 , { } , [ ] ] }\n\n");

    // ---- numbers
    doc("integers-keep-their-digits", "Our extension: integers outside ±2^53 keep their exact digits; -0 is 0.",
        "{\"run_id\":\"r\",\"n\":[9007199254740992,9007199254740993,-9007199254740993,9223372036854775808,"
            + "18446744073709551615,1234567890123456789,-0,0,100000000000000000000000000000]}");
    doc("a-very-long-integer", "Integers have no length limit but the file's.", value("1" + "0".repeat(400)));
    doc("decimals-follow-es6", "Numbers with a fraction or exponent are doubles written as ES6 does.",
        "{\"run_id\":\"r\",\"n\":[1.0,1e0,10E-1,-0.0,0.1,4.50,0.000001,0.0000001,1e-7,1.25e-7,1e21,1.5e300,"
            + "0.30000000000000004,2.82879384806159E17,-1.7976931348623157e308,5e-324,123.456e-2]}");
    doc("whole-doubles-are-exact-integers", "Our extension: a whole double below 1e21 is written as its exact integer (ES6 would pad shortest digits with zeros).",
        "{\"run_id\":\"r\",\"n\":[1e20,1.2345678901234567e19,9007199254740993.0,9.223372036854775807E18,999999999999999900000.0,4.5e15]}");
    doc("rfc8785-appendix-b", "RFC 8785 Appendix B number samples, written as their shortest literals.",
        "{\"run_id\":\"r\",\"n\":[0,-0,5e-324,-5e-324,1.7976931348623157e308,-1.7976931348623157e308,9007199254740992,"
            + "-9007199254740992,295147905179352830000,9.999999999999997e22,1e23,1.0000000000000001e23,"
            + "999999999999999700000,999999999999999900000,1e21,9.999999999999997e-7,0.000001,333333333.3333332,"
            + "333333333.33333325,333333333.3333333,333333333.3333334,333333333.33333343,-0.0000033333333333333333,"
            + "1424953923781206.2]}");

    // ---- seeds
    doc("seed-u64-max", "A u64 seed: 18446744073709551615.", "{\"run_id\":\"r\",\"seed\":18446744073709551615}");
    doc("seed-negative", "A negative seed is its two's complement: -1 is the seed 18446744073709551615.",
        "{\"run_id\":\"r\",\"seed\":-1}");
    doc("seed-as-string", "A seed may be a string of digits (surrounding spaces ignored).", "{\"run_id\":\"r\",\"seed\":\" 42 \"}");
    doc("seed-as-whole-double", "A whole double is an integer seed.", "{\"run_id\":\"r\",\"seed\":1.2e3}");
    doc("seed-null", "A null seed is no seed.", "{\"run_id\":\"r\",\"seed\":null}");

    // ---- refused documents
    err("error-nan", "NaN is not JSON.", value("NaN"));
    err("error-infinity", "Infinity is not JSON.", value("-Infinity"));
    err("error-overflow", "A literal beyond the double range.", value("1e400"));
    err("error-underflow", "A nonzero literal that would read as 0.", value("1e-400"));
    err("error-lone-high-surrogate", "RFC 8785 §3.2.2.2: a lone surrogate is refused.", value("\"a\\ud800b\""));
    err("error-lone-low-surrogate", "A low surrogate without a high one.", value("\"\\udc00\""));
    err("error-surrogate-pair-reversed", "Low then high is two lone surrogates.", value("\"\\ude00\\ud83d\""));
    DOCS.add(new Doc("error-invalid-utf8", "Latin-1 é in a string is not UTF-8.", null, null,
        new byte[] {'{', '"', 'r', 'u', 'n', '_', 'i', 'd', '"', ':', '"', 'c', 'a', 'f', (byte) 0xe9, '"', '}'}));
    DOCS.add(new Doc("error-overlong-utf8", "An overlong encoding of '/'.", null, null,
        new byte[] {'{', '"', 'r', 'u', 'n', '_', 'i', 'd', '"', ':', '"', (byte) 0xc0, (byte) 0xaf, '"', '}'}));
    DOCS.add(new Doc("error-utf8-surrogate", "A surrogate encoded in UTF-8.", null, null,
        new byte[] {'{', '"', 'r', 'u', 'n', '_', 'i', 'd', '"', ':', '"', (byte) 0xed, (byte) 0xa0, (byte) 0x80, '"', '}'}));
    err("error-truncated", "A file cut short.", "{\"run_id\":\"r\",\"steps\":[{\"index\":0");
    err("error-empty", "An empty file.", "");
    err("error-not-an-object", "A golden file is one JSON object.", "[1,2,3]");
    err("error-trailing-content", "Nothing may follow the object.", "{\"run_id\":\"r\"} {\"run_id\":\"s\"}");
    err("error-duplicate-key", "Duplicate names are refused, at any depth.", "{\"run_id\":\"r\",\"o\":{\"a\":1,\"a\":2}}");
    err("error-duplicate-key-escaped", "\\u0061 and a are the same name.", "{\"run_id\":\"r\",\"a\":1,\"\\u0061\":2}");
    err("error-duplicate-key-in-masked-member", "Also inside a masked member.", "{\"run_id\":\"r\",\"timestamp\":{\"a\":1,\"a\":2}}");
    err("error-leading-zero", "JSON numbers have no leading zeros.", value("01"));
    err("error-raw-control-character", "A raw control character in a string.", value("\"a\tb\""));
    err("error-missing-run-id", "The run id is required.", "{\"workflow\":\"w\"}");
    err("error-steps-not-an-array", "steps must be an array (or null).", "{\"run_id\":\"r\",\"steps\":{}}");
    err("error-seed-out-of-range", "A seed must fit 64 bits.", "{\"run_id\":\"r\",\"seed\":18446744073709551616}");
    err("error-seed-not-whole", "A seed must be an integer.", "{\"run_id\":\"r\",\"seed\":1.5}");
    DOCS.add(new Doc("error-too-deep", "Nesting beyond limits.max_depth (here 3; the root is level 1).",
        Map.of("limits", Map.of("max_depth", 3)), null,
        "{\"run_id\":\"r\",\"a\":[[[1]]]}".getBytes(StandardCharsets.UTF_8)));
    DOCS.add(new Doc("error-string-too-long", "A string longer than limits.max_string_length bytes as written (here 8).",
        Map.of("limits", Map.of("max_string_length", 8)), null,
        "{\"run_id\":\"r\",\"s\":\"\\u00e9\\u00e9\"}".getBytes(StandardCharsets.UTF_8)));

    // ---- pairs
    pair("match-despite-volatile-fields", "Role, timestamp and duration differ: a match.",
        "design-example", "design-example-shadow");
    pair("match-across-spellings", "Same content spelled differently.", "design-example", "design-example-compact-reordered");
    pairDoc("seed-mismatch", "Seeds differ: SEED_MISMATCH first.", design("\"seed\": 1234567", "\"seed\": 999"));
    pairDoc("unseeded-rng", "Random values differ at the first divergent step.", design("[0.12, 0.98]", "[0.5, 0.98]"));
    pairDoc("external-call", "An external step's response differs.", design("{\"eur\": 1.08}", "{\"eur\": 1.09}"));
    pairDoc("determinism-violation", "Content differs, not in rng or a response.", design("{\"pick\": 7}", "{\"pick\": 8}"));
    pairDoc("output-differs", "No step differs; the run output does.", design("{\"total\": 42}", "{\"total\": 43}"));
    pairDoc("step-missing", "A step is missing: it diverges at its index.",
        design(",\n    {\"index\": 2, \"name\": \"sample\", \"kind\": \"compute\", \"rng\": [0.12, 0.98], \"output\": {\"pick\": 7}}", ""));
    pairDoc("step-inserted", "An inserted step does not shift the others: they still pair by index.",
        design("{\"index\": 1,", "{\"index\": 5, \"name\": \"audit\", \"output\": 1},\n    {\"index\": 1,"));
    pairDoc("volatile-leak-only", "Only a step's engine hash differs: VOLATILE_LEAK.", design("sha256:e0", "sha256:e9"));
    pairDoc("volatile-leak-beside-external-call", "A step engine hash differs and a later external call: EXTERNAL_CALL with a VOLATILE_LEAK finding.",
        design("sha256:e0", "sha256:e9").replace("{\"eur\": 1.08}", "{\"eur\": 1.09}"));
    pairDoc("big-integers-are-exact", "1234567890123456789 and ...790 differ (they are equal as doubles).",
        design("{\"total\": 42}", "{\"total\": 42, \"order_id\": 1234567890123456790}"),
        design("{\"total\": 42}", "{\"total\": 42, \"order_id\": 1234567890123456789}"));
    pair("same-seed-bits-other-spelling", "-1 and 18446744073709551615 are the same seed; the documents still differ.",
        "seed-negative", "seed-u64-max");
  }

  private static void err(String name, String note, String json) {
    doc(name, note, json);
  }

  /** A pair of the design example (A) and a variant of it (B), each added as a document too. */
  private static void pairDoc(String name, String note, String b) {
    pairDoc(name, note, DESIGN, b);
  }

  private static void pairDoc(String name, String note, String a, String b) {
    String nameA = a.equals(DESIGN) ? "design-example" : "pair-" + name + "-a";
    if (!a.equals(DESIGN)) {
      doc(nameA, "Replica A of pair " + name + ".", a);
    }
    doc("pair-" + name + "-b", "Replica B of pair " + name + ".", b.replace("\"role\": \"primary\"", "\"role\": \"shadow\""));
    pair(name, note, nameA, "pair-" + name + "-b");
  }

  static List<Doc> documents() {
    return DOCS;
  }

  static List<Pair> pairs() {
    return PAIRS;
  }

  // ---- expected values ------------------------------------------------------------------------

  static GoldenConfig config(Map<String, Object> section) {
    return section == null ? GoldenConfig.DEFAULT : GoldenConfig.fromMap(section, "vector config: ");
  }

  static String source(Doc d) {
    return d.source() == null ? d.name() + ".json" : d.source();
  }

  /** The vector of one document: input, config, and either its canonical forms and summary or its error. */
  static Map<String, Object> expected(Doc d) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", d.name());
    v.put("note", d.note());
    if (d.config() != null) {
      v.put("config", sorted(d.config()));
    }
    v.put("source", source(d));
    String text = new String(d.input(), StandardCharsets.UTF_8);
    if (java.util.Arrays.equals(text.getBytes(StandardCharsets.UTF_8), d.input())) {
      v.put("input", text);
    } else {
      v.put("input_base64", Base64.getEncoder().encodeToString(d.input()));
    }
    GoldenConfig config = config(d.config());
    try {
      byte[] canonical = Golden.canonicalBytes(d.input(), source(d), config, false);
      byte[] masked = Golden.canonicalBytes(d.input(), source(d), config, true);
      RunSummary s = Golden.parse(d.input(), source(d), config).summary();
      v.put("canonical", new String(canonical, StandardCharsets.UTF_8));
      v.put("canonical_sha256", Hashes.of(canonical, 0, canonical.length));
      v.put("masked", new String(masked, StandardCharsets.UTF_8));
      v.put("summary", summary(s));
    } catch (GoldenParseException e) {
      Map<String, Object> error = new LinkedHashMap<>();
      error.put("code", e.code().name());
      error.put("example_message", e.getMessage());
      v.put("error", error);
    }
    return v;
  }

  /** Maps with their keys in order, so the file does not depend on Map.of's iteration order. */
  private static Object sorted(Object o) {
    if (o instanceof Map<?, ?> m) {
      Map<String, Object> out = new java.util.TreeMap<>();
      m.forEach((k, v) -> out.put((String) k, sorted(v)));
      return out;
    }
    return o;
  }

  static Map<String, Object> summary(RunSummary s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("run_id", s.runId());
    m.put("workflow", s.workflow());
    m.put("role", s.role());
    m.put("seed", s.seed() == null ? null : s.seedText());
    m.put("hash", s.canonicalHash());
    m.put("engine_hash", s.engineHash());
    m.put("output_hash", s.outputHash());
    List<Object> steps = new ArrayList<>();
    for (StepSummary st : s.steps()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("index", st.index());
      x.put("name", st.name());
      x.put("kind", st.kind());
      x.put("external", st.external());
      x.put("hash", st.canonicalHash());
      x.put("engine_hash", st.engineHash());
      x.put("rng_hash", st.rngHash());
      x.put("response_hash", st.responseHash());
      steps.add(x);
    }
    m.put("steps", steps);
    return m;
  }

  static Map<String, Object> expected(Pair p, Map<String, RunSummary> summaries) {
    Classification c = Classifier.classify(summaries.get(p.a()), summaries.get(p.b()));
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", p.name());
    v.put("note", p.note());
    v.put("a", p.a());
    v.put("b", p.b());
    v.put("match", c.match());
    v.put("category", c.category() == null ? null : c.category().name());
    v.put("first_divergent_step", step(c.firstDivergentStep()));
    List<Object> findings = new ArrayList<>();
    for (Finding f : c.findings()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("category", f.category().name());
      x.put("steps", f.steps().stream().map(GoldenVectors::step).toList());
      findings.add(x);
    }
    v.put("findings", findings);
    return v;
  }

  private static Object step(StepRef s) {
    if (s == null) {
      return null;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("index", s.index());
    m.put("name", s.name());
    return m;
  }

  /** The whole file. */
  static Map<String, Object> file() {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("format_version", GoldenFormat.VERSION);
    f.put("spec", "docs/golden-format.md");
    f.put("about", "Golden documents with the canonical bytes (UTF-8 of \"canonical\": nothing masked; \"masked\": what "
        + "the run hash covers) and every hash an implementation must reproduce, or the error code it must refuse "
        + "them with; then pairs of documents with their classification. \"config\" is the golden config section "
        + "(defaults when absent); \"source\" the file name (the role falls back to it).");
    List<Object> docs = new ArrayList<>();
    Map<String, RunSummary> summaries = new LinkedHashMap<>();
    for (Doc d : DOCS) {
      docs.add(expected(d));
      try {
        summaries.put(d.name(), Golden.parse(d.input(), source(d), config(d.config())).summary());
      } catch (GoldenParseException e) {
        // an error vector
      }
    }
    f.put("documents", docs);
    List<Object> pairs = new ArrayList<>();
    for (Pair p : PAIRS) {
      pairs.add(expected(p, summaries));
    }
    f.put("pairs", pairs);
    return f;
  }

  static String render(Map<String, Object> file) throws java.io.IOException {
    DefaultPrettyPrinter pp = new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"))
        .withArrayIndenter(new DefaultIndenter("  ", "\n"));
    return new ObjectMapper().writer(pp).writeValueAsString(file) + "\n";
  }

  /** Writes docs/golden-vectors.json (run from the golden module directory). */
  public static void main(String[] args) throws Exception {
    Files.writeString(FILE, render(file()), StandardCharsets.UTF_8);
    System.out.println("wrote " + FILE.toAbsolutePath().normalize() + " (" + DOCS.size() + " documents, "
        + PAIRS.size() + " pairs)");
  }
}
