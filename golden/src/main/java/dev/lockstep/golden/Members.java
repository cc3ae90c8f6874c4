package dev.lockstep.golden;

import dev.lockstep.golden.GoldenParseException.Code;
import java.util.Arrays;

/**
 * The members of the objects open during a walk, on one stack: where each name is in the source
 * (text between the quotes, and whether it has escapes), where the member's canonical bytes are in
 * the output, where its value starts. Sorts a range by RFC 8785 name order and finds duplicate
 * names. Not thread-safe.
 */
final class Members {
  int[] keyStart = new int[64];
  int[] keyEnd = new int[64];
  boolean[] escaped = new boolean[64];
  int[] outStart = new int[64];
  int[] outEnd = new int[64];
  int[] valueStart = new int[64];
  /** The first 8 bytes of each name, big-endian, zero-padded: most comparisons end here. */
  long[] prefix = new long[64];
  int[] order = new int[64];
  private int[] scratch = new int[64];
  int top;

  /** Pushes a member whose name is {@code src[kStart, kEnd)}; returns its index. */
  int push(byte[] src, int kStart, int kEnd, boolean esc, int vStart) {
    int i = top;
    if (i == keyStart.length) {
      int n = i * 2;
      keyStart = Arrays.copyOf(keyStart, n);
      keyEnd = Arrays.copyOf(keyEnd, n);
      escaped = Arrays.copyOf(escaped, n);
      outStart = Arrays.copyOf(outStart, n);
      outEnd = Arrays.copyOf(outEnd, n);
      valueStart = Arrays.copyOf(valueStart, n);
      prefix = Arrays.copyOf(prefix, n);
      order = Arrays.copyOf(order, n);
      scratch = Arrays.copyOf(scratch, n);
    }
    keyStart[i] = kStart;
    keyEnd[i] = kEnd;
    escaped[i] = esc;
    outStart[i] = -1;
    outEnd[i] = -1;
    valueStart[i] = vStart;
    prefix[i] = prefixOf(src, kStart, kEnd);
    top = i + 1;
    return i;
  }

  static long prefixOf(byte[] s, int start, int end) {
    if (start + 8 <= s.length) { // one read: the bytes past a short name are masked off
      long v = Long.reverseBytes(JsonBytes.word(s, start));
      int n = end - start;
      return n >= 8 ? v : n == 0 ? 0 : v & (-1L << (8 * (8 - n)));
    }
    int n = Math.min(8, end - start);
    long v = 0;
    for (int i = 0; i < n; i++) {
      v = (v << 8) | (s[start + i] & 0xff);
    }
    return n == 8 ? v : v << (8 * (8 - n));
  }

  int compare(byte[] src, int i, int j) {
    if (!escaped[i] && !escaped[j]) {
      long x = prefix[i];
      long y = prefix[j];
      if (x != y) {
        int shift = 56 - (Long.numberOfLeadingZeros(x ^ y) & ~7);
        int bx = (int) (x >>> shift) & 0xff;
        int by = (int) (y >>> shift) & 0xff;
        if (!((bx >= 0xf0 && by >= 0xee && by <= 0xef) || (by >= 0xf0 && bx >= 0xee && bx <= 0xef))) {
          return bx - by;
        }
      } else {
        int li = keyEnd[i] - keyStart[i];
        int lj = keyEnd[j] - keyStart[j];
        if (li <= 8 && lj <= 8) {
          return li - lj;
        }
      }
    }
    return CanonicalString.compareKeys(src, keyStart[i], keyEnd[i], escaped[i], src, keyStart[j], keyEnd[j],
        escaped[j]);
  }

  /**
   * Puts the members {@code [base, base + n)} in name order into {@code order[base, base + n)}.
   * Returns -1, or the index of a member whose name equals another's (the later one in the source).
   */
  int sort(byte[] src, int base, int n) {
    int[] o = order;
    for (int i = 0; i < n; i++) {
      o[base + i] = base + i;
    }
    if (n < 2) {
      return -1;
    }
    if (n <= 16) {
      // Inserting a name into names in order without duplicates stops at the greatest one not
      // above it: an equal name, if there is one. So without an equal comparison there is no
      // duplicate, and the names need not be compared again below.
      boolean equal = false;
      for (int i = 1; i < n; i++) {
        int x = o[base + i];
        int j = i - 1;
        int c;
        while (j >= 0 && (c = compare(src, o[base + j], x)) >= 0) {
          if (c == 0) {
            equal = true;
            break;
          }
          o[base + j + 1] = o[base + j];
          j--;
        }
        o[base + j + 1] = x;
      }
      if (!equal) {
        return -1;
      }
    } else {
      mergeSort(src, o, scratch, base, base + n);
    }
    for (int i = base + 1; i < base + n; i++) {
      if (compare(src, o[i - 1], o[i]) == 0) {
        return Math.max(o[i - 1], o[i]); // indices grow with source position
      }
    }
    return -1;
  }

  private void mergeSort(byte[] src, int[] a, int[] tmp, int from, int to) {
    for (int width = 1; width < to - from; width *= 2) {
      for (int lo = from; lo < to - width; lo += 2 * width) {
        int mid = lo + width;
        int hi = Math.min(lo + 2 * width, to);
        if (compare(src, a[mid - 1], a[mid]) <= 0) {
          continue; // already in order
        }
        System.arraycopy(a, lo, tmp, lo, hi - lo);
        int i = lo;
        int j = mid;
        int k = lo;
        while (i < mid && j < hi) {
          a[k++] = compare(src, tmp[i], tmp[j]) <= 0 ? tmp[i++] : tmp[j++];
        }
        while (i < mid) {
          a[k++] = tmp[i++];
        }
        while (j < hi) {
          a[k++] = tmp[j++];
        }
      }
    }
  }

  /** A duplicate name, at member {@code m}: the error names it and where it stands in the source. */
  GoldenParseException duplicate(byte[] src, String source, int m) {
    String name = JsonBytes.decode(src, keyStart[m], keyEnd[m]);
    if (name.length() > 80) {
      name = name.substring(0, 77) + "...";
    }
    return JsonSyntax.at(src, keyStart[m] - 1, source, Code.DUPLICATE_KEY, "duplicate key \"" + name + "\"");
  }

  /**
   * Refuses duplicate member names anywhere in the container {@code src[start, end)}, which is
   * otherwise skipped (a masked value): a masked member is still part of the file.
   */
  void checkNames(byte[] src, int len, Layout layout, String source, int start, int end) throws GoldenParseException {
    int[] work = new int[16];
    int stack = 0;
    work[stack++] = start;
    while (stack > 0) {
      int p = work[--stack];
      boolean object = src[p] == '{';
      int base = top;
      int q = JsonBytes.skipWs(src, p + 1, len);
      if (src[q] != (object ? '}' : ']')) {
        while (true) {
          int v = q;
          if (object) {
            int e = JsonBytes.stringEnd(src, q, len);
            boolean esc = e < 0;
            int keyEnd = esc ? ~e : e;
            v = JsonBytes.skipWs(src, JsonBytes.skipWs(src, keyEnd, len) + 1, len);
            push(src, q + 1, keyEnd - 1, esc, v);
          }
          if (src[v] == '{' || src[v] == '[') {
            if (stack == work.length) {
              work = Arrays.copyOf(work, stack * 2);
            }
            work[stack++] = v;
          }
          q = JsonBytes.skipWs(src, JsonBytes.valueEnd(src, v, len, layout), len);
          if (src[q] != ',') {
            break;
          }
          q = JsonBytes.skipWs(src, q + 1, len);
        }
      }
      if (object) {
        int dupe = sort(src, base, top - base);
        if (dupe >= 0) {
          throw duplicate(src, source, dupe);
        }
        top = base;
      }
    }
  }
}
