package dev.lockstep.golden;

import java.util.Arrays;

/**
 * Canonical strings (RFC 8785 §3.2.2.2) straight from UTF-8 JSON bytes: a string without escapes
 * is copied as it is (the validator has checked its UTF-8 and that it has no control characters);
 * escapes are decoded and only {@code "}, {@code \} and control characters are written escaped
 * ({@code \b \t \n \f \r} or {@code \}{@code u00xx} in lower case). Also the member-name order of
 * RFC 8785 §3.2.3: UTF-16 code units, computed on UTF-8 bytes.
 */
final class CanonicalString {
  private CanonicalString() {}

  private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /**
   * Writes the canonical form (with quotes) of the string token {@code src[start, end)} (quotes
   * included) that has escapes; returns the position after it. The canonical form is never longer
   * than the token.
   */
  static int writeEscaped(byte[] src, int start, int end, byte[] out, int pos) {
    out[pos++] = '"';
    int p = start + 1;
    int close = end - 1;
    while (p < close) {
      int q = p;
      while (q < close && src[q] != '\\') {
        q++;
      }
      System.arraycopy(src, p, out, pos, q - p);
      pos += q - p;
      if (q == close) {
        break;
      }
      byte e = src[q + 1];
      if (e != 'u') {
        switch (e) {
          case '/' -> out[pos++] = '/';
          default -> { // " \ b f n r t stay as they are
            out[pos++] = '\\';
            out[pos++] = e;
          }
        }
        p = q + 2;
        continue;
      }
      int u = JsonBytes.hex4(src, q + 2);
      p = q + 6;
      if (u < 0x80) {
        pos = writeAscii(u, out, pos);
      } else if (u < 0x800) {
        out[pos++] = (byte) (0xc0 | (u >> 6));
        out[pos++] = (byte) (0x80 | (u & 0x3f));
      } else if (u >= 0xD800 && u <= 0xDBFF) { // the validator saw its low half follow
        int low = JsonBytes.hex4(src, p + 2);
        p += 6;
        int cp = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
        out[pos++] = (byte) (0xf0 | (cp >> 18));
        out[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
        out[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
        out[pos++] = (byte) (0x80 | (cp & 0x3f));
      } else {
        out[pos++] = (byte) (0xe0 | (u >> 12));
        out[pos++] = (byte) (0x80 | ((u >> 6) & 0x3f));
        out[pos++] = (byte) (0x80 | (u & 0x3f));
      }
    }
    out[pos++] = '"';
    return pos;
  }

  /** An ASCII character from a {@code \}{@code u} escape, escaped as RFC 8785 wants it. */
  private static int writeAscii(int c, byte[] out, int pos) {
    if (c >= 0x20 && c != '"' && c != '\\') {
      out[pos++] = (byte) c;
      return pos;
    }
    out[pos++] = '\\';
    switch (c) {
      case '"' -> out[pos++] = '"';
      case '\\' -> out[pos++] = '\\';
      case '\b' -> out[pos++] = 'b';
      case '\f' -> out[pos++] = 'f';
      case '\n' -> out[pos++] = 'n';
      case '\r' -> out[pos++] = 'r';
      case '\t' -> out[pos++] = 't';
      default -> {
        out[pos++] = 'u';
        out[pos++] = '0';
        out[pos++] = '0';
        out[pos++] = HEX[c >> 4];
        out[pos++] = HEX[c & 0xf];
      }
    }
    return pos;
  }

  /**
   * Compares two member names by RFC 8785 order (UTF-16 code units). Each is given by its JSON
   * text {@code [start, end)} without the quotes, which may contain escapes ({@code escA},
   * {@code escB}). UTF-8 byte order is code point order; it differs from UTF-16 order only between
   * a supplementary character (4 bytes, lead F0-F4) and U+E000..U+FFFF (3 bytes, lead EE-EF), which
   * is fixed up at the first differing byte.
   */
  static int compareKeys(byte[] a, int aStart, int aEnd, boolean escA, byte[] b, int bStart, int bEnd,
      boolean escB) {
    if (escA || escB) {
      return compareUnits(a, aStart, aEnd, b, bStart, bEnd);
    }
    int i = Arrays.mismatch(a, aStart, aEnd, b, bStart, bEnd);
    if (i < 0) {
      return 0;
    }
    int la = aEnd - aStart;
    int lb = bEnd - bStart;
    if (i >= la || i >= lb) {
      return la - lb;
    }
    int x = a[aStart + i] & 0xff;
    int y = b[bStart + i] & 0xff;
    if ((x >= 0xf0 && y >= 0xee && y <= 0xef) || (y >= 0xf0 && x >= 0xee && x <= 0xef)) {
      return y - x; // a surrogate pair sorts below U+E000..U+FFFF in UTF-16
    }
    return x - y;
  }

  /** Compares by UTF-16 code units, decoding escapes and UTF-8 on the fly (names with escapes). */
  private static int compareUnits(byte[] a, int aStart, int aEnd, byte[] b, int bStart, int bEnd) {
    Units ua = new Units(a, aStart, aEnd);
    Units ub = new Units(b, bStart, bEnd);
    while (true) {
      int x = ua.next();
      int y = ub.next();
      if (x != y || x < 0) {
        return x - y;
      }
    }
  }

  /** Whether two member names (JSON text without quotes, with escapes marked) are the same string. */
  static boolean sameKey(byte[] a, int aStart, int aEnd, boolean escA, byte[] b, int bStart, int bEnd,
      boolean escB) {
    if (!escA && !escB) {
      return Arrays.equals(a, aStart, aEnd, b, bStart, bEnd);
    }
    return compareUnits(a, aStart, aEnd, b, bStart, bEnd) == 0;
  }

  /** The UTF-16 code units of a JSON string's text, one at a time; -1 at the end. */
  private static final class Units {
    private final byte[] b;
    private int p;
    private final int end;
    private int pendingLow = -1;

    Units(byte[] b, int start, int end) {
      this.b = b;
      this.p = start;
      this.end = end;
    }

    int next() {
      if (pendingLow >= 0) {
        int low = pendingLow;
        pendingLow = -1;
        return low;
      }
      if (p >= end) {
        return -1;
      }
      int c = b[p] & 0xff;
      if (c == '\\') {
        byte e = b[p + 1];
        p += 2;
        switch (e) {
          case 'b': return '\b';
          case 'f': return '\f';
          case 'n': return '\n';
          case 'r': return '\r';
          case 't': return '\t';
          case 'u':
            int u = JsonBytes.hex4(b, p);
            p += 4;
            return u; // a surrogate pair arrives as two escapes, each a code unit
          default: return e;
        }
      }
      if (c < 0x80) {
        p++;
        return c;
      }
      int cp;
      if (c < 0xe0) {
        cp = ((c & 0x1f) << 6) | (b[p + 1] & 0x3f);
        p += 2;
      } else if (c < 0xf0) {
        cp = ((c & 0x0f) << 12) | ((b[p + 1] & 0x3f) << 6) | (b[p + 2] & 0x3f);
        p += 3;
      } else {
        cp = ((c & 0x07) << 18) | ((b[p + 1] & 0x3f) << 12) | ((b[p + 2] & 0x3f) << 6) | (b[p + 3] & 0x3f);
        p += 4;
        pendingLow = Character.lowSurrogate(cp);
        return Character.highSurrogate(cp);
      }
      return cp;
    }
  }

  /**
   * The canonical content (between the quotes) of a member name with escapes, written into
   * {@code out}; returns its length. Used to match names against mask and mapping segments.
   */
  static int canonicalContent(byte[] src, int start, int end, byte[] out) {
    int n = writeEscaped(src, start - 1, end + 1, out, 0);
    System.arraycopy(out, 1, out, 0, n - 2);
    return n - 2;
  }

  /** The canonical content bytes (between the quotes) of {@code s}, e.g. a configured name. */
  static byte[] content(String s) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(s.length() + 8);
    byte[] esc = new byte[6];
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      if (cp < 0x80) {
        int n = writeAscii(cp, esc, 0);
        out.write(esc, 0, n);
      } else {
        out.writeBytes(new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    return out.toByteArray();
  }
}
