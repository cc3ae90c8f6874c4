package dev.lockstep.golden;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Test reference: ECMAScript 6 {@code Number.prototype.toString()} for finite doubles (digits by
 * an exact BigDecimal search, not Ryū), as RFC 8785 requires: the
 * shortest decimal that rounds back to the same double (the closest one when several are as short),
 * in plain notation for 1e-6 &lt;= |v| &lt; 1e21 and exponent notation ({@code 1e+21}) otherwise.
 */
final class Es6Number {
  private Es6Number() {}

  private static final double TWO_POW_53 = 9007199254740992.0;

  static String format(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      throw new IllegalArgumentException("RFC 8785 has no form for " + v);
    }
    if (v == 0) {
      return "0"; // also -0
    }
    double a = Math.abs(v);
    if (a < TWO_POW_53 && a == Math.rint(a)) {
      return Long.toString((long) v);
    }
    Decimal d = shortest(a);
    StringBuilder sb = new StringBuilder(26);
    if (v < 0) {
      sb.append('-');
    }
    appendEs6(sb, d.digits, d.pointPos);
    return sb.toString();
  }

  /** Shortest digits without leading/trailing zeros; value = 0.digits × 10^pointPos. */
  record Decimal(String digits, int pointPos) {}

  static Decimal shortest(double a) {
    return shortestExact(a);
  }

  /** The engine's Ryū digits in the same form, to compare with {@link #shortestExact}. */
  static Decimal ryu(double a) {
    Ryu r = new Ryu();
    r.shortest(a);
    String digits = Long.toString(r.digits);
    return new Decimal(digits, r.exponent + digits.length());
  }

  /** Exact search with BigDecimal: correct for every finite positive double (slow path). */
  static Decimal shortestExact(double a) {
    BigDecimal exact = new BigDecimal(a);
    int from = a >= Double.MIN_NORMAL ? 15 : 1;
    for (int k = from; k <= 17; k++) {
      BigDecimal r = exact.round(new MathContext(k, RoundingMode.HALF_EVEN));
      BigDecimal best = null;
      if (roundTrips(r, a)) {
        best = r;
      } else if (k > 15 || a < Double.MIN_NORMAL) {
        // The nearest k-digit decimal may fall just outside an asymmetric rounding interval
        // (at a power of two) while its neighbour on the other side is still inside.
        BigDecimal ulp = r.ulp();
        BigDecimal lo = r.subtract(ulp);
        BigDecimal hi = r.add(ulp);
        boolean loOk = lo.signum() > 0 && lo.precision() <= k && roundTrips(lo, a);
        boolean hiOk = hi.precision() <= k && roundTrips(hi, a);
        if (loOk && hiOk) {
          best = exact.subtract(lo).abs().compareTo(hi.subtract(exact).abs()) <= 0 ? lo : hi;
        } else if (loOk) {
          best = lo;
        } else if (hiOk) {
          best = hi;
        }
      }
      if (best != null) {
        BigDecimal s = best.stripTrailingZeros();
        String digits = s.unscaledValue().toString();
        return new Decimal(digits, digits.length() - s.scale());
      }
    }
    throw new AssertionError("no round-tripping decimal for " + a);
  }

  private static boolean roundTrips(BigDecimal d, double a) {
    return Double.parseDouble(d.toString()) == a;
  }

  /** Parses Java's "1.234E-5" / "123.45" form of a positive double. */
  static Decimal fromJavaString(String s) {
    int e = s.indexOf('E');
    int exp = 0;
    String mant = s;
    if (e >= 0) {
      exp = Integer.parseInt(s.substring(e + 1));
      mant = s.substring(0, e);
    }
    int dot = mant.indexOf('.');
    String intPart = dot < 0 ? mant : mant.substring(0, dot);
    String frac = dot < 0 ? "" : mant.substring(dot + 1);
    String all = intPart + frac;
    int pointPos = intPart.length() + exp;
    int start = 0;
    while (start < all.length() - 1 && all.charAt(start) == '0') {
      start++;
      pointPos--;
    }
    int end = all.length();
    while (end > start + 1 && all.charAt(end - 1) == '0') {
      end--;
    }
    return new Decimal(all.substring(start, end), pointPos);
  }

  /** ES6 Number::toString steps 6-10 with k = digits.length, n = pointPos. */
  private static void appendEs6(StringBuilder sb, String digits, int n) {
    int k = digits.length();
    if (k <= n && n <= 21) {
      sb.append(digits);
      for (int i = 0; i < n - k; i++) {
        sb.append('0');
      }
    } else if (0 < n && n <= 21) {
      sb.append(digits, 0, n).append('.').append(digits, n, k);
    } else if (-6 < n && n <= 0) {
      sb.append("0.");
      for (int i = 0; i < -n; i++) {
        sb.append('0');
      }
      sb.append(digits);
    } else {
      sb.append(digits.charAt(0));
      if (k > 1) {
        sb.append('.').append(digits, 1, k);
      }
      int e = n - 1;
      sb.append('e').append(e < 0 ? '-' : '+').append(Math.abs(e));
    }
  }
}
