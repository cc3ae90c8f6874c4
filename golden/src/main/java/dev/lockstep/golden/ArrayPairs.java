package dev.lockstep.golden;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How the elements of two arrays (in canonical form) are paired for a diff: positions in A and
 * in B ({@code -1} where one side has no partner), in the order differences are listed, and, when
 * paired elements come in another order in B, the positions of those pairs on each side.
 */
record ArrayPairs(int[] a, int[] b, int[] movedA, int[] movedB) {

  /** Element {@code i} with element {@code i}; the longer array's tail has no partners. */
  static ArrayPairs byPosition(int na, int nb) {
    int n = Math.max(na, nb);
    int[] a = new int[n];
    int[] b = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i < na ? i : -1;
      b[i] = i < nb ? i : -1;
    }
    return new ArrayPairs(a, b, null, null);
  }

  /** Steps paired by index (docs/golden-format.md §7). */
  static ArrayPairs bySteps(List<StepPairs.Pair> pairs) {
    int[] a = new int[pairs.size()];
    int[] b = new int[pairs.size()];
    for (int i = 0; i < pairs.size(); i++) {
      a[i] = pairs.get(i).a();
      b[i] = pairs.get(i).b();
    }
    if (!StepPairs.reordered(pairs)) {
      return new ArrayPairs(a, b, null, null);
    }
    return new ArrayPairs(a, b, pairs.stream().filter(StepPairs.Pair::both).mapToInt(StepPairs.Pair::a).toArray(),
        pairs.stream().filter(StepPairs.Pair::both).mapToInt(StepPairs.Pair::b).toArray());
  }

  /**
   * Elements paired by the canonical value of their member {@code key} (canonical name bytes): A's
   * in A's order, then B's without partner. Null when an element is not an object with that
   * member, or two elements of one side share a value.
   */
  static ArrayPairs byKey(byte[] sa, int lenA, Layout layoutA, int[] ea, byte[] sb, int lenB, Layout layoutB,
      int[] eb, byte[] key) {
    Map<String, Integer> inB = new HashMap<>();
    for (int j = 0; j < eb.length; j++) {
      String k = keyOf(sb, lenB, layoutB, eb[j], key);
      if (k == null || inB.put(k, j) != null) {
        return null;
      }
    }
    List<int[]> pairs = new ArrayList<>();
    boolean[] matched = new boolean[eb.length];
    Set<String> seenA = new HashSet<>();
    List<int[]> both = new ArrayList<>();
    for (int i = 0; i < ea.length; i++) {
      String k = keyOf(sa, lenA, layoutA, ea[i], key);
      if (k == null || !seenA.add(k)) {
        return null;
      }
      Integer j = inB.get(k);
      if (j == null) {
        pairs.add(new int[] {i, -1});
      } else {
        matched[j] = true;
        pairs.add(new int[] {i, j});
        both.add(new int[] {i, j});
      }
    }
    for (int j = 0; j < eb.length; j++) {
      if (!matched[j]) {
        pairs.add(new int[] {-1, j});
      }
    }
    boolean moved = false;
    for (int i = 1; i < both.size(); i++) {
      moved |= both.get(i)[1] < both.get(i - 1)[1];
    }
    return new ArrayPairs(pairs.stream().mapToInt(p -> p[0]).toArray(), pairs.stream().mapToInt(p -> p[1]).toArray(),
        moved ? both.stream().mapToInt(p -> p[0]).toArray() : null,
        moved ? both.stream().mapToInt(p -> p[1]).toArray() : null);
  }

  /** The canonical text of member {@code key} of the object at {@code p}, or null. */
  private static String keyOf(byte[] s, int len, Layout layout, int p, byte[] key) {
    if (s[p] != '{') {
      return null;
    }
    int q = p + 1;
    while (s[q] != '}') {
      int e = JsonBytes.stringEnd(s, q, len);
      int keyEnd = e < 0 ? ~e : e;
      int v = keyEnd + 1;
      int end = JsonBytes.valueEnd(s, v, len, layout);
      if (keyEnd - 1 - (q + 1) == key.length && Arrays.equals(s, q + 1, keyEnd - 1, key, 0, key.length)) {
        return new String(s, v, end - v, StandardCharsets.ISO_8859_1);
      }
      q = end + (s[end] == ',' ? 1 : 0);
    }
    return null;
  }

  /** Start offsets of the elements of the array at {@code p} (canonical form: no whitespace). */
  static int[] elements(byte[] s, int p, int len) {
    return elements(s, p, len, Layout.NONE);
  }

  /** Like {@link #elements(byte[], int, int)}, large elements' ends looked up in {@code layout}. */
  static int[] elements(byte[] s, int p, int len, Layout layout) {
    int[] out = new int[8];
    int n = 0;
    int q = p + 1;
    while (s[q] != ']') {
      if (n == out.length) {
        out = Arrays.copyOf(out, n * 2);
      }
      out[n++] = q;
      int end = JsonBytes.valueEnd(s, q, len, layout);
      q = end + (s[end] == ',' ? 1 : 0);
    }
    return Arrays.copyOf(out, n);
  }
}
