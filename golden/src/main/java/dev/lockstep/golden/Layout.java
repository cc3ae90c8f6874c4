package dev.lockstep.golden;

import java.util.Arrays;

/**
 * Where the large containers of a validated document end: start offset of a container ({@code '{'}
 * or {@code '['}) to the offset just after its closing bracket, for containers spanning at least
 * {@link #bigBytes()} bytes. Lets the canonicaliser skip a large value in O(1) and tells it which
 * objects are too large to buffer. A few entries per megabyte of document at most.
 */
final class Layout {
  static final Layout NONE = new Layout(Integer.MAX_VALUE);

  private final int bigBytes;
  private int[] keys = new int[16];
  private int[] values = new int[16];
  private int size;

  Layout(int bigBytes) {
    this.bigBytes = bigBytes;
    Arrays.fill(keys, -1);
  }

  int bigBytes() {
    return bigBytes;
  }

  void put(int start, int end) {
    if (this == NONE) {
      throw new IllegalStateException("Layout.NONE is immutable");
    }
    if ((size + 1) * 2 > keys.length) {
      grow();
    }
    insert(keys, values, start, end);
    size++;
  }

  /** End (exclusive) of the large container starting at {@code start}, or -1 when it is not large. */
  int end(int start) {
    if (size == 0) {
      return -1;
    }
    int mask = keys.length - 1;
    for (int i = mix(start) & mask; ; i = (i + 1) & mask) {
      int k = keys[i];
      if (k == start) {
        return values[i];
      }
      if (k == -1) {
        return -1;
      }
    }
  }

  int size() {
    return size;
  }

  /**
   * The layout of a document in canonical form (valid, no whitespace, e.g. our own output):
   * where its containers of at least {@code bigBytes} end, found in one scan (strings skipped
   * eight bytes at a time). A walk that asks for the end of every container it passes (a diff)
   * then finds each large one at once instead of scanning it again at every level above it.
   */
  static Layout ofCanonical(byte[] s, int len, int bigBytes) {
    Layout layout = new Layout(bigBytes);
    int[] open = new int[64];
    int depth = 0;
    int p = 0;
    while (p < len) {
      byte c = s[p];
      if (c == '"') {
        int e = JsonBytes.stringEnd(s, p, len);
        p = e < 0 ? ~e : e;
        continue;
      }
      if (c == '{' || c == '[') {
        if (depth == open.length) {
          open = Arrays.copyOf(open, depth * 2);
        }
        open[depth++] = p;
      } else if (c == '}' || c == ']') {
        int start = open[--depth];
        if (p + 1 - start >= bigBytes) {
          layout.put(start, p + 1);
        }
      }
      p++;
    }
    return layout;
  }

  private void grow() {
    int[] oldKeys = keys;
    int[] oldValues = values;
    keys = new int[oldKeys.length * 2];
    values = new int[oldKeys.length * 2];
    Arrays.fill(keys, -1);
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] != -1) {
        insert(keys, values, oldKeys[i], oldValues[i]);
      }
    }
  }

  private static void insert(int[] keys, int[] values, int key, int value) {
    int mask = keys.length - 1;
    int i = mix(key) & mask;
    while (keys[i] != -1 && keys[i] != key) {
      i = (i + 1) & mask;
    }
    keys[i] = key;
    values[i] = value;
  }

  private static int mix(int x) {
    return (x * 0x9E3779B9) ^ (x >>> 16);
  }
}
