package dev.lockstep.golden;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Draws a {@link SideBySide} from the walk of a {@link CanonicalDiff}: keeps, per open container,
 * the last {@code context} equal siblings not yet drawn and how many were passed over, so a row is
 * only made for what is near a difference. Not thread-safe; one drawing per walk.
 */
final class SideBySideDrawing implements CanonicalDiff.Visitor {
  /** Equal values up to this many canonical bytes are shown as they are, longer ones folded. */
  private static final int FOLD_BYTES = 120;
  /** A differing value is shown up to this many bytes, then cut with its size. */
  private static final int DIFFER_BYTES = 400;
  /** Arrays up to this size are counted when folded (counting reads the array once). */
  private static final int COUNT_BYTES = 8 << 20;

  private record Pending(String key, int ia, int ib, int pa, int endA, int pb, int endB,
      boolean volatileValue, boolean ignored) {}

  private static final class Frame {
    final String path;
    final int depth;
    final boolean object;
    final boolean steps;
    final StepRef step;
    final ArrayDeque<Pending> ring = new ArrayDeque<>();
    long hidden;
    StepRef hiddenFirst;
    StepRef hiddenLast;
    int trailing;

    Frame(String path, int depth, boolean object, boolean steps, StepRef step) {
      this.path = path;
      this.depth = depth;
      this.object = object;
      this.steps = steps;
      this.step = step;
    }
  }

  private final byte[] a;
  private final byte[] b;
  private final int lenA;
  private final int lenB;
  private final RunSummary summaryA;
  private final RunSummary summaryB;
  private final SideBySide.Limits limits;
  private final StepRef firstStep;
  private final List<SideBySide.Row> rows = new ArrayList<>();
  private final ArrayDeque<Frame> frames = new ArrayDeque<>();
  private boolean truncated;
  private int firstInStep = -1;
  private int firstReal = -1;

  SideBySideDrawing(GoldenDocument.Canonical docA, GoldenDocument.Canonical docB, RunSummary summaryA,
      RunSummary summaryB, StepRef firstStep, SideBySide.Limits limits) {
    this.a = docA.bytes();
    this.lenA = docA.length();
    this.b = docB.bytes();
    this.lenB = docB.length();
    this.summaryA = summaryA;
    this.summaryB = summaryB;
    this.firstStep = firstStep;
    this.limits = limits;
  }

  SideBySide finish(String sourceA, String sourceB) {
    return new SideBySide(sourceA, sourceB, limits.context(), limits.maxRows(), truncated,
        firstInStep >= 0 ? firstInStep : firstReal, rows);
  }

  // ---- the walk -----------------------------------------------------------------------------

  @Override
  public void same(String key, int ia, int ib, int pa, int endA, int pb, int endB, boolean volatileValue,
      boolean ignored) {
    Pending p = new Pending(key, ia, ib, pa, endA, pb, endB, volatileValue, ignored);
    Frame f = frames.peek();
    if (f == null) {
      draw(p, null, 0);
      return;
    }
    if (f.trailing > 0) {
      f.trailing--;
      draw(p, f, f.depth);
      return;
    }
    f.ring.addLast(p);
    if (f.ring.size() > limits.context()) {
      Pending dropped = f.ring.removeFirst();
      f.hiddenLast = stepOf(f, dropped.ia(), dropped.ib());
      if (f.hidden++ == 0) {
        f.hiddenFirst = f.hiddenLast;
      }
    }
  }

  @Override
  public void differ(String key, int ia, int ib, Difference.Kind kind, int pa, int endA, int pb, int endB,
      boolean volatileValue) {
    Frame f = frames.peek();
    int depth = f == null ? 0 : f.depth;
    if (f != null) {
      flush(f);
    }
    String prefix = prefix(key);
    StepRef step = f == null ? null : stepOf(f, ia, ib);
    int row = emit(new SideBySide.Row(SideBySide.Type.DIFFER, depth, childPath(f, key, ia, ib),
        pa < 0 ? null : prefix + text(a, pa, endA, lenA, DIFFER_BYTES),
        pb < 0 ? null : prefix + text(b, pb, endB, lenB, DIFFER_BYTES),
        kind, volatileValue, f != null && f.steps ? step : null, 0));
    if (row >= 0 && !volatileValue) {
      real(row, f != null && f.steps ? step : f == null ? null : f.step);
    }
    if (f != null) {
      f.trailing = limits.context();
    }
  }

  @Override
  public void open(String key, int ia, int ib, boolean object, boolean steps, boolean volatileValue) {
    Frame parent = frames.peek();
    int depth = parent == null ? 0 : parent.depth;
    if (parent != null) {
      flush(parent);
    }
    StepRef own = parent != null && parent.steps ? stepOf(parent, ia, ib) : null;
    String line = prefix(key) + (object ? "{" : "[");
    String path = childPath(parent, key, ia, ib);
    emit(new SideBySide.Row(SideBySide.Type.OPEN, depth, path, line, line, null, volatileValue, own, 0));
    frames.push(new Frame(path, depth + 1, object, steps, own != null ? own : parent == null ? null : parent.step));
  }

  @Override
  public void note(Difference.Kind kind, String va, String vb, boolean volatileValue) {
    Frame f = frames.peek();
    if (f == null) {
      return;
    }
    String what = kind == Difference.Kind.ARRAY_LENGTH ? "length " : "order ";
    int row = emit(new SideBySide.Row(SideBySide.Type.NOTE, f.depth, f.path, what + va, what + vb, kind,
        volatileValue, null, 0));
    if (row >= 0 && !volatileValue && firstReal < 0) {
      firstReal = row;
    }
  }

  @Override
  public void close() {
    Frame f = frames.pop();
    long passed = f.hidden + f.ring.size();
    if (passed > 0) {
      StepRef first = f.hidden > 0 ? f.hiddenFirst : stepOf(f, f.ring.peekFirst().ia(), f.ring.peekFirst().ib());
      StepRef last = f.ring.isEmpty() ? null : stepOf(f, f.ring.peekLast().ia(), f.ring.peekLast().ib());
      gap(f, passed, first, last);
    }
    String line = f.object ? "}" : "]";
    emit(new SideBySide.Row(SideBySide.Type.CLOSE, f.depth - 1, f.path, line, line, null, false, null, 0));
    Frame parent = frames.peek();
    if (parent != null) {
      parent.trailing = limits.context();
    }
  }

  // ---- rows ---------------------------------------------------------------------------------

  /** Before a difference: the gap passed over, then the equal siblings kept for context. */
  private void flush(Frame f) {
    if (f.hidden > 0) {
      gap(f, f.hidden, f.hiddenFirst, f.hiddenLast);
      f.hidden = 0;
      f.hiddenFirst = null;
      f.hiddenLast = null;
    }
    while (!f.ring.isEmpty()) {
      draw(f.ring.removeFirst(), f, f.depth);
    }
  }

  private void gap(Frame f, long count, StepRef first, StepRef last) {
    String what;
    if (f.steps) {
      what = count == 1 ? "step" : "steps";
    } else if (f.object) {
      what = count == 1 ? "member" : "members";
    } else {
      what = count == 1 ? "element" : "elements";
    }
    String text = "\u22ef " + String.format(Locale.ROOT, "%,d", count) + " identical " + what;
    if (f.steps && first != null) {
      text += last == null || last.index() == first.index() ? " (index " + first.index() + ")"
          : " (index " + first.index() + " to " + last.index() + ")";
    }
    emit(new SideBySide.Row(SideBySide.Type.GAP, f.depth, f.path, text, text, null, false, null, count));
  }

  private void draw(Pending p, Frame f, int depth) {
    String prefix = prefix(p.key());
    emit(new SideBySide.Row(p.ignored() ? SideBySide.Type.IGNORED : SideBySide.Type.SAME, depth,
        childPath(f, p.key(), p.ia(), p.ib()),
        p.pa() < 0 ? null : prefix + text(a, p.pa(), p.endA(), lenA, FOLD_BYTES),
        p.pb() < 0 ? null : prefix + text(b, p.pb(), p.endB(), lenB, FOLD_BYTES),
        null, p.volatileValue(), f != null && f.steps ? stepOf(f, p.ia(), p.ib()) : null, 0));
  }

  /** Adds a row; returns its number, or -1 once the view is full. */
  private int emit(SideBySide.Row row) {
    if (truncated) {
      return -1;
    }
    if (rows.size() >= limits.maxRows()) {
      truncated = true;
      return -1;
    }
    rows.add(row);
    return rows.size() - 1;
  }

  private void real(int row, StepRef step) {
    if (firstReal < 0) {
      firstReal = row;
    }
    if (firstInStep < 0 && firstStep != null && step != null && step.index() == firstStep.index()) {
      firstInStep = row;
    }
  }

  private StepRef stepOf(Frame f, int ia, int ib) {
    if (f == null || !f.steps) {
      return null;
    }
    StepSummary s = ia >= 0 ? summaryA.steps().get(ia) : ib >= 0 ? summaryB.steps().get(ib) : null;
    return s == null ? null : new StepRef(s.index(), s.name());
  }

  private static String childPath(Frame f, String key, int ia, int ib) {
    String base = f == null ? "" : f.path;
    if (key != null) {
      return base + "/" + Pointer.escape(key);
    }
    if (f == null) {
      return "";
    }
    return base + "/" + (ia >= 0 ? ia : ib);
  }

  private static String prefix(String key) {
    return key == null ? "" : quote(key) + ": ";
  }

  /** A member name as a JSON string (the canonical escapes). */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\b' -> sb.append("\\b");
        case '\t' -> sb.append("\\t");
        case '\n' -> sb.append("\\n");
        case '\f' -> sb.append("\\f");
        case '\r' -> sb.append("\\r");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  /** The canonical text of {@code s[p, end)}, folded or cut when longer than {@code limit} bytes. */
  static String text(byte[] s, int p, int end, int len, int limit) {
    int n = end - p;
    if (n <= limit) {
      return new String(s, p, n, StandardCharsets.UTF_8);
    }
    return switch (s[p]) {
      case '{' -> "{\u2026 " + size(n) + "}";
      case '[' -> "[\u2026 " + (n <= COUNT_BYTES ? String.format(Locale.ROOT, "%,d elements, ",
          ArrayPairs.elements(s, p, len).length) : "") + size(n) + "]";
      case '"' -> cut(s, p, limit) + "\u2026\" (" + size(n) + ")";
      default -> cut(s, p, limit) + "\u2026 (" + String.format(Locale.ROOT, "%,d", n) + " characters)";
    };
  }

  private static String cut(byte[] s, int p, int limit) {
    String t = new String(s, p, limit, StandardCharsets.UTF_8);
    int end = t.length();
    while (end > 0 && t.charAt(end - 1) == '\ufffd') {
      end--;
    }
    return t.substring(0, end);
  }

  static String size(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    if (bytes < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
    return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
  }
}
