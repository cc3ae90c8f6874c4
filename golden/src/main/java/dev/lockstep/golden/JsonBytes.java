package dev.lockstep.golden;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Token boundaries in JSON bytes that {@link JsonSyntax} has already accepted (or that are our own
 * canonical output): no checks, only the scanning. Positions are byte offsets.
 */
final class JsonBytes {
  private JsonBytes() {}

  /**
   * End of the string whose opening quote is at {@code p} (the offset after the closing quote), or
   * its complement {@code ~end} when the string contains an escape. Eight bytes at a time while
   * eight remain before {@code len}, then byte by byte.
   */
  static int stringEnd(byte[] b, int p, int len) {
    p++;
    boolean escaped = false;
    while (true) {
      if (p <= len - 8) {
        long m = quoteOrBackslash(word(b, p));
        if (m == 0) {
          p += 8;
          continue;
        }
        p += Long.numberOfTrailingZeros(m) >>> 3;
      }
      byte c = b[p];
      if (c == '"') {
        return escaped ? ~(p + 1) : p + 1;
      }
      if (c == '\\') {
        escaped = true;
        p += 2;
      } else {
        p++;
      }
    }
  }

  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;

  /** The eight bytes {@code b[p, p + 8)}, the first one lowest. */
  static long word(byte[] b, int p) {
    return (long) LONGS.get(b, p);
  }

  /**
   * The bytes of {@code w} (from {@link #word}) that are {@code '"'} or a backslash, as their high
   * bits: the lowest set bit is exact (bits above it may be false), so
   * {@code numberOfTrailingZeros(m) >>> 3} is the offset of the first such byte.
   */
  static long quoteOrBackslash(long w) {
    return zeroBytes(w ^ 0x2222222222222222L) | zeroBytes(w ^ 0x5C5C5C5C5C5C5C5CL);
  }

  /**
   * The bytes of {@code w} that a JSON string cannot hold as they are (a quote, a backslash, a
   * control character) or that start or continue a multi-byte UTF-8 character, in the form
   * {@link #quoteOrBackslash} gives.
   */
  static long notPlain(long w) {
    long controls = (w - 0x2020202020202020L) & ~w & HIGHS;
    return (w & HIGHS) | controls | quoteOrBackslash(w);
  }

  /** The zero bytes of {@code w} as their high bits; the lowest set bit is exact. */
  private static long zeroBytes(long v) {
    return (v - ONES) & ~v & HIGHS;
  }

  /** End of the number at {@code p}. */
  static int numberEnd(byte[] b, int p, int len) {
    while (p < len) {
      byte c = b[p];
      if ((c >= '0' && c <= '9') || c == '-' || c == '.' || c == 'e' || c == 'E' || c == '+') {
        p++;
      } else {
        break;
      }
    }
    return p;
  }

  /**
   * End of the value at {@code p} (no leading whitespace). Large containers are looked up in
   * {@code layout}; others are scanned, brackets counted outside strings.
   */
  static int valueEnd(byte[] b, int p, int len, Layout layout) {
    byte c = b[p];
    switch (c) {
      case '"' -> {
        int e = stringEnd(b, p, len);
        return e < 0 ? ~e : e;
      }
      case '{', '[' -> {
        int known = layout.end(p);
        return known >= 0 ? known : containerEnd(b, p, len);
      }
      case 't', 'n' -> {
        return p + 4;
      }
      case 'f' -> {
        return p + 5;
      }
      default -> {
        return numberEnd(b, p, len);
      }
    }
  }

  /** End of the container at {@code p}, found by counting brackets outside strings. */
  static int containerEnd(byte[] b, int p, int len) {
    int depth = 0;
    while (true) {
      byte c = b[p];
      if (c == '"') {
        int e = stringEnd(b, p, len);
        p = e < 0 ? ~e : e;
        continue;
      }
      if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          return p + 1;
        }
      }
      p++;
    }
  }

  /** Skips whitespace: outside strings of valid JSON, every byte up to 0x20 is whitespace. */
  static int skipWs(byte[] b, int p, int len) {
    while (p < len && b[p] <= ' ' && b[p] >= 0) {
      p++;
    }
    return p;
  }

  /** The text of the string content {@code b[start, end)} (between the quotes), escapes decoded. */
  static String decode(byte[] b, int start, int end) {
    int slash = indexOf(b, start, end, (byte) '\\');
    if (slash < 0) {
      return new String(b, start, end - start, StandardCharsets.UTF_8);
    }
    StringBuilder sb = new StringBuilder(end - start);
    int p = start;
    while (p < end) {
      int q = indexOf(b, p, end, (byte) '\\');
      if (q < 0) {
        q = end;
      }
      if (q > p) {
        sb.append(new String(b, p, q - p, StandardCharsets.UTF_8));
      }
      if (q == end) {
        break;
      }
      byte e = b[q + 1];
      switch (e) {
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> {
          sb.append((char) hex4(b, q + 2));
          p = q + 6;
          continue;
        }
        default -> sb.append((char) e); // " \ /
      }
      p = q + 2;
    }
    return sb.toString();
  }

  static int hex4(byte[] b, int p) {
    return (JsonSyntax.hexValue(b[p]) << 12) | (JsonSyntax.hexValue(b[p + 1]) << 8)
        | (JsonSyntax.hexValue(b[p + 2]) << 4) | JsonSyntax.hexValue(b[p + 3]);
  }

  static int indexOf(byte[] b, int from, int to, byte x) {
    for (int i = from; i < to; i++) {
      if (b[i] == x) {
        return i;
      }
    }
    return -1;
  }

  /** Whether a number literal {@code b[start, end)} has neither fraction nor exponent. */
  static boolean isIntegerLiteral(byte[] b, int start, int end) {
    for (int i = start; i < end; i++) {
      byte c = b[i];
      if (c == '.' || c == 'e' || c == 'E') {
        return false;
      }
    }
    return true;
  }
}
