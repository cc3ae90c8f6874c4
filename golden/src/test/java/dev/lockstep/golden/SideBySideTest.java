package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SideBySideTest {
  static final String T1 = GoldenDiffTest.T1;
  static final String T2 = GoldenDiffTest.T2;

  static GoldenDiff.Compared compare(String a, String b, SideBySide.Limits limits) throws GoldenParseException {
    return GoldenDiff.diffSideBySide(Samples.parse(a, "a.primary.golden.json"),
        Samples.parse(b, "a.shadow.golden.json"), GoldenConfig.DEFAULT, limits);
  }

  static SideBySide.Row at(SideBySide view, String path, SideBySide.Type type) {
    return view.rows().stream().filter(r -> r.path().equals(path) && r.type() == type).findFirst()
        .orElseThrow(() -> new AssertionError("no " + type + " row at " + path + " in " + view.rows()));
  }

  @Test
  void theDivergentRngValueIsARealDifferenceInItsStepAndTheFirstDivergence() throws Exception {
    GoldenDiff.Compared c = compare(Samples.golden("primary", 1, T1, "{\"pick\": 7}", "[0.12, 0.98]", "{\"eur\": 1.08}"),
        Samples.golden("shadow", 1, T2, "{\"pick\": 3}", "[0.12, 0.5]", "{\"eur\": 1.08}"),
        SideBySide.Limits.DEFAULT);
    SideBySide view = c.sideBySide();
    SideBySide.Row rng = at(view, "/steps/2/rng/1", SideBySide.Type.DIFFER);
    assertThat(rng.a()).isEqualTo("0.98");
    assertThat(rng.b()).isEqualTo("0.5");
    assertThat(rng.volatileField()).isFalse();
    assertThat(rng.kind()).isEqualTo(Difference.Kind.VALUE);
    // the first divergence is where the explanation points: the step's rng, not its output
    assertThat(view.rows().get(view.firstDivergenceRow())).isEqualTo(rng);
    assertThat(c.report().explanation()).contains("/steps/2/rng/1");
    // the step is drawn as a step, aligned with its partner, named
    SideBySide.Row step = at(view, "/steps/2", SideBySide.Type.OPEN);
    assertThat(step.step()).isEqualTo(new StepRef(2, "sample"));
    assertThat(at(view, "/steps/0", SideBySide.Type.SAME).step()).isEqualTo(new StepRef(0, "load_accounts"));
    // noise is marked, identity is not a difference
    SideBySide.Row time = at(view, "/timestamp", SideBySide.Type.DIFFER);
    assertThat(time.volatileField()).isTrue();
    assertThat(time.a()).isEqualTo("\"timestamp\": \"" + T1 + "\"");
    SideBySide.Row role = at(view, "/role", SideBySide.Type.IGNORED);
    assertThat(role.a()).isEqualTo("\"role\": \"primary\"");
    assertThat(role.b()).isEqualTo("\"role\": \"shadow\"");
    // the view and the report come from the same walk
    assertThat(c.report().toJson()).isEqualTo(GoldenDiffTest.diff(
        Samples.golden("primary", 1, T1, "{\"pick\": 7}", "[0.12, 0.98]", "{\"eur\": 1.08}"),
        Samples.golden("shadow", 1, T2, "{\"pick\": 3}", "[0.12, 0.5]", "{\"eur\": 1.08}")).toJson());
    assertBalanced(view);
  }

  @Test
  void aLargeDocumentIsDrawnAroundItsDifferenceOnly() throws Exception {
    int steps = 5000;
    String a = manySteps(steps, -1);
    String b = manySteps(steps, 3777);
    SideBySide view = compare(a, b, new SideBySide.Limits(2, 3000)).sideBySide();
    assertThat(view.truncated()).isFalse();
    assertThat(view.rows()).hasSizeLessThan(40);
    SideBySide.Row hit = view.rows().get(view.firstDivergenceRow());
    assertThat(hit.path()).isEqualTo("/steps/3777/output/value");
    assertThat(hit.type()).isEqualTo(SideBySide.Type.DIFFER);
    // every other step is either drawn (context) or counted in a gap; the gaps name their steps
    List<SideBySide.Row> inSteps = view.rows().stream()
        .filter(r -> r.depth() == 2 && r.path().startsWith("/steps")).toList();
    long drawn = inSteps.stream().filter(r -> r.type() == SideBySide.Type.SAME).count();
    long gapped = inSteps.stream().filter(r -> r.type() == SideBySide.Type.GAP).mapToLong(SideBySide.Row::count).sum();
    assertThat(drawn).isEqualTo(4);
    assertThat(drawn + gapped).isEqualTo(steps - 1);
    assertThat(inSteps.stream().filter(r -> r.type() == SideBySide.Type.GAP).map(SideBySide.Row::a))
        .containsExactly("\u22ef 3,775 steps equal or only volatile (index 0 to 3774)",
            "\u22ef 1,220 steps equal or only volatile (index 3780 to 4999)");
    assertThat(at(view, "/steps/3775", SideBySide.Type.SAME).step()).isEqualTo(new StepRef(3775, "s3775"));
    assertBalanced(view);
  }

  @Test
  void identicalDocumentsAreOneRowWithoutDivergence() throws Exception {
    SideBySide view = compare(Samples.primary(), Samples.primary(), SideBySide.Limits.DEFAULT).sideBySide();
    assertThat(view.rows()).hasSize(1);
    assertThat(view.rows().get(0).type()).isEqualTo(SideBySide.Type.SAME);
    assertThat(view.firstDivergenceRow()).isEqualTo(-1);
  }

  @Test
  void aMissingStepHasNothingOnTheOtherSide() throws Exception {
    String a = manySteps(6, -1);
    String b = a.replace("{\"index\": 4, \"name\": \"s4\", \"output\": {\"value\": 4}},", "");
    SideBySide view = compare(a, b, SideBySide.Limits.DEFAULT).sideBySide();
    SideBySide.Row missing = at(view, "/steps/4", SideBySide.Type.DIFFER);
    assertThat(missing.kind()).isEqualTo(Difference.Kind.MISSING);
    assertThat(missing.a()).isEqualTo("{\"index\":4,\"name\":\"s4\",\"output\":{\"value\":4}}");
    assertThat(missing.b()).isNull();
    assertThat(missing.step()).isEqualTo(new StepRef(4, "s4"));
    assertThat(view.firstDivergenceRow()).isEqualTo(view.rows().indexOf(missing));
  }

  @Test
  void stepsInAnotherOrderAreARealDifferenceOfTheStepsArray() throws Exception {
    String a = "{\"run_id\":\"r\",\"steps\":[{\"index\":0,\"name\":\"x\"},{\"index\":1,\"name\":\"y\"}]}";
    String b = "{\"run_id\":\"r\",\"steps\":[{\"index\":1,\"name\":\"y\"},{\"index\":0,\"name\":\"x\"}]}";
    GoldenDiff.Compared c = compare(a, b, SideBySide.Limits.DEFAULT);
    SideBySide.Row order = at(c.sideBySide(), "/steps", SideBySide.Type.NOTE);
    assertThat(order.kind()).isEqualTo(Difference.Kind.ORDER);
    assertThat(order.volatileField()).isFalse();
    assertThat(c.sideBySide().rows().get(c.sideBySide().firstDivergenceRow())).isEqualTo(order);
    assertBalanced(c.sideBySide());
  }

  @Test
  void longValuesAreCutWithTheirSizeAndBigEqualSubtreesFolded() throws Exception {
    String big = "x".repeat(5000);
    String a = "{\"run_id\":\"r\",\"s\":\"" + big + "a\",\"blob\":{\"k\":\"" + big + "\"},\"t\":1}";
    String b = "{\"run_id\":\"r\",\"s\":\"" + big + "b\",\"blob\":{\"k\":\"" + big + "\"},\"t\":1}";
    SideBySide view = compare(a, b, SideBySide.Limits.DEFAULT).sideBySide();
    SideBySide.Row s = at(view, "/s", SideBySide.Type.DIFFER);
    assertThat(s.a()).startsWith("\"s\": \"xxx").endsWith("\u2026\" (4.9 KiB)").hasSizeLessThan(450);
    assertThat(at(view, "/blob", SideBySide.Type.SAME).a()).isEqualTo("\"blob\": {\u2026 4.9 KiB}");
  }

  @Test
  void aViewThatWouldBeTooLongIsCutAndSaysSo() throws Exception {
    StringBuilder a = new StringBuilder("{\"run_id\":\"r\"");
    StringBuilder b = new StringBuilder("{\"run_id\":\"r\"");
    for (int i = 0; i < 200; i++) {
      a.append(",\"k").append(i).append("\":").append(i);
      b.append(",\"k").append(i).append("\":").append(i + 1);
    }
    SideBySide view = compare(a.append('}').toString(), b.append('}').toString(), new SideBySide.Limits(0, 50))
        .sideBySide();
    assertThat(view.truncated()).isTrue();
    // 50 rows, and the root's OPEN and CLOSE, which are never cut
    assertThat(view.rows()).hasSize(52);
    assertBalanced(view);
  }

  @Test
  void theJsonFormIsWhatTheApiCarries() throws Exception {
    SideBySide view = compare(Samples.golden("primary", 1, T1, "{\"pick\": 7}", "[0.12, 0.98]", "{\"eur\": 1.08}"),
        Samples.golden("shadow", 1, T2, "{\"pick\": 3}", "[0.12, 0.5]", "{\"eur\": 1.08}"),
        SideBySide.Limits.DEFAULT).sideBySide();
    JsonNode json = new ObjectMapper().readTree(view.toJson());
    assertThat(json.path("format").asText()).isEqualTo("lockstep.side-by-side/v1");
    assertThat(json.path("source_a").asText()).isEqualTo("a.primary.golden.json");
    assertThat(json.path("rows").size()).isEqualTo(view.rows().size());
    JsonNode first = json.path("rows").get(json.path("first_divergence_row").asInt());
    assertThat(first.path("type").asText()).isEqualTo("differ");
    assertThat(first.path("path").asText()).isEqualTo("/steps/2/rng/1");
    JsonNode step = json.path("rows").get(view.rows().indexOf(at(view, "/steps/2", SideBySide.Type.OPEN)));
    assertThat(step.path("step").path("name").asText()).isEqualTo("sample");
    JsonNode time = json.path("rows").get(view.rows().indexOf(at(view, "/timestamp", SideBySide.Type.DIFFER)));
    assertThat(time.path("volatile").asBoolean()).isTrue();
  }

  @Test
  void volatileNoiseInEveryStepIsFoldedAndNeverHidesTheRealDifference() throws Exception {
    int steps = 3000;
    String a = manySteps(steps, -1);
    String b = manySteps(steps, 2222);
    // every step of B has another started_at: 3000 volatile differences around one real one
    b = b.replace("\"output\": {\"value\"", "\"started_at\": \"later\", \"output\": {\"value\"");
    a = a.replace("\"output\": {\"value\"", "\"started_at\": \"now\", \"output\": {\"value\"");
    GoldenDiff.Compared c = compare(a, b, new SideBySide.Limits(1, 200));
    SideBySide view = c.sideBySide();
    assertThat(c.report().volatileDifferences()).isEqualTo(steps);
    assertThat(view.truncated()).isFalse();
    assertThat(view.rows()).hasSizeLessThan(30);
    assertThat(view.rows().get(view.firstDivergenceRow()).path()).isEqualTo("/steps/2222/output/value");
    // the neighbours are folded noise, dimmed; inside the divergent step the noise is shown as such
    assertThat(at(view, "/steps/2221", SideBySide.Type.NOISE).volatileField()).isTrue();
    assertThat(at(view, "/steps/2221", SideBySide.Type.NOISE).step()).isEqualTo(new StepRef(2221, "s2221"));
    SideBySide.Row startedAt = at(view, "/steps/2222/started_at", SideBySide.Type.DIFFER);
    assertThat(startedAt.volatileField()).isTrue();
    assertThat(startedAt.b()).isEqualTo("\"started_at\": \"later\"");
    assertBalanced(view);
  }

  /**
   * Every real difference the report lists is a row of the view, the view draws no difference
   * the report does not list, and only volatile ones may be folded or passed over.
   */
  @Test
  void theViewShowsExactlyTheReportsDifferences() {
    for (int i = 0; i < 300; i++) {
      long seed = 20261202L * 31 + i;
      Random r = new Random(seed);
      Map<String, Object> doc = Gen.golden(r, 1 + r.nextInt(6));
      Map<String, Object> other = mutated(doc, r);
      try {
        GoldenDocument da = Golden.parse(Gen.bytes(doc, Gen.Style.random(r)), "a", GoldenConfig.DEFAULT);
        GoldenDocument db = Golden.parse(Gen.bytes(other, Gen.Style.random(r)), "b", GoldenConfig.DEFAULT);
        GoldenDiff.Compared c = GoldenDiff.diffSideBySide(da, db, GoldenConfig.DEFAULT,
            new SideBySide.Limits(r.nextInt(4), 100_000));
        Set<String> reported = new HashSet<>();
        c.report().differences().forEach(d -> reported.add(d.kind() + " " + d.path() + " " + d.volatileField()));
        Set<String> drawn = new HashSet<>();
        for (SideBySide.Row row : c.sideBySide().rows()) {
          if (row.type() == SideBySide.Type.DIFFER || row.type() == SideBySide.Type.NOTE) {
            drawn.add(row.kind() + " " + row.path() + " " + row.volatileField());
          }
        }
        assertThat(c.report().unlistedDifferences()).isZero();
        assertThat(reported).containsAll(drawn);
        assertThat(drawn).containsAll(reported.stream().filter(d -> d.endsWith(" false")).toList());
        assertBalanced(c.sideBySide());
        if (!c.report().match()) {
          assertThat(c.sideBySide().firstDivergenceRow()).isNotNegative();
        }
      } catch (AssertionError | GoldenParseException | RuntimeException e) {
        throw new AssertionError("input seed " + seed + ": " + e.getMessage(), e);
      }
    }
  }

  /** OPEN and CLOSE pair up, a container's rows sit one level deeper, paths extend the container's. */
  static void assertBalanced(SideBySide view) {
    ArrayDeque<SideBySide.Row> open = new ArrayDeque<>();
    for (SideBySide.Row row : view.rows()) {
      SideBySide.Row parent = open.peek();
      if (row.type() == SideBySide.Type.CLOSE) {
        assertThat(parent).as("CLOSE without OPEN: " + row).isNotNull();
        assertThat(row.path()).isEqualTo(parent.path());
        assertThat(row.depth()).isEqualTo(parent.depth());
        open.pop();
        continue;
      }
      if (parent != null) {
        assertThat(row.depth()).as(row.toString()).isEqualTo(parent.depth() + 1);
        assertThat(row.path()).as(row.toString()).startsWith(parent.path());
      }
      if (row.type() == SideBySide.Type.OPEN) {
        open.push(row);
      }
    }
    assertThat(open).as("unclosed").isEmpty();
  }

  static String manySteps(int n, int changed) {
    StringBuilder sb = new StringBuilder("{\"run_id\": \"big\", \"role\": \"primary\", \"seed\": 1, \"steps\": [");
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"index\": ").append(i).append(", \"name\": \"s").append(i)
          .append("\", \"output\": {\"value\": ").append(i == changed ? -i : i).append("}}");
    }
    return sb.append("]}").toString();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> mutated(Map<String, Object> doc, Random r) {
    Map<String, Object> copy = (Map<String, Object>) deepCopy(doc);
    List<Object> steps = (List<Object>) copy.get("steps");
    int changes = 1 + r.nextInt(3);
    for (int i = 0; i < changes; i++) {
      switch (r.nextInt(5)) {
        case 0 -> copy.put("timestamp", "t" + r.nextInt());
        case 1 -> copy.put("output", Gen.value(r, 2));
        case 2 -> {
          if (!steps.isEmpty()) {
            Object s = steps.get(r.nextInt(steps.size()));
            if (s instanceof Map<?, ?> m) {
              ((Map<String, Object>) m).put(Gen.name(r), Gen.value(r, 2));
            }
          }
        }
        case 3 -> {
          if (!steps.isEmpty()) {
            steps.remove(r.nextInt(steps.size()));
          }
        }
        default -> copy.put(Gen.name(r), Gen.value(r, 3));
      }
    }
    return copy;
  }

  private static Object deepCopy(Object v) {
    if (v instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      m.forEach((k, x) -> out.put((String) k, deepCopy(x)));
      return out;
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>();
      l.forEach(x -> out.add(deepCopy(x)));
      return out;
    }
    return v;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
