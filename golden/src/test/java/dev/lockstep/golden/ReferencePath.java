package dev.lockstep.golden;

import java.util.Arrays;

/**
 * Test reference: the path of the value being visited, as segments: object keys, or array indices (kept as ints
 * and turned into strings only when asked, so plain walks stay cheap).
 */
final class ReferencePath {
  private String[] keys = new String[32];
  private int[] indices = new int[32];
  private int depth;

  int depth() {
    return depth;
  }

  void pushKey(String key) {
    grow();
    keys[depth] = key;
    depth++;
  }

  void pushIndex(int index) {
    grow();
    keys[depth] = null;
    indices[depth] = index;
    depth++;
  }

  void pop() {
    depth--;
  }

  String segment(int i) {
    String k = keys[i];
    return k != null ? k : Integer.toString(indices[i]);
  }

  /** This path as a JSON Pointer. */
  String pointer() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < depth; i++) {
      sb.append('/').append(Pointer.escape(segment(i)));
    }
    return sb.toString();
  }

  String pointerWith(String key) {
    return pointer() + "/" + Pointer.escape(key);
  }

  private void grow() {
    if (depth == keys.length) {
      keys = Arrays.copyOf(keys, depth * 2);
      indices = Arrays.copyOf(indices, depth * 2);
    }
  }
}
