package dev.lockstep.golden;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The differences between two documents in canonical form (nothing masked), found by walking both
 * at once without recursion. Canonical form makes equal values equal bytes, so a subtree that
 * agrees is passed over with one comparison; members are merged by name (they are sorted); the
 * steps array is paired by step index, arrays named in {@code diff.array_keys} by their key
 * member, other arrays by position. The role is skipped; volatile paths are marked. Lists at most
 * {@code maxDifferences} of each kind (real, volatile) and counts them all. A {@link Visitor}, when
 * given, sees every child the walk pairs, equal or not, in the walk's order (what
 * {@link SideBySide} is drawn from). Not thread-safe.
 */
final class CanonicalDiff {
  /**
   * Sees the walk: each container that differs is opened, its children follow in pairing order
   * (equal ones included), then it is closed. A child is named by its member name ({@code key},
   * null for array elements) and its positions in A's and B's arrays ({@code ia}/{@code ib}, -1
   * for members and for the side without the element). Offsets are into the canonical bytes
   * ({@code -1} for a side that has nothing).
   */
  interface Visitor {
    /** A child equal on both sides, or {@code ignored} (the role: identity, never content). */
    void same(String key, int ia, int ib, int pa, int endA, int pb, int endB, boolean volatileValue,
        boolean ignored);

    /** A child that differs and is not walked into: VALUE, TYPE, MISSING or EXTRA. */
    void differ(String key, int ia, int ib, Difference.Kind kind, int pa, int endA, int pb, int endB,
        boolean volatileValue);

    /** A child container (same type both sides) that differs: its children follow. */
    void open(String key, int ia, int ib, int pa, int endA, int pb, int endB, boolean object, boolean steps,
        boolean volatileValue);

    /** Something about the open array as a whole: ARRAY_LENGTH or ORDER, with both sides' text. */
    void note(Difference.Kind kind, String a, String b, boolean volatileValue);

    /** The innermost open container ends. */
    void close();
  }

  /** Values longer than this many canonical bytes are shown by size and hash. */
  static final int MAX_VALUE_BYTES = 4096;

  private static final byte OBJECT = 0;
  private static final byte ARRAY = 1;

  private final byte[] a;
  private final int lenA;
  private final byte[] b;
  private final int lenB;
  private final Slots slots;
  private final PathPatterns patterns;
  private final int words;
  private final RunSummary summaryA;
  private final RunSummary summaryB;
  private final byte[][] arrayKeys;
  private final int max;

  final List<Difference> real = new ArrayList<>();
  final List<Difference> volatiles = new ArrayList<>();
  long realCount;
  long volatileCount;

  // path: one segment per level, a member name (in A or B) or an array index
  private byte[][] segSide = new byte[16][];
  private int[] segStart = new int[16];
  private int[] segEnd = new int[16];
  private int[] segIndex = new int[16];
  private int pathLength;

  // open containers
  private int depth;
  private byte[] kind = new byte[16];
  private int[] cursorA = new int[16];
  private int[] cursorB = new int[16];
  private boolean[] vol = new boolean[16];
  private int[] pathAt = new int[16];
  private int[][] pairsA = new int[16][];
  private int[][] pairsB = new int[16][];
  private int[][] positionsA = new int[16][];
  private int[][] positionsB = new int[16][];
  private int[] nextPair = new int[16];
  private long[] states;
  private Visitor visitor;
  // the child being compared, for the visitor
  private String childKey;
  private int childA = -1;
  private int childB = -1;

  CanonicalDiff(GoldenDocument.Canonical docA, GoldenDocument.Canonical docB, GoldenConfig config,
      RunSummary summaryA, RunSummary summaryB) {
    this(docA, docB, config, summaryA, summaryB, LAYOUT_BYTES);
  }

  /** With containers of at least {@code layoutBytes} looked up (tests compare thresholds). */
  CanonicalDiff(GoldenDocument.Canonical docA, GoldenDocument.Canonical docB, GoldenConfig config,
      RunSummary summaryA, RunSummary summaryB, int layoutBytes) {
    this.layoutBytes = layoutBytes;
    this.a = docA.bytes();
    this.lenA = docA.length();
    this.b = docB.bytes();
    this.lenB = docB.length();
    this.slots = Slots.forDiff(config);
    this.patterns = slots.patterns;
    this.words = patterns.words();
    this.summaryA = summaryA;
    this.summaryB = summaryB;
    this.max = config.diff().maxDifferences();
    List<String> names = new ArrayList<>(config.diff().arrayKeys().values());
    this.arrayKeys = new byte[names.size()][];
    for (int i = 0; i < names.size(); i++) {
      arrayKeys[i] = CanonicalString.content(names.get(i));
    }
    this.states = new long[16 * words];
  }

  /** Reports the walk to {@code v} as well (set before {@link #run()}). */
  CanonicalDiff visit(Visitor v) {
    this.visitor = v;
    return this;
  }

  CanonicalDiff run() {
    patterns.root(states, words);
    compare(0, lenA, 0, lenB, 1, false);
    while (depth > 0) {
      if (kind[depth] == OBJECT) {
        objectStep(depth);
      } else {
        arrayStep(depth);
      }
    }
    return this;
  }

  /** The differences listed: real ones first, then volatile ones, {@code maxDifferences} at most. */
  List<Difference> listed() {
    List<Difference> out = new ArrayList<>(real);
    for (Difference d : volatiles) {
      if (out.size() >= max) {
        break;
      }
      out.add(d);
    }
    return out;
  }

  // ---- values -------------------------------------------------------------------------------

  /**
   * Compares A's value {@code [pa, endA)} with B's {@code [pb, endB)}, whose path state is at
   * {@code slot} (a frame number). Returns whether it opened a container to walk.
   */
  private boolean compare(int pa, int endA, int pb, int endB, int slot, boolean volatileValue) {
    if (endA - pa == endB - pb && Arrays.equals(a, pa, endA, b, pb, endB)) {
      if (visitor != null) {
        visitor.same(childKey, childA, childB, pa, endA, pb, endB, volatileValue, false);
      }
      return false;
    }
    byte ta = type(a[pa]);
    byte tb = type(b[pb]);
    if (ta != tb) {
      add(Difference.Kind.TYPE, pa, endA, pb, endB, volatileValue);
      return false;
    }
    if (ta == '{') {
      int d = push(slot, OBJECT, volatileValue);
      cursorA[d] = pa + 1;
      cursorB[d] = pb + 1;
      if (visitor != null) {
        visitor.open(childKey, childA, childB, pa, endA, pb, endB, true, false, volatileValue);
      }
      return true;
    }
    if (ta == '[') {
      int d = push(slot, ARRAY, volatileValue);
      pairArrays(d, pa, endA, pb, endB);
      return true;
    }
    add(Difference.Kind.VALUE, pa, endA, pb, endB, volatileValue);
    return false;
  }

  private static byte type(byte c) {
    return switch (c) {
      case '{', '[', '"', 'n' -> c;
      case 't', 'f' -> (byte) 't';
      default -> (byte) '0';
    };
  }

  private int push(int slot, byte k, boolean volatileValue) {
    int d = slot;
    depth = d;
    kind[d] = k;
    vol[d] = volatileValue;
    pathAt[d] = pathLength;
    return d;
  }

  private void pop(int d) {
    if (visitor != null) {
      visitor.close();
    }
    depth = d - 1;
    pathLength = pathAt[d] - (d > 1 ? 1 : 0);
    pairsA[d] = null;
    pairsB[d] = null;
    positionsA[d] = null;
    positionsB[d] = null;
  }

  // ---- objects: members merged by name ------------------------------------------------------

  private void objectStep(int d) {
    int pa = cursorA[d];
    int pb = cursorB[d];
    boolean doneA = a[pa] == '}';
    boolean doneB = b[pb] == '}';
    if (doneA && doneB) {
      pop(d);
      return;
    }
    int keyEndA = doneA ? -1 : JsonBytes.stringEnd(a, pa, lenA);
    int keyEndB = doneB ? -1 : JsonBytes.stringEnd(b, pb, lenB);
    boolean escA = keyEndA < 0 && !doneA;
    boolean escB = keyEndB < 0 && !doneB;
    keyEndA = escA ? ~keyEndA : keyEndA;
    keyEndB = escB ? ~keyEndB : keyEndB;
    int cmp = doneA ? 1 : doneB ? -1
        : CanonicalString.compareKeys(a, pa + 1, keyEndA - 1, escA, b, pb + 1, keyEndB - 1, escB);
    int child = d + 1;
    ensure(child + 1);
    if (cmp <= 0) {
      int va = keyEndA + 1;
      int endA = endA(va);
      cursorA[d] = endA + (a[endA] == ',' ? 1 : 0);
      long accepted = member(d, a, pa + 1, keyEndA - 1);
      if ((accepted & Slots.bit(Slots.IDENTITY)) != 0) {
        int vbIdentity = -1;
        int endBIdentity = -1;
        if (cmp == 0) {
          vbIdentity = keyEndB + 1;
          endBIdentity = endB(vbIdentity);
          cursorB[d] = endBIdentity + (b[endBIdentity] == ',' ? 1 : 0);
        }
        if (visitor != null) {
          visitor.same(JsonBytes.decode(a, pa + 1, keyEndA - 1), -1, -1, va, endA, vbIdentity,
              endBIdentity, false, true);
        }
        return;
      }
      boolean v = vol[d] || slots.names.contains(a, pa + 1, keyEndA - 1 - (pa + 1))
          || (accepted & Slots.bit(Slots.VOLATILE)) != 0;
      pushSegment(a, pa + 1, keyEndA - 1, -1);
      if (visitor != null) {
        child(JsonBytes.decode(a, pa + 1, keyEndA - 1), -1, -1);
      }
      if (cmp < 0) {
        add(Difference.Kind.MISSING, va, endA, -1, -1, v);
        pathLength--;
        return;
      }
      int vb = keyEndB + 1;
      int endB = endB(vb);
      cursorB[d] = endB + (b[endB] == ',' ? 1 : 0);
      if (!compare(va, endA, vb, endB, child, v)) {
        pathLength--;
      }
      return;
    }
    int vb = keyEndB + 1;
    int endB = endB(vb);
    cursorB[d] = endB + (b[endB] == ',' ? 1 : 0);
    long accepted = member(d, b, pb + 1, keyEndB - 1);
    if ((accepted & Slots.bit(Slots.IDENTITY)) != 0) {
      if (visitor != null) {
        visitor.same(JsonBytes.decode(b, pb + 1, keyEndB - 1), -1, -1, -1, -1, vb, endB, false, true);
      }
      return;
    }
    boolean v = vol[d] || slots.names.contains(b, pb + 1, keyEndB - 1 - (pb + 1))
        || (accepted & Slots.bit(Slots.VOLATILE)) != 0;
    pushSegment(b, pb + 1, keyEndB - 1, -1);
    if (visitor != null) {
      child(JsonBytes.decode(b, pb + 1, keyEndB - 1), -1, -1);
    }
    add(Difference.Kind.EXTRA, -1, -1, vb, endB, v);
    pathLength--;
  }

  /** Computes the state of a member of frame {@code d} into slot {@code d + 1}; returns its accepted slots. */
  private long member(int d, byte[] side, int nameStart, int nameEnd) {
    patterns.member(states, d * words, side, nameStart, nameEnd - nameStart, states, (d + 1) * words);
    return patterns.accepted(states, (d + 1) * words);
  }

  // ---- arrays: elements paired by step index, by key or by position -------------------------

  private void pairArrays(int d, int pa, int endA, int pb, int endB) {
    int[] ea = ArrayPairs.elements(a, pa, lenA, layoutA());
    int[] eb = ArrayPairs.elements(b, pb, lenB, layoutB());
    long accepted = patterns.accepted(states, d * words);
    ArrayPairs pairs = null;
    if ((accepted & Slots.bit(Slots.STEPS)) != 0
        && summaryA.steps().size() == ea.length && summaryB.steps().size() == eb.length) {
      pairs = ArrayPairs.bySteps(StepPairs.of(summaryA.steps(), summaryB.steps()));
    }
    if (visitor != null) {
      visitor.open(childKey, childA, childB, pa, endA, pb, endB, false, pairs != null, vol[d]);
    }
    long keyed = accepted >>> Slots.ARRAY_KEY;
    if (pairs == null && keyed != 0) {
      pairs = ArrayPairs.byKey(a, lenA, layoutA(), ea, b, lenB, layoutB(), eb,
          arrayKeys[Long.numberOfTrailingZeros(keyed)]);
    }
    if (pairs == null) {
      pairs = ArrayPairs.byPosition(ea.length, eb.length);
      if (ea.length != eb.length) {
        add(Difference.Kind.ARRAY_LENGTH, Integer.toString(ea.length), Integer.toString(eb.length), vol[d]);
      }
    }
    if (pairs.movedA() != null) {
      add(Difference.Kind.ORDER, capped(Arrays.toString(pairs.movedA()).replace(" ", "")),
          capped(Arrays.toString(pairs.movedB()).replace(" ", "")), vol[d]);
    }
    positionsA[d] = ea;
    positionsB[d] = eb;
    pairsA[d] = pairs.a();
    pairsB[d] = pairs.b();
    nextPair[d] = 0;
  }

  private void arrayStep(int d) {
    int i = nextPair[d]++;
    int[] pa = pairsA[d];
    if (i == pa.length) {
      pop(d);
      return;
    }
    int ia = pa[i];
    int ib = pairsB[d][i];
    int child = d + 1;
    ensure(child + 1);
    int index = ia >= 0 ? ia : ib;
    patterns.element(states, d * words, index, states, child * words);
    pushSegment(null, 0, 0, index);
    if (visitor != null) {
      child(null, ia, ib);
    }
    if (ia >= 0 && ib >= 0) {
      int sa = positionsA[d][ia];
      int sb = positionsB[d][ib];
      int endA = endA(sa);
      int endB = endB(sb);
      if (!compare(sa, endA, sb, endB, child, vol[d])) {
        pathLength--;
      }
      return;
    }
    if (ia >= 0) {
      int sa = positionsA[d][ia];
      add(Difference.Kind.MISSING, sa, endA(sa), -1, -1, vol[d]);
    } else {
      int sb = positionsB[d][ib];
      add(Difference.Kind.EXTRA, -1, -1, sb, endB(sb), vol[d]);
    }
    pathLength--;
  }

  // ---- recording ----------------------------------------------------------------------------

  private void add(Difference.Kind k, int pa, int endA, int pb, int endB, boolean volatileValue) {
    if (visitor != null) {
      visitor.differ(childKey, childA, childB, k, pa, endA, pb, endB, volatileValue);
    }
    if (count(volatileValue)) {
      list(volatileValue).add(new Difference(pointer(), k, pa < 0 ? null : text(a, pa, endA),
          pb < 0 ? null : text(b, pb, endB), volatileValue));
    }
  }

  private void add(Difference.Kind k, String va, String vb, boolean volatileValue) {
    if (visitor != null) {
      visitor.note(k, va, vb, volatileValue);
    }
    if (count(volatileValue)) {
      list(volatileValue).add(new Difference(pointer(), k, va, vb, volatileValue));
    }
  }

  /** Counts a difference; returns whether it is listed. */
  private boolean count(boolean volatileValue) {
    if (volatileValue) {
      volatileCount++;
      return volatiles.size() < max;
    }
    realCount++;
    return real.size() < max;
  }

  private List<Difference> list(boolean volatileValue) {
    return volatileValue ? volatiles : real;
  }

  private static String capped(String json) {
    if (json.length() <= MAX_VALUE_BYTES) {
      return json;
    }
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    return placeholder("array", bytes, 0, bytes.length);
  }

  static String text(byte[] s, int start, int end) {
    if (end - start <= MAX_VALUE_BYTES) {
      return new String(s, start, end - start, StandardCharsets.UTF_8);
    }
    String what = switch (s[start]) {
      case '{' -> "object";
      case '[' -> "array";
      case '"' -> "string";
      default -> "number";
    };
    return placeholder(what, s, start, end);
  }

  private static String placeholder(String what, byte[] s, int start, int end) {
    return "\"[" + what + " of " + (end - start) + " canonical bytes, " + Hashes.of(s, start, end - start) + "]\"";
  }

  private void child(String key, int ia, int ib) {
    childKey = key;
    childA = ia;
    childB = ib;
  }

  private void pushSegment(byte[] side, int start, int end, int index) {
    int i = pathLength++;
    if (i == segSide.length) {
      int n = i * 2;
      segSide = Arrays.copyOf(segSide, n);
      segStart = Arrays.copyOf(segStart, n);
      segEnd = Arrays.copyOf(segEnd, n);
      segIndex = Arrays.copyOf(segIndex, n);
    }
    segSide[i] = side;
    segStart[i] = start;
    segEnd[i] = end;
    segIndex[i] = index;
  }

  private String pointer() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < pathLength; i++) {
      sb.append('/');
      if (segSide[i] == null) {
        sb.append(segIndex[i]);
      } else {
        sb.append(Pointer.escape(JsonBytes.decode(segSide[i], segStart[i], segEnd[i])));
      }
    }
    return sb.toString();
  }

  /**
   * Containers of at least this many canonical bytes have their end looked up, not scanned: the
   * walk asks for the end of every value it passes, and a step's bytes would be scanned again at
   * every level above them.
   */
  static final int LAYOUT_BYTES = 256;

  private final int layoutBytes;
  private Layout layoutA;
  private Layout layoutB;

  /** Made when the documents first differ (equal documents need no walk). */
  private Layout layoutA() {
    if (layoutA == null) {
      layoutA = Layout.ofCanonical(a, lenA, layoutBytes);
    }
    return layoutA;
  }

  private Layout layoutB() {
    if (layoutB == null) {
      layoutB = Layout.ofCanonical(b, lenB, layoutBytes);
    }
    return layoutB;
  }

  /** End of A's value at {@code p}. */
  private int endA(int p) {
    return JsonBytes.valueEnd(a, p, lenA, layoutA());
  }

  private int endB(int p) {
    return JsonBytes.valueEnd(b, p, lenB, layoutB());
  }

  private void ensure(int n) {
    if (n < kind.length) {
      return;
    }
    int m = Math.max(n + 1, kind.length * 2);
    kind = Arrays.copyOf(kind, m);
    cursorA = Arrays.copyOf(cursorA, m);
    cursorB = Arrays.copyOf(cursorB, m);
    vol = Arrays.copyOf(vol, m);
    pathAt = Arrays.copyOf(pathAt, m);
    pairsA = Arrays.copyOf(pairsA, m);
    pairsB = Arrays.copyOf(pairsB, m);
    positionsA = Arrays.copyOf(positionsA, m);
    positionsB = Arrays.copyOf(positionsB, m);
    nextPair = Arrays.copyOf(nextPair, m);
    states = Arrays.copyOf(states, m * words);
  }
}
