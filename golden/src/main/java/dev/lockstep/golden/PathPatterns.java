package dev.lockstep.golden;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * JSON-Pointer patterns matched against the path of every value during one walk, as a small NFA:
 * a state is the set of (pattern, segment) positions still alive, one bit each, and a path step
 * (a member name or an array index) moves every live position at once. Segments are literal
 * names, {@code *} (one segment), {@code **} (any number of segments) or an array element (for
 * step-relative mapping pointers). Each pattern carries a slot number; {@link #accepted} says
 * which slots match the current value. Immutable and shareable; states live in caller arrays.
 */
final class PathPatterns {
  static final int MAX_SLOTS = 64;

  private static final byte LITERAL = 0;
  private static final byte STAR = 1;
  private static final byte DOUBLE_STAR = 2;
  private static final byte ELEMENT = 3;
  private static final byte FINAL = 4;

  private final int words;
  private final byte[] type;       // per position
  private final byte[][] literal;  // per position: canonical name bytes
  private final int[] index;       // per position: the literal as an array index, or -1
  private final int[] slot;        // per final position
  private final long[] start;      // the root state
  private final long[] finals;     // final positions

  /** Patterns under construction. */
  static final class Builder {
    private final List<String[]> patterns = new ArrayList<>();
    private final List<Integer> slots = new ArrayList<>();

    /**
     * Adds a pointer glob ({@code /a/*}{@code /b}, {@code /**}{@code /x}) for {@code slot}; an empty
     * or null pointer adds nothing.
     */
    Builder glob(String pointer, int slot) {
      if (pointer == null || pointer.isEmpty()) {
        return this;
      }
      return add(Pointer.split(pointer).toArray(new String[0]), slot);
    }

    /**
     * Adds {@code arrayPointer}, then any element of that array, then {@code relative} (a pointer,
     * or a plain member name when it does not start with '/').
     */
    Builder underElements(String arrayPointer, String relative, int slot) {
      if (arrayPointer == null || arrayPointer.isEmpty() || relative == null || relative.isEmpty()) {
        return this;
      }
      List<String> segs = new ArrayList<>(Pointer.split(arrayPointer));
      segs.add(null); // any element
      if (relative.startsWith("/")) {
        segs.addAll(Pointer.split(relative));
      } else {
        segs.add(relative);
      }
      return add(segs.toArray(new String[0]), slot);
    }

    private Builder add(String[] segments, int slot) {
      if (slot < 0 || slot >= MAX_SLOTS) {
        throw new IllegalArgumentException("pattern slot out of range: " + slot);
      }
      patterns.add(segments);
      slots.add(slot);
      return this;
    }

    PathPatterns build() {
      return new PathPatterns(patterns, slots);
    }
  }

  private PathPatterns(List<String[]> patterns, List<Integer> slots) {
    int positions = 0;
    for (String[] p : patterns) {
      positions += p.length + 1;
    }
    words = Math.max(1, (positions + 63) >>> 6);
    type = new byte[positions];
    literal = new byte[positions][];
    index = new int[positions];
    slot = new int[positions];
    start = new long[words];
    finals = new long[words];
    Arrays.fill(index, -1);
    int pos = 0;
    for (int p = 0; p < patterns.size(); p++) {
      String[] segs = patterns.get(p);
      set(start, pos);
      for (String s : segs) {
        if (s == null) {
          type[pos] = ELEMENT;
        } else if (s.equals("*")) {
          type[pos] = STAR;
        } else if (s.equals("**")) {
          type[pos] = DOUBLE_STAR;
        } else {
          type[pos] = LITERAL;
          literal[pos] = CanonicalString.content(s);
          index[pos] = arrayIndex(s);
        }
        pos++;
      }
      type[pos] = FINAL;
      slot[pos] = slots.get(p);
      set(finals, pos);
      pos++;
    }
    closure(start, 0);
  }

  private static int arrayIndex(String s) {
    if (s.isEmpty() || s.length() > 9 || (s.length() > 1 && s.charAt(0) == '0')) {
      return -1;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return -1;
      }
    }
    return Integer.parseInt(s);
  }

  int words() {
    return words;
  }

  boolean isTrivial() {
    return type.length == 0;
  }

  /** Writes the root state at {@code dst[off, off + words)}. */
  void root(long[] dst, int off) {
    System.arraycopy(start, 0, dst, off, words);
  }

  static boolean isEmpty(long[] s, int off, int words) {
    for (int w = 0; w < words; w++) {
      if (s[off + w] != 0) {
        return false;
      }
    }
    return true;
  }

  /** The state after member name {@code name[nStart, nStart + nLen)} (canonical bytes). */
  void member(long[] src, int srcOff, byte[] name, int nStart, int nLen, long[] dst, int dstOff) {
    Arrays.fill(dst, dstOff, dstOff + words, 0L);
    for (int w = 0; w < words; w++) {
      long bits = src[srcOff + w];
      while (bits != 0) {
        int pos = (w << 6) + Long.numberOfTrailingZeros(bits);
        bits &= bits - 1;
        switch (type[pos]) {
          case STAR -> set(dst, dstOff, pos + 1);
          case DOUBLE_STAR -> set(dst, dstOff, pos);
          case LITERAL -> {
            byte[] lit = literal[pos];
            if (lit.length == nLen && Arrays.equals(lit, 0, nLen, name, nStart, nStart + nLen)) {
              set(dst, dstOff, pos + 1);
            }
          }
          default -> { } // ELEMENT needs an index; FINAL has nowhere to go
        }
      }
    }
    closure(dst, dstOff);
  }

  /** The state after array index {@code i}. */
  void element(long[] src, int srcOff, int i, long[] dst, int dstOff) {
    Arrays.fill(dst, dstOff, dstOff + words, 0L);
    for (int w = 0; w < words; w++) {
      long bits = src[srcOff + w];
      while (bits != 0) {
        int pos = (w << 6) + Long.numberOfTrailingZeros(bits);
        bits &= bits - 1;
        switch (type[pos]) {
          case STAR, ELEMENT -> set(dst, dstOff, pos + 1);
          case DOUBLE_STAR -> set(dst, dstOff, pos);
          case LITERAL -> {
            if (index[pos] == i) {
              set(dst, dstOff, pos + 1);
            }
          }
          default -> { }
        }
      }
    }
    closure(dst, dstOff);
  }

  /** The slots of the patterns that match exactly the value this state belongs to, as bits. */
  long accepted(long[] s, int off) {
    long out = 0;
    for (int w = 0; w < words; w++) {
      long bits = s[off + w] & finals[w];
      while (bits != 0) {
        int pos = (w << 6) + Long.numberOfTrailingZeros(bits);
        bits &= bits - 1;
        out |= 1L << slot[pos];
      }
    }
    return out;
  }

  /** A {@code **} position also stands for the position after it (it may match no segment). */
  private void closure(long[] s, int off) {
    for (int w = 0; w < words; w++) {
      long bits = s[off + w];
      while (bits != 0) {
        int pos = (w << 6) + Long.numberOfTrailingZeros(bits);
        bits &= bits - 1;
        if (type[pos] == DOUBLE_STAR) {
          set(s, off, pos + 1);
          if (((pos + 1) >>> 6) == w) {
            bits |= 1L << ((pos + 1) & 63); // visit it in this word too
          }
        }
      }
    }
  }

  private static void set(long[] s, int pos) {
    s[pos >>> 6] |= 1L << (pos & 63);
  }

  private static void set(long[] s, int off, int pos) {
    s[off + (pos >>> 6)] |= 1L << (pos & 63);
  }
}
