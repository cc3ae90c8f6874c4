package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class GoldenDiffTest {
  static final String T1 = "2025-12-02T10:00:00Z";
  static final String T2 = "2025-12-02T10:00:07Z";
  static final String OUT = "{\"pick\": 7}";
  static final String RNG = "[0.12, 0.98]";
  static final String RESP = "{\"eur\": 1.08}";

  static DiffReport diff(String a, String b) throws GoldenParseException {
    return GoldenDiff.diff(Samples.parse(a, "a.primary.golden.json"), Samples.parse(b, "a.shadow.golden.json"),
        GoldenConfig.DEFAULT);
  }

  static Difference at(DiffReport r, String path) {
    return r.differences().stream().filter(d -> d.path().equals(path)).findFirst()
        .orElseThrow(() -> new AssertionError("no difference at " + path + " in " + r.differences()));
  }

  @Test
  void volatileDifferencesAreMarkedAndDoNotMakeAMismatch() throws Exception {
    DiffReport r = diff(Samples.golden("primary", 1, T1, OUT, RNG, RESP),
        Samples.golden("shadow", 1, T2, OUT, RNG, RESP).replace("\"duration_ms\": 1520", "\"duration_ms\": 1999"));
    assertThat(r.match()).isTrue();
    assertThat(r.category()).isNull();
    assertThat(r.firstDivergentStep()).isNull();
    assertThat(r.differences()).extracting(Difference::path).containsExactly("/duration_ms", "/timestamp");
    assertThat(r.differences()).allMatch(Difference::volatileField);
    assertThat(at(r, "/timestamp").a()).isEqualTo("\"" + T1 + "\"");
    assertThat(r.explanation()).contains("2 volatile differences ignored");
  }

  @Test
  void roleIsIdentityNotContent() throws Exception {
    DiffReport r = diff(Samples.primary(), Samples.primary().replace("\"role\": \"primary\"", "\"role\": \"shadow\""));
    assertThat(r.match()).isTrue();
    assertThat(r.differences()).isEmpty();
  }

  @Test
  void typedDifferencesAtJsonPointerPaths() throws Exception {
    String a = "{\"run_id\":\"r\",\"v\":1,\"t\":\"1\",\"gone\":true,\"arr\":[1,2,3],\"a/b~c\":{\"x\":null},\"same\":1.0}";
    String b = "{\"run_id\":\"r\",\"v\":2,\"t\":1,\"new\":[],\"arr\":[1,2],\"a/b~c\":{\"x\":false},\"same\":1}";
    DiffReport r = diff(a, b);
    assertThat(r.match()).isFalse();
    assertThat(r.category()).isEqualTo(Category.DETERMINISM_VIOLATION);
    assertThat(at(r, "/v")).isEqualTo(new Difference("/v", Difference.Kind.VALUE, "1", "2", false));
    assertThat(at(r, "/t")).isEqualTo(new Difference("/t", Difference.Kind.TYPE, "\"1\"", "1", false));
    assertThat(at(r, "/gone")).isEqualTo(new Difference("/gone", Difference.Kind.MISSING, "true", null, false));
    assertThat(at(r, "/new")).isEqualTo(new Difference("/new", Difference.Kind.EXTRA, null, "[]", false));
    assertThat(at(r, "/arr")).isEqualTo(new Difference("/arr", Difference.Kind.ARRAY_LENGTH, "3", "2", false));
    assertThat(at(r, "/arr/2")).isEqualTo(new Difference("/arr/2", Difference.Kind.MISSING, "3", null, false));
    assertThat(at(r, "/a~1b~0c/x").kind()).isEqualTo(Difference.Kind.TYPE);
    assertThat(r.differences()).noneMatch(d -> d.path().equals("/same"));
  }

  @Test
  void unseededRngNamesTheStepAndTheRngPath() throws Exception {
    DiffReport r = diff(Samples.golden("primary", 1, T1, OUT, RNG, RESP),
        Samples.golden("shadow", 1, T2, "{\"pick\": 3}", "[0.12, 0.5]", RESP));
    assertThat(r.category()).isEqualTo(Category.UNSEEDED_RNG);
    assertThat(r.firstDivergentStep()).isEqualTo(new StepRef(2, "sample"));
    assertThat(r.explanation()).contains("step 2 'sample'").contains("/steps/2/rng/1");
    assertThat(at(r, "/steps/2/rng/1")).isEqualTo(new Difference("/steps/2/rng/1", Difference.Kind.VALUE, "0.98", "0.5", false));
    assertThat(at(r, "/timestamp").volatileField()).isTrue();
  }

  @Test
  void externalCallNamesTheResponsePath() throws Exception {
    DiffReport r = diff(Samples.golden("primary", 1, T1, OUT, RNG, RESP),
        Samples.golden("shadow", 1, T1, "{\"pick\": 3}", RNG, "{\"eur\": 1.1}"));
    assertThat(r.category()).isEqualTo(Category.EXTERNAL_CALL);
    assertThat(r.firstDivergentStep()).isEqualTo(new StepRef(1, "fetch_rates"));
    assertThat(r.explanation()).contains("/steps/1/response/eur");
  }

  @Test
  void determinismViolationNamesThePathsInTheFirstDivergentStep() throws Exception {
    DiffReport r = diff(Samples.golden("primary", 1, T1, OUT, RNG, RESP),
        Samples.golden("shadow", 1, T1, "{\"pick\": 3}", RNG, RESP));
    assertThat(r.category()).isEqualTo(Category.DETERMINISM_VIOLATION);
    assertThat(r.explanation()).contains("/steps/2/output/pick");
  }

  @Test
  void volatileLeakNamesTheVolatilePathsThatDiffer() throws Exception {
    String a = Samples.golden("primary", 1, T1, OUT, RNG, RESP)
        .replace("\"output\": {\"total\": 42}", "\"output\": {\"total\": 42}, \"hash\": \"sha256:aaa\"");
    String b = Samples.golden("shadow", 1, T2, OUT, RNG, RESP)
        .replace("\"output\": {\"total\": 42}", "\"output\": {\"total\": 42}, \"hash\": \"sha256:bbb\"");
    DiffReport r = diff(a, b);
    assertThat(r.category()).isEqualTo(Category.VOLATILE_LEAK);
    assertThat(r.match()).isFalse();
    assertThat(r.explanation()).contains("/timestamp");
    assertThat(at(r, "/hash").volatileField()).isFalse();
  }

  @Test
  void seedMismatchNamesBothSeeds() throws Exception {
    DiffReport r = diff(Samples.golden("primary", 1234567, T1, OUT, RNG, RESP),
        Samples.golden("shadow", 7654321, T1, OUT, RNG, RESP));
    assertThat(r.category()).isEqualTo(Category.SEED_MISMATCH);
    assertThat(r.explanation()).contains("1234567").contains("7654321");
    assertThat(at(r, "/seed").kind()).isEqualTo(Difference.Kind.VALUE);
  }

  @Test
  void missingStepIsTheFirstDivergentStep() throws Exception {
    String a = Samples.primary();
    String b = a.replace(",\n    {\"index\": 2, \"name\": \"sample\", \"kind\": \"compute\", \"rng\": [0.12, 0.98], \"output\": {\"pick\": 7}}", "");
    DiffReport r = diff(a, b);
    assertThat(r.firstDivergentStep()).isEqualTo(new StepRef(2, "sample"));
    assertThat(at(r, "/steps/2").kind()).isEqualTo(Difference.Kind.MISSING);
    // steps are paired by index, not position: no length difference, only the missing step
    assertThat(r.differences()).extracting(Difference::path).doesNotContain("/steps");
  }

  @Test
  void verdictAgreesWithTheClassifier() throws Exception {
    List<String[]> pairs = List.of(
        new String[] {Samples.primary(), Samples.golden("shadow", 1234567, T2, OUT, RNG, RESP)},
        new String[] {Samples.primary(), Samples.golden("shadow", 1234567, T2, OUT, "[1]", RESP)},
        new String[] {Samples.primary(), Samples.golden("shadow", 1234567, T2, OUT, RNG, "{}")},
        new String[] {Samples.primary(), Samples.golden("shadow", 1234567, T2, "[]", RNG, RESP)},
        new String[] {Samples.primary(), Samples.golden("shadow", 1, T2, OUT, RNG, RESP)});
    for (String[] p : pairs) {
      GoldenDocument a = Samples.parse(p[0]);
      GoldenDocument b = Samples.parse(p[1]);
      DiffReport r = GoldenDiff.diff(a, b, GoldenConfig.DEFAULT);
      Classification c = Classifier.classify(a.summary(), b.summary());
      assertThat(r.match()).isEqualTo(c.match());
      assertThat(r.category()).isEqualTo(c.category());
      assertThat(r.firstDivergentStep()).isEqualTo(c.firstDivergentStep());
      assertThat(r.match()).isEqualTo(r.differences().stream().allMatch(Difference::volatileField));
    }
  }

  @Test
  void differentRunsAreRefusedNamingBothIds() throws Exception {
    GoldenDocument a = Samples.parse("{\"run_id\":\"run-1\"}", "one.json");
    GoldenDocument b = Samples.parse("{\"run_id\":\"run-2\"}", "two.json");
    assertThatThrownBy(() -> GoldenDiff.diff(a, b, GoldenConfig.DEFAULT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("run-1").hasMessageContaining("run-2")
        .hasMessageContaining("one.json").hasMessageContaining("two.json");
  }

  @Test
  void jsonFormHasTheStableFieldsAndRoundTrips() throws Exception {
    DiffReport r = diff(Samples.golden("primary", 1, T1, OUT, RNG, RESP),
        Samples.golden("shadow", 1, T2, "{\"pick\": null}", "[0.12, 0.5]", RESP));
    String json = r.toJson();
    JsonNode n = new ObjectMapper().readTree(json);
    assertThat(n.get("verdict").asText()).isEqualTo("MISMATCH");
    assertThat(n.get("category").asText()).isEqualTo("UNSEEDED_RNG");
    assertThat(n.get("first_divergent_step").get("index").asInt()).isEqualTo(2);
    assertThat(n.get("first_divergent_step").get("name").asText()).isEqualTo("sample");
    assertThat(n.get("run_id").asText()).isEqualTo("billing-7f3a-cycle-0042");
    assertThat(n.get("workflow").asText()).isEqualTo("billing.reconcile");
    assertThat(n.get("source_a").asText()).isEqualTo("a.primary.golden.json");
    JsonNode d = n.get("differences").get(0);
    assertThat(d.fieldNames()).toIterable().containsExactly("path", "kind", "a", "b", "volatile");
    assertThat(DiffReport.fromJson(json)).isEqualTo(r);
    assertThat(DiffReport.fromJson(json).toJson()).isEqualTo(json);
  }

  @Test
  void matchJsonHasNullCategoryAndStep() throws Exception {
    DiffReport r = diff(Samples.primary(), Samples.primary());
    JsonNode n = new ObjectMapper().readTree(r.toJson());
    assertThat(n.get("verdict").asText()).isEqualTo("MATCH");
    assertThat(n.get("category").isNull()).isTrue();
    assertThat(n.get("first_divergent_step").isNull()).isTrue();
    assertThat(DiffReport.fromJson(r.toJson())).isEqualTo(r);
  }

  @Test
  void fromJsonRefusesSomethingElse() {
    assertThatThrownBy(() -> DiffReport.fromJson("[1]")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DiffReport.fromJson("{\"verdict\":\"MAYBE\"}")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DiffReport.fromJson("{")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void tableShowsCategoryWhyStepAndBothValues() throws Exception {
    DiffReport r = diff(Samples.golden("primary", 1, T1, OUT, RNG, RESP),
        Samples.golden("shadow", 1, T2, "{\"pick\": 3}", "[0.12, 0.5]", RESP));
    String table = r.renderTable(false);
    assertThat(table).contains("MISMATCH  UNSEEDED_RNG  run billing-7f3a-cycle-0042 (billing.reconcile)");
    assertThat(table).contains("why:").contains("first step:  2 'sample'");
    assertThat(table).containsPattern("/steps/2/rng/1\\s+VALUE\\s+0\\.98\\s+0\\.5");
    assertThat(table).containsPattern("~ /timestamp\\s+VALUE\\s+\"2025-12-02T10:00:00Z\"\\s+\"2025-12-02T10:00:07Z\"");
    assertThat(table.indexOf("/steps/2/rng/1")).isLessThan(table.indexOf("~ /timestamp"));
  }

  @Test
  void tableIsShortUnlessVerbose() throws Exception {
    StringBuilder a = new StringBuilder("{\"run_id\":\"r\"");
    StringBuilder b = new StringBuilder("{\"run_id\":\"r\"");
    for (int i = 0; i < 50; i++) {
      a.append(",\"k").append(i).append("\":").append(i);
      b.append(",\"k").append(i).append("\":").append(i + 1);
    }
    DiffReport r = diff(a.append('}').toString(), b.append('}').toString());
    assertThat(r.renderTable(false)).contains("30 more (use --verbose to see all)");
    assertThat(r.renderTable(true)).doesNotContain("more (use --verbose").contains("/k49");
  }

  // ---- v2: pairing, caps, counts ---------------------------------------------------------------

  static DiffReport diff(String a, String b, GoldenConfig config) throws GoldenParseException {
    return GoldenDiff.diff(Golden.parse(a.getBytes(java.nio.charset.StandardCharsets.UTF_8), "a.primary.golden.json", config),
        Golden.parse(b.getBytes(java.nio.charset.StandardCharsets.UTF_8), "a.shadow.golden.json", config), config);
  }

  static GoldenConfig withDiff(java.util.Map<String, String> arrayKeys, int max) {
    return new GoldenConfig(GoldenConfig.Limits.DEFAULT, GoldenConfig.Mapping.DEFAULT, GoldenConfig.VolatileMask.DEFAULT,
        new GoldenConfig.DiffOptions(arrayKeys, max));
  }

  @Test
  void anInsertedStepIsOneExtraStepNotAShiftOfEveryLaterOne() throws Exception {
    String a = Samples.primary();
    String b = a.replace("{\"index\": 1,", "{\"index\": 9, \"name\": \"audit\", \"output\": 1},\n    {\"index\": 1,");
    DiffReport r = diff(a, b);
    assertThat(r.firstDivergentStep()).isEqualTo(new StepRef(9, "audit"));
    // the paired steps keep their relative order: one EXTRA step, nothing moved, no length difference
    assertThat(r.differences()).filteredOn(d -> !d.volatileField()).extracting(Difference::path, Difference::kind)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("/steps/1", Difference.Kind.EXTRA));
    assertThat(at(r, "/steps/1").b()).contains("\"audit\"");
  }

  @Test
  void arraysNamedInTheConfigArePairedByTheirKeyMember() throws Exception {
    String a = "{\"run_id\":\"r\",\"accounts\":[{\"id\":\"a\",\"v\":1},{\"id\":\"b\",\"v\":2},{\"id\":\"c\",\"v\":3}]}";
    String b = "{\"run_id\":\"r\",\"accounts\":[{\"id\":\"b\",\"v\":2},{\"id\":\"c\",\"v\":4},{\"id\":\"d\",\"v\":5}]}";
    DiffReport keyed = diff(a, b, withDiff(java.util.Map.of("/accounts", "id"), 1000));
    assertThat(keyed.differences()).extracting(Difference::path, Difference::kind).containsExactly(
        org.assertj.core.groups.Tuple.tuple("/accounts/0", Difference.Kind.MISSING),
        org.assertj.core.groups.Tuple.tuple("/accounts/2/v", Difference.Kind.VALUE),
        org.assertj.core.groups.Tuple.tuple("/accounts/2", Difference.Kind.EXTRA));
    assertThat(at(keyed, "/accounts/2/v").a()).isEqualTo("3");
    assertThat(at(keyed, "/accounts/2/v").b()).isEqualTo("4");
    // by position every element differs
    DiffReport positional = diff(a, b, GoldenConfig.DEFAULT);
    assertThat(positional.realDifferences()).isEqualTo(6);
  }

  @Test
  void keyedArraysReportAChangedOrderAndFallBackToPositionsWithoutUniqueKeys() throws Exception {
    GoldenConfig config = withDiff(java.util.Map.of("/**/items", "id"), 1000);
    DiffReport moved = diff("{\"run_id\":\"r\",\"x\":{\"items\":[{\"id\":1},{\"id\":2}]}}",
        "{\"run_id\":\"r\",\"x\":{\"items\":[{\"id\":2},{\"id\":1}]}}", config);
    assertThat(moved.match()).isFalse();
    assertThat(moved.differences()).containsExactly(
        new Difference("/x/items", Difference.Kind.ORDER, "[0,1]", "[1,0]", false));
    DiffReport duplicated = diff("{\"run_id\":\"r\",\"x\":{\"items\":[{\"id\":1},{\"id\":1,\"v\":2}]}}",
        "{\"run_id\":\"r\",\"x\":{\"items\":[{\"id\":1},{\"id\":1,\"v\":3}]}}", config);
    assertThat(duplicated.differences()).extracting(Difference::path).containsExactly("/x/items/1/v");
  }

  @Test
  void reportsListAtMostTheCapRealOnesFirstAndCountTheRest() throws Exception {
    StringBuilder a = new StringBuilder("{\"run_id\":\"r\",\"steps\":[");
    StringBuilder b = new StringBuilder("{\"run_id\":\"r\",\"steps\":[");
    for (int i = 0; i < 40; i++) {
      a.append(i == 0 ? "" : ",").append("{\"index\":").append(i).append(",\"started_at\":").append(i)
          .append(",\"v\":").append(i).append('}');
      b.append(i == 0 ? "" : ",").append("{\"index\":").append(i).append(",\"started_at\":").append(i + 1)
          .append(",\"v\":").append(i < 30 ? i : -i).append('}');
    }
    DiffReport r = diff(a.append("]}").toString(), b.append("]}").toString(), withDiff(java.util.Map.of(), 25));
    assertThat(r.realDifferences()).isEqualTo(10);
    assertThat(r.volatileDifferences()).isEqualTo(40);
    assertThat(r.differences()).hasSize(25);
    assertThat(r.differences().subList(0, 10)).noneMatch(Difference::volatileField);
    assertThat(r.differences().subList(10, 25)).allMatch(Difference::volatileField);
    assertThat(r.unlistedDifferences()).isEqualTo(25);
    assertThat(r.renderTable(true)).contains("10 real, 40 volatile").contains("25 not listed");
    DiffReport back = DiffReport.fromJson(r.toJson());
    assertThat(back.realDifferences()).isEqualTo(10);
    assertThat(back.volatileDifferences()).isEqualTo(40);
  }

  @Test
  void longValuesAreShownBySizeAndHash() throws Exception {
    String big = "x".repeat(10_000);
    DiffReport r = diff("{\"run_id\":\"r\",\"blob\":\"" + big + "\"}", "{\"run_id\":\"r\",\"blob\":\"" + big + "y\"}");
    Difference d = at(r, "/blob");
    assertThat(d.a()).startsWith("\"[string of 10002 canonical bytes, sha256:").endsWith("]\"");
    assertThat(d.b()).contains("10003 canonical bytes").isNotEqualTo(d.a());
    assertThat(DiffReport.fromJson(r.toJson()).differences()).contains(d);
  }

  @Test
  void findingsTravelWithTheReport() throws Exception {
    String a = ClassifierTest.fiveSteps("primary", "sha256:t1", "{\"eur\": 1}", "");
    String b = ClassifierTest.fiveSteps("shadow", "sha256:t2", "{\"eur\": 2}", "");
    DiffReport r = diff(a, b);
    assertThat(r.category()).isEqualTo(Category.EXTERNAL_CALL);
    assertThat(r.findings()).extracting(Finding::category).containsExactly(Category.VOLATILE_LEAK);
    assertThat(r.explanation()).contains("/steps/3/response/eur");
    assertThat(r.renderTable(false)).contains("also:        VOLATILE_LEAK");
    assertThat(DiffReport.fromJson(r.toJson()).findings()).isEqualTo(r.findings());
  }

  @Test
  void bigIntegersAndWholeDoublesCompareByExactValue() throws Exception {
    DiffReport r = diff("{\"run_id\":\"r\",\"a\":1234567890123456789,\"b\":100,\"c\":12345678901234567168}",
        "{\"run_id\":\"r\",\"a\":1234567890123456790,\"b\":1e2,\"c\":1.2345678901234567e19}");
    assertThat(r.match()).isFalse();
    assertThat(r.differences()).containsExactly(
        new Difference("/a", Difference.Kind.VALUE, "1234567890123456789", "1234567890123456790", false));
  }
}
