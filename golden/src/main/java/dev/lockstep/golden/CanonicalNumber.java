package dev.lockstep.golden;

import ch.randelshofer.fastdoubleparser.JsonDoubleParser;
import java.nio.charset.StandardCharsets;

/**
 * Writes the canonical form of a number literal straight into a byte buffer (docs/golden-format.md,
 * "Numbers"): an integer literal keeps its exact digits ({@code -0} is {@code 0}); any other literal
 * is the nearest double, written as its exact integer digits when it is a whole number below 10^21
 * and in ES6 {@code Number::toString} form otherwise. Literals that are already in that form, or
 * differ only by trailing zeros of a short fraction, are copied without parsing; the rest go through
 * FastDoubleParser and Ryū. Not thread-safe (one per canonicaliser).
 */
final class CanonicalNumber {
  /** Room a caller must leave in the buffer beyond the literal's own length. */
  static final int SLACK = 32;

  private static final double TWO_POW_63 = 9.223372036854775808E18;
  private static final byte[] DIGIT_PAIRS = new byte[200];

  static {
    for (int i = 0; i < 100; i++) {
      DIGIT_PAIRS[2 * i] = (byte) ('0' + i / 10);
      DIGIT_PAIRS[2 * i + 1] = (byte) ('0' + i % 10);
    }
  }

  private final Ryu ryu = new Ryu();

  /**
   * Writes the canonical form of the (valid) literal {@code src[start, end)} at {@code out[pos]}, which
   * has room for {@code end - start + SLACK} bytes; returns the position after it.
   */
  int write(byte[] src, int start, int end, byte[] out, int pos) {
    int p = start;
    boolean negative = src[p] == '-';
    if (negative) {
      p++;
    }
    int intStart = p;
    while (p < end && src[p] >= '0' && src[p] <= '9') {
      p++;
    }
    int intEnd = p;
    if (p == end) { // an integer literal: exact, as written
      if (negative && intEnd - intStart == 1 && src[intStart] == '0') {
        out[pos] = '0';
        return pos + 1;
      }
      System.arraycopy(src, start, out, pos, end - start);
      return pos + end - start;
    }
    if (src[p] == '.') {
      int fracStart = p + 1;
      int fracEnd = fracStart;
      while (fracEnd < end && src[fracEnd] >= '0' && src[fracEnd] <= '9') {
        fracEnd++;
      }
      if (fracEnd == end) {
        int q = plainDecimal(src, negative, intStart, intEnd, fracStart, fracEnd, out, pos);
        if (q >= 0) {
          return q;
        }
      }
    }
    return writeDouble(JsonDoubleParser.parseDouble(src, start, end - start), out, pos);
  }

  /**
   * The fast path for {@code [-]int.frac} without exponent: when the value has at most 15 significant
   * digits and lies in [1e-6, 1e15), its canonical form is the literal with trailing fraction zeros
   * removed (a decimal of at most 15 digits is the shortest that reads back as its double). Returns
   * -1 when the literal needs the slow path.
   */
  private static int plainDecimal(byte[] src, boolean negative, int intStart, int intEnd, int fracStart,
      int fracEnd, byte[] out, int pos) {
    while (fracEnd > fracStart && src[fracEnd - 1] == '0') {
      fracEnd--;
    }
    boolean intZero = intEnd - intStart == 1 && src[intStart] == '0';
    int significant;
    if (fracEnd == fracStart) { // a whole number written with a fraction of zeros
      if (intZero) {
        out[pos] = '0';
        return pos + 1;
      }
      significant = intEnd - intStart;
    } else if (intZero) {
      int zeros = 0;
      while (src[fracStart + zeros] == '0') {
        zeros++;
      }
      if (zeros > 5) {
        return -1; // below 1e-6: exponent form
      }
      significant = fracEnd - fracStart - zeros;
    } else {
      significant = intEnd - intStart + fracEnd - fracStart;
    }
    if (significant > 15) {
      return -1;
    }
    if (negative) {
      out[pos++] = '-';
    }
    System.arraycopy(src, intStart, out, pos, intEnd - intStart);
    pos += intEnd - intStart;
    if (fracEnd > fracStart) {
      out[pos++] = '.';
      System.arraycopy(src, fracStart, out, pos, fracEnd - fracStart);
      pos += fracEnd - fracStart;
    }
    return pos;
  }

  /** Writes the canonical form of finite {@code d}; returns the position after it (at most 26 bytes). */
  int writeDouble(double d, byte[] out, int pos) {
    if (d == 0) {
      out[pos] = '0';
      return pos + 1; // also -0
    }
    double a = Math.abs(d);
    if (a < 1e21 && a == Math.rint(a)) {
      if (d < 0) {
        out[pos++] = '-';
      }
      if (a < TWO_POW_63) {
        return writeLong((long) a, out, pos);
      }
      return writeWhole(a, out, pos);
    }
    ryu.shortest(a);
    long digits = ryu.digits;
    int k = Ryu.digitCount(digits);
    int n = ryu.exponent + k; // the value is 0.d1d2...dk × 10^n
    if (d < 0) {
      out[pos++] = '-';
    }
    if (0 < n && n <= 21) { // k > n here: the value is not a whole number
      writeDigits(digits, k, out, pos);
      System.arraycopy(out, pos + n, out, pos + n + 1, k - n);
      out[pos + n] = '.';
      return pos + k + 1;
    }
    if (-6 < n && n <= 0) {
      out[pos++] = '0';
      out[pos++] = '.';
      for (int i = 0; i < -n; i++) {
        out[pos++] = '0';
      }
      writeDigits(digits, k, out, pos);
      return pos + k;
    }
    writeDigits(digits, k, out, pos + 1);
    out[pos] = out[pos + 1];
    if (k > 1) {
      out[pos + 1] = '.';
      pos += k + 1;
    } else {
      pos += 1;
    }
    out[pos++] = 'e';
    int e = n - 1;
    out[pos++] = (byte) (e < 0 ? '-' : '+');
    return writeLong(Math.abs(e), out, pos);
  }

  private final int[] wide = new int[24];

  /**
   * Writes the exact digits of a whole double in [2^63, 1e21): its significand m (53 bits) times
   * 2^e (e at most 17), doubled e times in decimal digits, no BigInteger and no String.
   */
  private int writeWhole(double a, byte[] out, int pos) {
    long bits = Double.doubleToRawLongBits(a);
    long m = (bits & ((1L << 52) - 1)) | (1L << 52);
    int e = (int) ((bits >>> 52) & 0x7ff) - 1075;
    int[] d = wide; // little-endian decimal digits
    int n = 0;
    for (long t = m; t > 0; t /= 10) {
      d[n++] = (int) (t % 10);
    }
    for (int k = 0; k < e; k++) {
      int carry = 0;
      for (int i = 0; i < n; i++) {
        int x = d[i] * 2 + carry;
        d[i] = x % 10;
        carry = x / 10;
      }
      if (carry > 0) {
        d[n++] = carry;
      }
    }
    for (int i = n - 1; i >= 0; i--) {
      out[pos++] = (byte) ('0' + d[i]);
    }
    return pos;
  }

  /** Writes non-negative {@code v} in decimal; returns the position after it. */
  static int writeLong(long v, byte[] out, int pos) {
    int k = v == 0 ? 1 : Ryu.digitCount(v);
    writeDigits(v, k, out, pos);
    return pos + k;
  }

  /** Writes the {@code k} decimal digits of {@code v} at {@code out[pos, pos + k)}. */
  private static void writeDigits(long v, int k, byte[] out, int pos) {
    int i = pos + k;
    while (v >= 100) {
      int r = (int) (v % 100);
      v /= 100;
      out[--i] = DIGIT_PAIRS[2 * r + 1];
      out[--i] = DIGIT_PAIRS[2 * r];
    }
    if (v >= 10) {
      out[--i] = DIGIT_PAIRS[2 * (int) v + 1];
      out[--i] = DIGIT_PAIRS[2 * (int) v];
    } else {
      out[--i] = (byte) ('0' + v);
    }
  }

  /** The canonical form of literal {@code src[start, end)} as text. */
  String text(byte[] src, int start, int end) {
    byte[] buf = new byte[end - start + SLACK];
    int n = write(src, start, end, buf, 0);
    return new String(buf, 0, n, StandardCharsets.US_ASCII);
  }

  /** The canonical form of finite {@code d} as text. */
  String text(double d) {
    byte[] buf = new byte[SLACK];
    int n = writeDouble(d, buf, 0);
    return new String(buf, 0, n, StandardCharsets.US_ASCII);
  }
}
