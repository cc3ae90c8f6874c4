package dev.lockstep.golden;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Two golden documents side by side, as a person reads them: the walk of {@link GoldenDiff} drawn
 * as aligned rows, one per member or element, each row showing the same path on both sides (steps
 * paired by index, keyed arrays by key, exactly as the diff pairs them). Equal subtrees are folded
 * to one line, and so are subtrees whose only differences are volatile ({@link Type#NOISE}, dimmed
 * as noise); only the neighbourhood of each real difference is shown ({@code context} siblings on
 * either side, volatile differences among them; longer runs become one {@link Type#GAP} row), so a
 * 64 MiB pair with three differences is a few dozen rows however much volatile noise it holds.
 * Invariant: rows come in the walk's order, every {@link Type#OPEN} row has its
 * {@link Type#CLOSE}, and every real difference the walk finds is a row unless {@code truncated}
 * (the view holds about {@code max_rows} rows).
 *
 * <p>JSON form ({@link #toJson()}), what the Operator API's Diff returns as
 * {@code side_by_side_json}:
 * <pre>
 * {"format":"lockstep.side-by-side/v1","source_a","source_b","context":3,"max_rows":3000,
 *  "truncated":false,"first_divergence_row":N|-1,
 *  "rows":[{"type":"open|close|same|ignored|noise|differ|gap|note","depth":0,"path":"/steps/2",
 *           "a":"…"|null,"b":"…"|null,
 *           "kind":"VALUE|TYPE|MISSING|EXTRA|ARRAY_LENGTH|ORDER" (differ, note),
 *           "volatile":true (only when true),
 *           "step":{"index":2,"name":"sample"} (rows that are a step of the steps array),
 *           "count":N (gap)}]}
 * </pre>
 * {@code a}/{@code b} are the text of each side's line without indentation ({@code depth} gives
 * it): {@code "name": value} for members, the value alone for elements, {@code "name": {} or
 * {@code [} on OPEN rows; folded values are their canonical JSON when short, else a summary
 * ({@code {… 3.4 kB}}); long values are cut with their size. {@code first_divergence_row} is
 * where a reader should look first: the row of the first difference the report's explanation
 * names (in the first divergent step; its rng values for unseeded randomness, its response for an
 * external call), else the first real (not volatile) difference in that step, else the first real
 * difference, or -1.
 */
public record SideBySide(
    String sourceA,
    String sourceB,
    int context,
    int maxRows,
    boolean truncated,
    int firstDivergenceRow,
    List<Row> rows) {

  public static final String FORMAT = "lockstep.side-by-side/v1";

  /** How much to draw: equal siblings shown around a difference, and rows at most. */
  public record Limits(int context, int maxRows) {
    public static final Limits DEFAULT = new Limits(3, 3000);

    public Limits {
      if (context < 0 || context > 100) {
        throw new IllegalArgumentException("side-by-side context must be between 0 and 100, got " + context);
      }
      if (maxRows < 10 || maxRows > 100_000) {
        throw new IllegalArgumentException("side-by-side max rows must be between 10 and 100000, got " + maxRows);
      }
    }
  }

  public enum Type {
    /** A container that differs: its children follow, then its CLOSE. */
    OPEN,
    CLOSE,
    /** Equal on both sides (folded when it is a container). */
    SAME,
    /** The role: identity, never compared. */
    IGNORED,
    /** A container equal but for volatile fields, folded: noise. */
    NOISE,
    /** A difference ({@code kind}); {@code volatileField} when it is masked noise. */
    DIFFER,
    /** {@code count} siblings not drawn: equal, or differing only in volatile fields. */
    GAP,
    /** About the enclosing array as a whole: ARRAY_LENGTH or ORDER. */
    NOTE
  }

  /** One line of the view; {@code a}/{@code b} null where that side has nothing. */
  public record Row(Type type, int depth, String path, String a, String b, Difference.Kind kind,
      boolean volatileField, StepRef step, long count) {}

  public SideBySide {
    rows = List.copyOf(rows);
  }

  private static final JsonFactory JSON = new JsonFactory();

  public String toJson() {
    StringWriter sw = new StringWriter(64 + rows.size() * 80);
    try (JsonGenerator g = JSON.createGenerator(sw)) {
      g.writeStartObject();
      g.writeStringField("format", FORMAT);
      g.writeStringField("source_a", sourceA);
      g.writeStringField("source_b", sourceB);
      g.writeNumberField("context", context);
      g.writeNumberField("max_rows", maxRows);
      g.writeBooleanField("truncated", truncated);
      g.writeNumberField("first_divergence_row", firstDivergenceRow);
      g.writeArrayFieldStart("rows");
      for (Row r : rows) {
        g.writeStartObject();
        g.writeStringField("type", r.type().name().toLowerCase(java.util.Locale.ROOT));
        g.writeNumberField("depth", r.depth());
        g.writeStringField("path", r.path());
        g.writeStringField("a", r.a());
        g.writeStringField("b", r.b());
        if (r.kind() != null) {
          g.writeStringField("kind", r.kind().name());
        }
        if (r.volatileField()) {
          g.writeBooleanField("volatile", true);
        }
        if (r.step() != null) {
          g.writeFieldName("step");
          r.step().write(g);
        }
        if (r.type() == Type.GAP) {
          g.writeNumberField("count", r.count());
        }
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sw.toString();
  }
}
