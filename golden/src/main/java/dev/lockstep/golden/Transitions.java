package dev.lockstep.golden;

import java.util.Arrays;

/**
 * Remembers recent member steps of {@link PathPatterns} whose states fit in one word: (state,
 * member name) to the next state and the slots it accepts. A golden file repeats the same few
 * names under the same few states (every step object has the same members), so most steps are
 * looked up instead of moving every live pattern position and comparing its literal. An entry
 * holds a copy of the name and is used only for an equal state and equal name bytes, so a hit
 * gives exactly what {@link PathPatterns#member} gives. Per walker, not thread-safe.
 */
final class Transitions {
  private static final int SIZE = 256;
  /** Longer names are not remembered (the copy would cost more than the step). */
  static final int MAX_NAME = 64;

  private final long[] from = new long[SIZE];
  private final byte[][] names = new byte[SIZE][];
  private final long[] to = new long[SIZE];
  private final long[] accepted = new long[SIZE];
  private int slot;

  /**
   * Looks up the step from one-word state {@code state} by name {@code b[start, start + n)};
   * true when found, then {@link #to()} and {@link #accepted()} hold its result.
   */
  boolean find(long state, byte[] b, int start, int n) {
    int i = index(state, b, start, n);
    slot = i;
    byte[] name = names[i];
    return name != null && from[i] == state && name.length == n && Arrays.equals(name, 0, n, b, start, start + n);
  }

  /** The next state of the last {@link #find} that succeeded. */
  long to() {
    return to[slot];
  }

  /** The accepted slots of the last {@link #find} that succeeded. */
  long accepted() {
    return accepted[slot];
  }

  /** Remembers the result of the step the last {@link #find} missed (same state and name). */
  void put(long state, byte[] b, int start, int n, long next, long acceptedSlots) {
    if (n > MAX_NAME) {
      return;
    }
    int i = slot;
    from[i] = state;
    names[i] = Arrays.copyOfRange(b, start, start + n);
    to[i] = next;
    accepted[i] = acceptedSlots;
  }

  private static int index(long state, byte[] b, int start, int n) {
    long h = state * 0x9E3779B97F4A7C15L + Members.prefixOf(b, start, start + n) * 0xC2B2AE3D27D4EB4FL + n;
    if (n > 8) {
      h += (b[start + n - 1] & 0xffL) * 0x165667B19E3779F9L; // names sharing a prefix of eight bytes
    }
    return (int) (h ^ (h >>> 29) ^ (h >>> 47)) & (SIZE - 1);
  }
}
