package dev.lockstep.agent.internal;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Number formatting for the agent's steady-state paths (probe summaries, spool file names, retry
 * messages) without {@link java.util.Formatter}: {@code String.format} with a locale other than
 * en-US (Locale.ROOT included) loads the JDK's CLDR locale data for the decimal separator and zero
 * digit, ~60 classes and ~0.2 MB of heap the agent then keeps. Same output as the format strings
 * they replace ({@code %.1f}, {@code %0Nd}).
 */
public final class Text {
  private Text() {}

  /** {@code String.format(Locale.ROOT, "%.1f", v)}: one decimal, half up, '.' separator. */
  public static String oneDecimal(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return Double.toString(v);
    }
    String s = new BigDecimal(Double.toString(v)).setScale(1, RoundingMode.HALF_UP).toPlainString();
    // a negative value that rounds to zero (and -0.0) keeps its sign, as in %.1f: "-0.0"
    return Double.doubleToRawLongBits(v) < 0 && s.charAt(0) != '-' ? "-" + s : s;
  }

  /** {@code String.format("%0" + width + "d", v)} for v >= 0 (spool sequence numbers): zero-padded to width digits. */
  public static String zeroPadded(long v, int width) {
    String s = Long.toString(v);
    if (v < 0 || s.length() >= width) {
      return s;
    }
    return "0".repeat(width - s.length()) + s;
  }
}
