package dev.lockstep.golden;

import java.math.BigInteger;

/**
 * Shortest round-trip decimal digits of a positive finite double (Ulf Adams' Ryū, PLDI 2018):
 * the fewest digits that read back as the same double, correctly rounded when several are as short
 * (the digits ECMAScript's Number::toString prints). Tables are computed once with BigInteger.
 * An instance holds the result of its last {@link #shortest} call (no allocation per number); it is
 * not thread-safe.
 */
final class Ryu {
  /** The shortest digits, without trailing zeros, as an integer. */
  long digits;
  /** Decimal exponent of the last digit: the value is {@code digits × 10^exponent}. */
  int exponent;

  private static final int MANTISSA_BITS = 52;
  private static final int BIAS = 1023;
  private static final int POW5_INV_BITCOUNT = 125;
  private static final int POW5_BITCOUNT = 125;
  private static final int POW5_INV_TABLE = 342;
  private static final int POW5_TABLE = 326;

  /**
   * The tables, computed on first use (most numbers in golden files are written without Ryū:
   * integers and short decimals are copied, see CanonicalNumber).
   */
  private static final class Tables {
    static final long[] POW5_INV_LO = new long[POW5_INV_TABLE];
    static final long[] POW5_INV_HI = new long[POW5_INV_TABLE];
    static final long[] POW5_LO = new long[POW5_TABLE];
    static final long[] POW5_HI = new long[POW5_TABLE];

    static {
      BigInteger mask64 = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
      BigInteger pow = BigInteger.ONE; // 5^i, one multiplication per entry
      for (int i = 0; i < Math.max(POW5_TABLE, POW5_INV_TABLE); i++, pow = pow.multiply(BigInteger.valueOf(5))) {
        if (i < POW5_TABLE) {
          int shift = pow.bitLength() - POW5_BITCOUNT;
          BigInteger v = shift > 0 ? pow.shiftRight(shift) : pow.shiftLeft(-shift);
          POW5_LO[i] = v.and(mask64).longValue();
          POW5_HI[i] = v.shiftRight(64).longValue();
        }
        if (i < POW5_INV_TABLE) {
          int j = pow.bitLength() - 1 + POW5_INV_BITCOUNT;
          BigInteger inv = BigInteger.ONE.shiftLeft(j).divide(pow).add(BigInteger.ONE);
          POW5_INV_LO[i] = inv.and(mask64).longValue();
          POW5_INV_HI[i] = inv.shiftRight(64).longValue();
        }
      }
    }
  }

  /** Sets {@link #digits} and {@link #exponent} to the shortest decimal of positive finite {@code a}. */
  void shortest(double a) {
    long bits = Double.doubleToRawLongBits(a);
    long ieeeMantissa = bits & ((1L << MANTISSA_BITS) - 1);
    int ieeeExponent = (int) ((bits >>> MANTISSA_BITS) & 0x7ff);
    int e2;
    long m2;
    if (ieeeExponent == 0) {
      e2 = 1 - BIAS - MANTISSA_BITS - 2;
      m2 = ieeeMantissa;
    } else {
      e2 = ieeeExponent - BIAS - MANTISSA_BITS - 2;
      m2 = (1L << MANTISSA_BITS) | ieeeMantissa;
    }
    boolean even = (m2 & 1) == 0;
    boolean acceptBounds = even;

    long mv = 4 * m2;
    int mmShift = (ieeeMantissa != 0 || ieeeExponent <= 1) ? 1 : 0;

    long vr;
    long vp;
    long vm;
    int e10;
    boolean vmIsTrailingZeros = false;
    boolean vrIsTrailingZeros = false;
    if (e2 >= 0) {
      int q = log10Pow2(e2) - (e2 > 3 ? 1 : 0);
      e10 = q;
      int k = POW5_INV_BITCOUNT + pow5bits(q) - 1;
      int i = -e2 + q + k;
      vr = mulShift64(4 * m2, Tables.POW5_INV_LO[q], Tables.POW5_INV_HI[q], i);
      vp = mulShift64(4 * m2 + 2, Tables.POW5_INV_LO[q], Tables.POW5_INV_HI[q], i);
      vm = mulShift64(4 * m2 - 1 - mmShift, Tables.POW5_INV_LO[q], Tables.POW5_INV_HI[q], i);
      if (q <= 21) {
        int mvMod5 = (int) (mv % 5);
        if (mvMod5 == 0) {
          vrIsTrailingZeros = multipleOfPowerOf5(mv, q);
        } else if (acceptBounds) {
          vmIsTrailingZeros = multipleOfPowerOf5(mv - 1 - mmShift, q);
        } else {
          vp -= multipleOfPowerOf5(mv + 2, q) ? 1 : 0;
        }
      }
    } else {
      int q = log10Pow5(-e2) - (-e2 > 1 ? 1 : 0);
      e10 = q + e2;
      int i = -e2 - q;
      int k = pow5bits(i) - POW5_BITCOUNT;
      int j = q - k;
      vr = mulShift64(4 * m2, Tables.POW5_LO[i], Tables.POW5_HI[i], j);
      vp = mulShift64(4 * m2 + 2, Tables.POW5_LO[i], Tables.POW5_HI[i], j);
      vm = mulShift64(4 * m2 - 1 - mmShift, Tables.POW5_LO[i], Tables.POW5_HI[i], j);
      if (q <= 1) {
        vrIsTrailingZeros = true;
        if (acceptBounds) {
          vmIsTrailingZeros = mmShift == 1;
        } else {
          --vp;
        }
      } else if (q < 63) {
        vrIsTrailingZeros = (mv & ((1L << q) - 1)) == 0;
      }
    }

    int removed = 0;
    int lastRemovedDigit = 0;
    long output;
    if (vmIsTrailingZeros || vrIsTrailingZeros) {
      while (vp / 10 > vm / 10) {
        vmIsTrailingZeros &= vm % 10 == 0;
        vrIsTrailingZeros &= lastRemovedDigit == 0;
        lastRemovedDigit = (int) (vr % 10);
        vr /= 10;
        vp /= 10;
        vm /= 10;
        removed++;
      }
      if (vmIsTrailingZeros) {
        while (vm % 10 == 0) {
          vrIsTrailingZeros &= lastRemovedDigit == 0;
          lastRemovedDigit = (int) (vr % 10);
          vr /= 10;
          vp /= 10;
          vm /= 10;
          removed++;
        }
      }
      if (vrIsTrailingZeros && lastRemovedDigit == 5 && vr % 2 == 0) {
        lastRemovedDigit = 4; // exactly halfway: round to even
      }
      output = vr + (((vr == vm && (!acceptBounds || !vmIsTrailingZeros)) || lastRemovedDigit >= 5) ? 1 : 0);
    } else {
      boolean roundUp = false;
      while (vp / 10 > vm / 10) {
        roundUp = vr % 10 >= 5;
        vr /= 10;
        vp /= 10;
        vm /= 10;
        removed++;
      }
      output = vr + ((vr == vm || roundUp) ? 1 : 0);
    }
    int exp = e10 + removed;
    while (output % 10 == 0) {
      output /= 10;
      exp++;
    }
    digits = output;
    exponent = exp;
  }

  /** Number of decimal digits of positive {@code v}. */
  static int digitCount(long v) {
    int n = 1;
    while (n < 19 && v >= POW10[n]) {
      n++;
    }
    return n;
  }

  private static final long[] POW10 = new long[19];

  static {
    POW10[0] = 1;
    for (int i = 1; i < POW10.length; i++) {
      POW10[i] = POW10[i - 1] * 10;
    }
  }

  private static int pow5bits(int e) {
    return ((e * 1217359) >>> 19) + 1;
  }

  private static int log10Pow2(int e) {
    return (e * 78913) >>> 18;
  }

  private static int log10Pow5(int e) {
    return (e * 732923) >>> 20;
  }

  private static boolean multipleOfPowerOf5(long value, int p) {
    int count = 0;
    while (value > 0 && value % 5 == 0) {
      value /= 5;
      count++;
    }
    return count >= p;
  }

  /** (m × (hi·2^64 + lo)) >> j for 64 < j < 128 and 0 <= m < 2^63. */
  private static long mulShift64(long m, long lo, long hi, int j) {
    long b0Hi = unsignedMultiplyHigh(m, lo);
    long b2Lo = m * hi;
    long b2Hi = unsignedMultiplyHigh(m, hi);
    long sumLo = b2Lo + b0Hi;
    long carry = Long.compareUnsigned(sumLo, b2Lo) < 0 ? 1 : 0;
    long sumHi = b2Hi + carry;
    int dist = j - 64;
    if (dist == 0) {
      return sumLo;
    }
    return (sumHi << (64 - dist)) | (sumLo >>> dist);
  }

  private static long unsignedMultiplyHigh(long a, long b) {
    return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
  }
}
