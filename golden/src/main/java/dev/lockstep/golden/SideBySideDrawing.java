package dev.lockstep.golden;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Draws a {@link SideBySide} from the walk of a {@link CanonicalDiff}. Each open container keeps
 * its rows until it closes: one holding a real difference is drawn open, around its differences;
 * one whose differences are all volatile is folded into a single {@link SideBySide.Type#NOISE} row
 * and treated as an equal sibling, so noise in every step never buries the one real difference.
 * Per container it keeps the last {@code context} equal (or noise) siblings not yet drawn and how
 * many were passed over, so a row is only made for what is near a real difference. Not
 * thread-safe; one drawing per walk.
 */
final class SideBySideDrawing implements CanonicalDiff.Visitor {
  /** Equal values up to this many canonical bytes are shown as they are, longer ones folded. */
  private static final int FOLD_BYTES = 120;
  /** A differing value is shown up to this many bytes, then cut with its size. */
  private static final int DIFFER_BYTES = 400;
  /** Arrays up to this size are counted when folded (counting reads the array once). */
  private static final int COUNT_BYTES = 8 << 20;

  /** A sibling not drawn yet: equal, the role, a volatile difference, or a folded noise container. */
  private record Pending(SideBySide.Type type, Difference.Kind kind, String key, int ia, int ib, int pa, int endA,
      int pb, int endB, boolean volatileValue) {}

  private static final class Frame {
    final String key;
    final int ia;
    final int ib;
    final int pa;
    final int endA;
    final int pb;
    final int endB;
    final String path;
    final int depth;
    final boolean object;
    final boolean steps;
    final boolean volatileValue;
    /** This container as a step of the steps array, or null. */
    final StepRef own;
    /** The step this container is in (its own, or an enclosing one), or null. */
    final StepRef step;
    final List<SideBySide.Row> out = new ArrayList<>();
    final ArrayDeque<Pending> ring = new ArrayDeque<>();
    long hidden;
    StepRef hiddenFirst;
    StepRef hiddenLast;
    int trailing;
    boolean real;

    Frame(String key, int ia, int ib, int pa, int endA, int pb, int endB, String path, int depth, boolean object,
        boolean steps, boolean volatileValue, StepRef own, StepRef step) {
      this.key = key;
      this.ia = ia;
      this.ib = ib;
      this.pa = pa;
      this.endA = endA;
      this.pb = pb;
      this.endB = endB;
      this.path = path;
      this.depth = depth;
      this.object = object;
      this.steps = steps;
      this.volatileValue = volatileValue;
      this.own = own;
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
  private final ArrayDeque<Frame> frames = new ArrayDeque<>();
  private List<SideBySide.Row> rows = List.of();
  /** Rows made and not thrown away (a folded container's rows are). */
  private int made;
  private boolean truncated;
  private SideBySide.Row firstInStep;
  private SideBySide.Row firstReal;

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

  /**
   * The view; its first divergence is the row of {@code cause} (the first path the report's
   * explanation names) when drawn, else the first real row of the first divergent step, else the
   * first real row.
   */
  SideBySide finish(String sourceA, String sourceB, String cause) {
    SideBySide.Row first = firstInStep != null ? firstInStep : firstReal;
    int at = -1;
    for (int i = 0; cause != null && i < rows.size(); i++) {
      SideBySide.Row r = rows.get(i);
      if (r.path().equals(cause) && !r.volatileField()
          && (r.type() == SideBySide.Type.DIFFER || r.type() == SideBySide.Type.NOTE)) {
        at = i;
        break;
      }
    }
    for (int i = 0; at < 0 && first != null && i < rows.size(); i++) {
      if (rows.get(i) == first) {
        at = i;
        break;
      }
    }
    return new SideBySide(sourceA, sourceB, limits.context(), limits.maxRows(), truncated, at, rows);
  }

  // ---- the walk -----------------------------------------------------------------------------

  @Override
  public void same(String key, int ia, int ib, int pa, int endA, int pb, int endB, boolean volatileValue,
      boolean ignored) {
    Pending p = new Pending(ignored ? SideBySide.Type.IGNORED : SideBySide.Type.SAME, null, key, ia, ib, pa, endA,
        pb, endB, volatileValue);
    Frame f = frames.peek();
    if (f == null) {
      rows = new ArrayList<>(List.of(draw(p, null, 0)));
      return;
    }
    sibling(f, p);
  }

  @Override
  public void differ(String key, int ia, int ib, Difference.Kind kind, int pa, int endA, int pb, int endB,
      boolean volatileValue) {
    Frame f = frames.peek();
    if (f == null) {
      return; // two documents are objects: the root always opens
    }
    if (volatileValue) {
      sibling(f, new Pending(SideBySide.Type.DIFFER, kind, key, ia, ib, pa, endA, pb, endB, true));
      return;
    }
    flush(f);
    String prefix = prefix(key);
    StepRef own = stepOf(f, ia, ib);
    SideBySide.Row row = new SideBySide.Row(SideBySide.Type.DIFFER, f.depth, childPath(f, key, ia, ib),
        pa < 0 ? null : prefix + text(a, pa, endA, lenA, DIFFER_BYTES),
        pb < 0 ? null : prefix + text(b, pb, endB, lenB, DIFFER_BYTES), kind, false, own, 0);
    if (add(f, row)) {
      real(row, own != null ? own : f.step);
    }
    f.real = true;
    f.trailing = limits.context();
  }

  @Override
  public void open(String key, int ia, int ib, int pa, int endA, int pb, int endB, boolean object, boolean steps,
      boolean volatileValue) {
    Frame parent = frames.peek();
    StepRef own = parent == null ? null : stepOf(parent, ia, ib);
    frames.push(new Frame(key, ia, ib, pa, endA, pb, endB, childPath(parent, key, ia, ib),
        parent == null ? 1 : parent.depth + 1, object, steps, volatileValue, own,
        own != null ? own : parent == null ? null : parent.step));
  }

  @Override
  public void note(Difference.Kind kind, String va, String vb, boolean volatileValue) {
    Frame f = frames.peek();
    if (f == null) {
      return;
    }
    String what = kind == Difference.Kind.ARRAY_LENGTH ? "length " : "order ";
    SideBySide.Row row = new SideBySide.Row(SideBySide.Type.NOTE, f.depth, f.path, what + va, what + vb, kind,
        volatileValue, null, 0);
    if (add(f, row) && !volatileValue && firstReal == null) {
      firstReal = row;
    }
    f.real |= !volatileValue;
  }

  @Override
  public void close() {
    Frame f = frames.pop();
    Frame parent = frames.peek();
    if (parent != null && !f.real) {
      // only volatile differences inside: one folded row, an equal sibling for context
      made -= f.out.size();
      sibling(parent, new Pending(SideBySide.Type.NOISE, null, f.key, f.ia, f.ib, f.pa, f.endA, f.pb, f.endB,
          true));
      return;
    }
    long passed = f.hidden + f.ring.size();
    if (passed > 0) {
      StepRef first = f.hidden > 0 ? f.hiddenFirst : stepOf(f, f.ring.peekFirst().ia(), f.ring.peekFirst().ib());
      StepRef last = f.ring.isEmpty() ? f.hiddenLast : stepOf(f, f.ring.peekLast().ia(), f.ring.peekLast().ib());
      gap(f, passed, first, last);
    }
    String opening = prefix(f.key) + (f.object ? "{" : "[");
    String closing = f.object ? "}" : "]";
    int depth = f.depth - 1;
    SideBySide.Row open = new SideBySide.Row(SideBySide.Type.OPEN, depth, f.path, opening, opening, null,
        f.volatileValue, f.own, 0);
    SideBySide.Row close = new SideBySide.Row(SideBySide.Type.CLOSE, depth, f.path, closing, closing, null,
        false, null, 0);
    if (parent == null) {
      List<SideBySide.Row> all = new ArrayList<>(f.out.size() + 2);
      all.add(open);
      all.addAll(f.out);
      all.add(close);
      rows = all;
      return;
    }
    flush(parent);
    parent.out.add(open);
    parent.out.addAll(f.out);
    parent.out.add(close);
    made += 2;
    parent.real = true;
    parent.trailing = limits.context();
  }

  // ---- rows ---------------------------------------------------------------------------------

  /** An equal (or noise) child: drawn when it follows a difference closely, else kept or passed over. */
  private void sibling(Frame f, Pending p) {
    if (f.trailing > 0) {
      f.trailing--;
      add(f, draw(p, f, f.depth));
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

  /** Before a difference: the gap passed over, then the siblings kept for context. */
  private void flush(Frame f) {
    if (f.hidden > 0) {
      gap(f, f.hidden, f.hiddenFirst, f.hiddenLast);
      f.hidden = 0;
      f.hiddenFirst = null;
      f.hiddenLast = null;
    }
    while (!f.ring.isEmpty()) {
      add(f, draw(f.ring.removeFirst(), f, f.depth));
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
    String text = "\u22ef " + String.format(Locale.ROOT, "%,d", count) + " " + what + " equal or only volatile";
    if (f.steps && first != null) {
      text += last == null || last.index() == first.index() ? " (index " + first.index() + ")"
          : " (index " + first.index() + " to " + last.index() + ")";
    }
    add(f, new SideBySide.Row(SideBySide.Type.GAP, f.depth, f.path, text, text, null, false, null, count));
  }

  private SideBySide.Row draw(Pending p, Frame f, int depth) {
    String prefix = prefix(p.key());
    int limit = p.type() == SideBySide.Type.DIFFER ? DIFFER_BYTES : FOLD_BYTES;
    return new SideBySide.Row(p.type(), depth, childPath(f, p.key(), p.ia(), p.ib()),
        p.pa() < 0 ? null : prefix + text(a, p.pa(), p.endA(), lenA, limit),
        p.pb() < 0 ? null : prefix + text(b, p.pb(), p.endB(), lenB, limit),
        p.kind(), p.volatileValue(), f == null ? null : stepOf(f, p.ia(), p.ib()), 0);
  }

  /** Adds a row to {@code f}'s rows; false once the view is full. */
  private boolean add(Frame f, SideBySide.Row row) {
    if (made >= limits.maxRows()) {
      truncated = true;
      return false;
    }
    made++;
    f.out.add(row);
    return true;
  }

  private void real(SideBySide.Row row, StepRef step) {
    if (firstReal == null) {
      firstReal = row;
    }
    if (firstInStep == null && firstStep != null && step != null && step.index() == firstStep.index()) {
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
