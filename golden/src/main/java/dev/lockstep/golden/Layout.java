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
