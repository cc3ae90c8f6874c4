package dev.lockstep.golden;

import java.util.Arrays;

/**
 * What the canonicaliser learned about the last object it finished at each nesting level of a
 * subtree without patterns: its member names (where they stand in the source), which of them are
 * masked, and their name order. Golden files repeat a few object shapes thousands of times (every
 * account, every rate table), so the next object at that level whose names are the same bytes in
 * the same order needs no name lookup, no comparison, no sort and no duplicate check: a shape is
 * learned only from an object that passed all of them. Positions refer to the document of the
 * current walk; {@link #clear()} forgets everything before another one. Not thread-safe.
 */
final class Shapes {
  /** Objects with more members are not learned. */
  static final int MAX_MEMBERS = 32;

  private Shape[] levels = new Shape[8];

  /** One learned shape. */
  static final class Shape {
    /** Members, or -1 when nothing is learned at this level. */
    int n = -1;
    final int[] keyStart = new int[MAX_MEMBERS];
    final int[] keyLength = new int[MAX_MEMBERS];
    final boolean[] masked = new boolean[MAX_MEMBERS];
    /** The members in name order (indices in source order). */
    final int[] order = new int[MAX_MEMBERS];
    /** Whether members {@code [0, i]} are not in name order. */
    final boolean[] unsortedThrough = new boolean[MAX_MEMBERS];

    /** Whether member {@code i}'s name is {@code src[start, start + length)}. */
    boolean sameName(int i, byte[] src, int start, int length) {
      if (keyLength[i] != length) {
        return false;
      }
      int k = keyStart[i];
      if (length <= 8 && start + 8 <= src.length && k + 8 <= src.length) {
        long diff = JsonBytes.word(src, start) ^ JsonBytes.word(src, k);
        return length == 8 ? diff == 0 : (diff & ((1L << (8 * length)) - 1)) == 0;
      }
      return Arrays.equals(src, start, start + length, src, k, k + length);
    }

    boolean unsorted() {
      return n > 1 && unsortedThrough[n - 1];
    }
  }

  Shape at(int level) {
    if (level >= levels.length) {
      levels = Arrays.copyOf(levels, Math.max(level + 1, levels.length * 2));
    }
    Shape s = levels[level];
    if (s == null) {
      s = new Shape();
      levels[level] = s;
    }
    return s;
  }

  void clear() {
    for (Shape s : levels) {
      if (s != null) {
        s.n = -1;
      }
    }
  }

  /**
   * Learns the object whose members are {@code [base, base + n)} of {@code members}, finished
   * without error (so no duplicate names), its name order in {@code members.order} when
   * {@code sorted}, else already in order. Objects with escaped names or too many members are
   * forgotten instead.
   */
  static void learn(Shape s, Members members, byte[] src, int base, int n, boolean sorted) {
    if (n > MAX_MEMBERS) {
      s.n = -1;
      return;
    }
    boolean unsorted = false;
    for (int i = 0; i < n; i++) {
      int m = base + i;
      if (members.escaped[m]) {
        s.n = -1;
        return;
      }
      s.keyStart[i] = members.keyStart[m];
      s.keyLength[i] = members.keyEnd[m] - members.keyStart[m];
      s.masked[i] = members.outStart[m] < 0;
      s.order[i] = sorted ? members.order[m] - base : i;
      if (i > 0 && !unsorted && members.compare(src, m - 1, m) > 0) {
        unsorted = true;
      }
      s.unsortedThrough[i] = unsorted;
    }
    s.n = n;
  }
}
