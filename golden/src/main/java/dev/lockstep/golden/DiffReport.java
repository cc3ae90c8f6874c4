package dev.lockstep.golden;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The comparison of two golden documents: verdict, category, first divergent step, findings and
 * the differences, real ones listed before volatile ones, at most {@code diff.max_differences}
 * listed ({@code realDifferences}/{@code volatileDifferences} count them all). Its JSON form
 * ({@link #toJson()}) is the stable output of {@code lockstep diff -o json}:
 * <pre>
 * {"verdict":"MATCH"|"MISMATCH","category":…|null,"first_divergent_step":{"index","name"}|null,
 *  "run_id","workflow","explanation","source_a","source_b",
 *  "findings":[{"category","steps":[{"index","name"}],"explanation"}],
 *  "real_differences":N,"volatile_differences":M,
 *  "differences":[{"path","kind","a","b","volatile"}]}
 * </pre>
 * where {@code a}/{@code b} are the JSON values themselves (null for the side that has nothing).
 */
public record DiffReport(
    String runId,
    String workflow,
    boolean match,
    Category category,
    StepRef firstDivergentStep,
    String explanation,
    String sourceA,
    String sourceB,
    List<Difference> differences,
    List<Finding> findings,
    long realDifferences,
    long volatileDifferences) {

  /** Values in {@code a}/{@code b} longer than this many bytes are shown by size and hash. */
  public static final int MAX_VALUE_BYTES = CanonicalDiff.MAX_VALUE_BYTES;

  private static final JsonFactory JSON = new JsonFactory();
  /** Loaded only by {@link #fromJson}: an ObjectMapper costs start-up time the CLI need not pay. */
  private static final class Reader {
    static final ObjectMapper MAPPER = new ObjectMapper();
  }
  private static final int TABLE_ROWS = 20;

  public DiffReport {
    differences = List.copyOf(differences);
    findings = findings == null ? List.of() : List.copyOf(findings);
  }

  /** A report listing every difference it counts, without findings. */
  public DiffReport(String runId, String workflow, boolean match, Category category, StepRef firstDivergentStep,
      String explanation, String sourceA, String sourceB, List<Difference> differences) {
    this(runId, workflow, match, category, firstDivergentStep, explanation, sourceA, sourceB, differences, List.of(),
        differences.stream().filter(d -> !d.volatileField()).count(),
        differences.stream().filter(Difference::volatileField).count());
  }

  /** Differences counted but not listed (over the cap). */
  public long unlistedDifferences() {
    return realDifferences + volatileDifferences - differences.size();
  }

  public String verdict() {
    return match ? "MATCH" : "MISMATCH";
  }

  public String toJson() {
    StringWriter sw = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(sw)) {
      g.writeStartObject();
      g.writeStringField("verdict", verdict());
      if (category == null) {
        g.writeNullField("category");
      } else {
        g.writeStringField("category", category.name());
      }
      if (firstDivergentStep == null) {
        g.writeNullField("first_divergent_step");
      } else {
        g.writeFieldName("first_divergent_step");
        firstDivergentStep.write(g);
      }
      g.writeStringField("run_id", runId);
      g.writeStringField("workflow", workflow);
      g.writeStringField("explanation", explanation);
      g.writeStringField("source_a", sourceA);
      g.writeStringField("source_b", sourceB);
      g.writeArrayFieldStart("findings");
      for (Finding f : findings) {
        g.writeStartObject();
        g.writeStringField("category", f.category().name());
        g.writeArrayFieldStart("steps");
        for (StepRef s : f.steps()) {
          s.write(g);
        }
        g.writeEndArray();
        g.writeStringField("explanation", f.explanation());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeNumberField("real_differences", realDifferences);
      g.writeNumberField("volatile_differences", volatileDifferences);
      g.writeArrayFieldStart("differences");
      for (Difference d : differences) {
        g.writeStartObject();
        g.writeStringField("path", d.path());
        g.writeStringField("kind", d.kind().name());
        writeValue(g, "a", d.a());
        writeValue(g, "b", d.b());
        g.writeBooleanField("volatile", d.volatileField());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sw.toString();
  }

  private static void writeValue(JsonGenerator g, String field, String canonicalJson) throws IOException {
    g.writeFieldName(field);
    if (canonicalJson == null) {
      g.writeNull();
    } else {
      g.writeRawValue(canonicalJson);
    }
  }

  /** Reads {@link #toJson()} output back. @throws IllegalArgumentException when it is not a report. */
  public static DiffReport fromJson(String json) {
    try {
      JsonNode n = Reader.MAPPER.readTree(json);
      if (n == null || !n.isObject()) {
        throw new IllegalArgumentException("not a diff report: expected a JSON object");
      }
      String verdict = required(n, "verdict").asText();
      if (!verdict.equals("MATCH") && !verdict.equals("MISMATCH")) {
        throw new IllegalArgumentException("not a diff report: verdict " + verdict);
      }
      JsonNode cat = n.get("category");
      JsonNode step = n.get("first_divergent_step");
      List<Difference> diffs = new ArrayList<>();
      JsonNode arr = n.get("differences");
      if (arr != null && arr.isArray()) {
        for (JsonNode d : arr) {
          Difference.Kind kind = Difference.Kind.valueOf(required(d, "kind").asText());
          String a = kind == Difference.Kind.EXTRA ? null : valueText(d.get("a"));
          String b = kind == Difference.Kind.MISSING ? null : valueText(d.get("b"));
          diffs.add(new Difference(required(d, "path").asText(), kind, a, b,
              d.path("volatile").asBoolean(false)));
        }
      }
      List<Finding> findings = new ArrayList<>();
      for (JsonNode f : n.path("findings")) {
        List<StepRef> steps = new ArrayList<>();
        for (JsonNode s : f.path("steps")) {
          steps.add(new StepRef(s.path("index").asInt(), s.path("name").asText("")));
        }
        findings.add(new Finding(Category.valueOf(required(f, "category").asText()), steps,
            f.path("explanation").asText("")));
      }
      long realCount = diffs.stream().filter(d -> !d.volatileField()).count();
      long volatileCount = diffs.size() - realCount;
      return new DiffReport(
          required(n, "run_id").asText(),
          n.path("workflow").asText(""),
          verdict.equals("MATCH"),
          cat == null || cat.isNull() ? null : Category.valueOf(cat.asText()),
          step == null || step.isNull() ? null
              : new StepRef(step.path("index").asInt(), step.path("name").asText("")),
          n.path("explanation").asText(""),
          n.path("source_a").asText(""),
          n.path("source_b").asText(""),
          diffs,
          findings,
          n.path("real_differences").asLong(realCount),
          n.path("volatile_differences").asLong(volatileCount));
    } catch (IOException e) {
      throw new IllegalArgumentException("not a diff report: " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw e.getMessage() != null && e.getMessage().startsWith("not a diff report")
          ? e : new IllegalArgumentException("not a diff report: " + e.getMessage(), e);
    }
  }

  private static JsonNode required(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException("not a diff report: missing \"" + field + "\"");
    }
    return v;
  }

  private static String valueText(JsonNode v) {
    return v == null ? null : Golden.canonicalValue(v.toString());
  }

  /** The report an operator reads: category, why, first divergent step, paths with both values. */
  public String renderTable(boolean verbose) {
    StringBuilder sb = new StringBuilder();
    long volatileCount = volatileDifferences;
    long realCount = realDifferences;
    sb.append(verdict());
    if (category != null) {
      sb.append("  ").append(category.name());
    }
    sb.append("  run ").append(runId);
    if (workflow != null && !workflow.isEmpty()) {
      sb.append(" (").append(workflow).append(')');
    }
    sb.append('\n');
    sb.append("  why:         ").append(explanation).append('\n');
    for (Finding f : findings) {
      sb.append("  also:        ").append(f.category().name()).append(": ").append(f.explanation()).append('\n');
    }
    if (!match) {
      sb.append("  first step:  ").append(firstDivergentStep == null ? "none (steps agree)"
          : firstDivergentStep.index() + (firstDivergentStep.name().isEmpty() ? "" : " '" + firstDivergentStep.name() + "'"))
          .append('\n');
    }
    sb.append("  A:           ").append(sourceA).append('\n');
    sb.append("  B:           ").append(sourceB).append('\n');
    sb.append("  differences: ").append(realCount).append(" real, ").append(volatileCount)
        .append(" volatile (masked)").append('\n');

    List<Difference> rows = new ArrayList<>();
    for (Difference d : differences) {
      if (!d.volatileField()) {
        rows.add(d);
      }
    }
    for (Difference d : differences) {
      if (d.volatileField()) {
        rows.add(d);
      }
    }
    if (rows.isEmpty()) {
      return sb.toString();
    }
    int limit = verbose ? rows.size() : Math.min(rows.size(), TABLE_ROWS);
    int valueWidth = verbose ? 120 : 40;
    int pathWidth = 4;
    for (int i = 0; i < limit; i++) {
      pathWidth = Math.max(pathWidth, Math.min(60, rows.get(i).path().length() + (rows.get(i).volatileField() ? 2 : 0)));
    }
    sb.append('\n');
    row(sb, "PATH", pathWidth, "KIND", "A", "B", valueWidth);
    for (int i = 0; i < limit; i++) {
      Difference d = rows.get(i);
      String path = (d.volatileField() ? "~ " : "") + (d.path().isEmpty() ? "/" : d.path());
      row(sb, path, pathWidth, d.kind().name(), shown(d.a(), valueWidth), shown(d.b(), valueWidth), valueWidth);
    }
    if (limit < rows.size()) {
      sb.append("  ... ").append(rows.size() - limit).append(" more (use --verbose to see all)\n");
    }
    if (unlistedDifferences() > 0) {
      sb.append("  ... and ").append(unlistedDifferences()).append(" not listed (the report lists at most ")
          .append(differences.size()).append("; diff.max_differences)\n");
    }
    if (volatileCount > 0) {
      sb.append("  ~ marks a volatile field: masked, it does not make a mismatch by itself\n");
    }
    return sb.toString();
  }

  private static void row(StringBuilder sb, String path, int pathWidth, String kind, String a, String b, int valueWidth) {
    sb.append("  ").append(pad(path, pathWidth)).append("  ").append(pad(kind, 12)).append("  ")
        .append(pad(a, Math.min(valueWidth, 40))).append("  ").append(b).append('\n');
  }

  private static String shown(String value, int width) {
    if (value == null) {
      return "(absent)";
    }
    return value.length() <= width ? value : value.substring(0, width - 3) + "...";
  }

  private static String pad(String s, int width) {
    if (s.length() >= width) {
      return s;
    }
    return s + " ".repeat(width - s.length());
  }
}
