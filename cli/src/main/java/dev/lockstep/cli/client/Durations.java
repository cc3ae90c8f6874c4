package dev.lockstep.cli.client;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as operators type them: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d}. */
public final class Durations {
  private static final Pattern SHORT = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  private Durations() {}

  /** @throws IllegalArgumentException with a one-line reason */
  public static Duration parse(String text) {
    String t = text == null ? "" : text.trim().toLowerCase();
    Matcher m = SHORT.matcher(t);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      switch (m.group(2)) {
        case "ms": return Duration.ofMillis(n);
        case "s": return Duration.ofSeconds(n);
        case "m": return Duration.ofMinutes(n);
        case "h": return Duration.ofHours(n);
        default: return Duration.ofDays(n);
      }
    }
    try {
      return Duration.parse(text.trim().toUpperCase());
    } catch (DateTimeParseException | NullPointerException e) {
      throw new IllegalArgumentException(
          "expected a duration like 500ms, 30s, 5m, 1h or 2d, got '" + text + "'");
    }
  }

  /** The shortest exact form: {@code 10s}, {@code 1h}, {@code 1500ms}. */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 86_400_000L == 0 && ms > 0) return ms / 86_400_000L + "d";
    if (ms % 3_600_000L == 0 && ms > 0) return ms / 3_600_000L + "h";
    if (ms % 60_000L == 0 && ms > 0) return ms / 60_000L + "m";
    if (ms % 1000L == 0) return ms / 1000L + "s";
    return ms + "ms";
  }
}
