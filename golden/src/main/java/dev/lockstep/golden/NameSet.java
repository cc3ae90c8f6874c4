package dev.lockstep.golden;

import java.util.Arrays;
import java.util.Collection;

/**
 * A set of member names (volatile names) looked up by their canonical bytes without making a
 * String: most names are rejected by their length alone, the rest by hash and comparison.
 */
final class NameSet {
  static final NameSet EMPTY = new NameSet(java.util.List.of());

  private final byte[][] table;
  private final long lengths; // bit n set: some name has n bytes (n < 63); bit 63: some longer one

  NameSet(Collection<String> names) {
    int n = Math.max(4, Integer.highestOneBit(Math.max(1, names.size()) * 4));
    byte[][] t = new byte[n][];
    long lens = 0;
    for (String name : names) {
      byte[] b = CanonicalString.content(name);
      lens |= 1L << Math.min(63, b.length);
      int i = hash(b, 0, b.length) & (n - 1);
      while (t[i] != null && !Arrays.equals(t[i], b)) {
        i = (i + 1) & (n - 1);
      }
      t[i] = b;
    }
    this.table = t;
    this.lengths = lens;
  }

  boolean isEmpty() {
    return lengths == 0;
  }

  boolean contains(byte[] b, int start, int len) {
    if ((lengths & (1L << Math.min(63, len))) == 0) {
      return false;
    }
    int mask = table.length - 1;
    for (int i = hash(b, start, len) & mask; ; i = (i + 1) & mask) {
      byte[] t = table[i];
      if (t == null) {
        return false;
      }
      if (t.length == len && Arrays.equals(t, 0, len, b, start, start + len)) {
        return true;
      }
    }
  }

  private static int hash(byte[] b, int start, int len) {
    int h = len;
    for (int i = start; i < start + len; i++) {
      h = 31 * h + b[i];
    }
    return h ^ (h >>> 16);
  }
}
