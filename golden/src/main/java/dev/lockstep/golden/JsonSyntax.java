package dev.lockstep.golden;

import ch.randelshofer.fastdoubleparser.JsonDoubleParser;
import dev.lockstep.golden.GoldenParseException.Code;

/**
 * Checks a golden file's bytes in one pass, without recursion, against RFC 8259 and the golden
 * limits: strict UTF-8, nesting depth, string length, numbers (NaN/Infinity and literals outside
 * the double range refused; integers of any length accepted), lone surrogate escapes refused
 * (RFC 8785 §3.2.2.2), a single top-level object and nothing after it. The first problem in
 * document order is a {@link GoldenParseException} naming line, column and reason. Duplicate keys
 * are found later, by the canonicaliser's key sort ({@link Duplicates} names the first one).
 *
 * <p>While checking it records where every container of at least {@code bigBytes} ends
 * ({@link Layout}), so that later passes can trust the input and skip large values in O(1).
 */
final class JsonSyntax {
  /** Bytes a string holds as they are: ASCII from 0x20, but not '"' or '\\'. */
  private static final boolean[] PLAIN = new boolean[256];

  static {
    for (int c = 0x20; c < 0x80; c++) {
      PLAIN[c] = c != '"' && c != '\\';
    }
  }
  /** Decimal literals (with a fraction or exponent) longer than this are refused. */
  static final int MAX_DECIMAL_LENGTH = 1000;

  private static final int OBJECT = 1;
  private static final int ARRAY = 2;

  private final byte[] b;
  private final int len;
  private final String source;
  private final GoldenConfig.Limits limits;
  private final Layout layout;

  private JsonSyntax(byte[] b, int len, String source, GoldenConfig.Limits limits, Layout layout) {
    this.b = b;
    this.len = len;
    this.source = source;
    this.limits = limits;
    this.layout = layout;
  }

  /**
   * Checks {@code b[0, len)}; returns the layout of its containers of at least {@code bigBytes}.
   * @throws GoldenParseException for the first problem in document order
   */
  static Layout check(byte[] b, int len, String source, GoldenConfig.Limits limits, int bigBytes)
      throws GoldenParseException {
    if (len > limits.maxBytes()) {
      throw new GoldenParseException(source, 0, 0, Code.TOO_LARGE,
          "file is " + len + " bytes, over the limit of " + limits.maxBytes() + " bytes");
    }
    Layout layout = new Layout(bigBytes);
    new JsonSyntax(b, len, source, limits, layout).run();
    return layout;
  }

  // ---- the walk -----------------------------------------------------------------------------

  private void run() throws GoldenParseException {
    int p = skipWs(b, 0, len);
    if (p >= len) {
      throw error(p, Code.TRUNCATED, "file is empty");
    }
    int rootStart = p;
    int maxDepth = limits.maxDepth();
    byte[] kinds = new byte[Math.min(maxDepth, 64) + 1];
    int[] starts = new int[kinds.length];
    int depth = 0;
    boolean afterValue = false;
    while (true) {
      if (afterValue) {
        if (depth == 0) {
          break;
        }
        p = skipWs(b, p, len);
        if (p >= len) {
          throw error(p, Code.TRUNCATED, "unexpected end of input (file truncated?)");
        }
        byte c = b[p];
        boolean object = kinds[depth] == OBJECT;
        if (c == ',') {
          p++;
          if (object) {
            p = key(p);
          }
          afterValue = false;
          continue;
        }
        if (c == (object ? '}' : ']')) {
          p++;
          int start = starts[depth];
          if (p - start >= layout.bigBytes()) {
            layout.put(start, p);
          }
          depth--;
          continue;
        }
        throw unexpected(p, object ? "',' or '}' after an object member" : "',' or ']' after an array element");
      }
      // a value
      p = skipWs(b, p, len);
      if (p >= len) {
        throw error(p, Code.TRUNCATED, "unexpected end of input (file truncated?)");
      }
      byte c = b[p];
      if (c == '{' || c == '[') {
        if (depth >= maxDepth) {
          throw error(p, Code.TOO_DEEP, "nesting deeper than the limit of " + maxDepth);
        }
        depth++;
        if (depth >= kinds.length) {
          int n = Math.min(maxDepth + 1, kinds.length * 2);
          kinds = java.util.Arrays.copyOf(kinds, n);
          starts = java.util.Arrays.copyOf(starts, n);
        }
        starts[depth] = p;
        int q = skipWs(b, p + 1, len);
        if (c == '{') {
          kinds[depth] = OBJECT;
          if (q < len && b[q] == '}') {
            p = q;
            afterValue = true; // the '}' is consumed by the after-value step
            continue;
          }
          p = key(p + 1);
        } else {
          kinds[depth] = ARRAY;
          if (q < len && b[q] == ']') {
            p = q;
            afterValue = true;
            continue;
          }
          p = p + 1;
        }
        continue;
      }
      if (c == '"') {
        p = string(p);
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        p = number(p);
      } else if (c == 't') {
        p = literal(p, "true");
      } else if (c == 'f') {
        p = literal(p, "false");
      } else if (c == 'n') {
        p = literal(p, "null");
      } else if (c == 'N' || c == 'I') {
        throw nonFinite(p);
      } else {
        throw unexpected(p, "a JSON value");
      }
      afterValue = true;
    }
    if (b[rootStart] != '{') {
      throw error(rootStart, Code.NOT_AN_OBJECT, "a golden file must be a JSON object, found " + describe(b[rootStart]));
    }
    int q = skipWs(b, p, len);
    if (q < len) {
      throw error(q, Code.NOT_JSON, "content after the end of the JSON object");
    }
  }

  /** A member name at or after {@code p}, then ':'; returns the position after the ':'. */
  private int key(int p) throws GoldenParseException {
    p = skipWs(b, p, len);
    if (p >= len) {
      throw error(p, Code.TRUNCATED, "unexpected end of input (file truncated?)");
    }
    if (b[p] != '"') {
      throw unexpected(p, "a member name in double quotes");
    }
    p = skipWs(b, string(p), len);
    if (p >= len) {
      throw error(p, Code.TRUNCATED, "unexpected end of input (file truncated?)");
    }
    if (b[p] != ':') {
      throw unexpected(p, "':' after a member name");
    }
    return p + 1;
  }

  // ---- tokens -------------------------------------------------------------------------------

  /** A string starting at the quote at {@code start}; returns the position after its closing quote. */
  private int string(int start) throws GoldenParseException {
    int p = start + 1;
    while (true) {
      while (p <= len - 8) {
        long m = JsonBytes.notPlain(JsonBytes.word(b, p));
        if (m != 0) {
          p += Long.numberOfTrailingZeros(m) >>> 3;
          break;
        }
        p += 8;
      }
      while (p < len && PLAIN[b[p] & 0xff]) {
        p++;
      }
      if (p >= len) {
        throw error(start, Code.TRUNCATED, "unterminated string (file truncated?)");
      }
      int c = b[p] & 0xff;
      if (c == '"') {
        p++;
        if (p - start - 2 > limits.maxStringLength()) {
          throw error(start, Code.STRING_TOO_LONG, "string of " + (p - start - 2)
              + " bytes over the limit of " + limits.maxStringLength());
        }
        return p;
      }
      if (c == '\\') {
        p = escape(p);
      } else if (c >= 0x80) {
        p = utf8(p);
      } else if (c < 0x20) {
        if (c == 0) {
          throw error(p, Code.NOT_JSON, "NUL byte (binary data?) at byte offset " + p);
        }
        throw error(p, Code.NOT_JSON, String.format("control character U+%04X must be escaped in a string", c));
      } else {
        p++;
      }
    }
  }

  /** An escape at {@code p} (the backslash); returns the position after it (after a pair's low half). */
  private int escape(int p) throws GoldenParseException {
    if (p + 1 >= len) {
      throw error(p, Code.TRUNCATED, "unterminated string (file truncated?)");
    }
    byte e = b[p + 1];
    switch (e) {
      case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> {
        return p + 2;
      }
      case 'u' -> {
        int u = hex4(p);
        if (u >= 0xDC00 && u <= 0xDFFF) {
          throw error(p, Code.INVALID_UTF8, String.format(
              "lone surrogate \\u%04x in a string (a low surrogate without a high one; RFC 8785 refuses it)", u));
        }
        if (u >= 0xD800 && u <= 0xDBFF) {
          int q = p + 6;
          if (q + 1 < len && b[q] == '\\' && b[q + 1] == 'u') {
            int low = hex4(q);
            if (low >= 0xDC00 && low <= 0xDFFF) {
              return q + 6;
            }
          } else if (q + 1 >= len && (q >= len || b[q] == '\\')) {
            throw error(p, Code.TRUNCATED, "unterminated string (file truncated?)");
          }
          throw error(p, Code.INVALID_UTF8, String.format(
              "lone surrogate \\u%04x in a string (a high surrogate without a low one; RFC 8785 refuses it)", u));
        }
        return p + 6;
      }
      default -> throw error(p, Code.NOT_JSON, e > 0x20 && e < 0x7f ? "invalid escape \\" + (char) e + " in a string"
          : "invalid escape: a backslash followed by " + printable(e) + " in a string");
    }
  }

  private int hex4(int p) throws GoldenParseException {
    if (p + 6 > len) {
      throw error(p, Code.TRUNCATED, "unterminated string (file truncated?)");
    }
    int v = 0;
    for (int i = p + 2; i < p + 6; i++) {
      int d = hexValue(b[i]);
      if (d < 0) {
        throw error(p, Code.NOT_JSON, "invalid \\u escape: four hex digits expected");
      }
      v = (v << 4) | d;
    }
    return v;
  }

  static int hexValue(byte c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  /** A multi-byte UTF-8 sequence at {@code p}; returns the position after it. */
  private int utf8(int p) throws GoldenParseException {
    int n = utf8Length(b, p, len);
    if (n > 0) {
      return p + n;
    }
    throw error(p, Code.INVALID_UTF8, utf8Problem(b, p, len) + " at byte offset " + p);
  }

  /** Length of the valid multi-byte UTF-8 sequence at {@code p}, or 0 when it is not valid. */
  static int utf8Length(byte[] b, int p, int len) {
    int c = b[p] & 0xff;
    int n;
    int min2 = 0x80;
    int max2 = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c == 0xe0) {
        min2 = 0xa0; // overlong
      } else if (c == 0xed) {
        max2 = 0x9f; // UTF-16 surrogates
      }
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c == 0xf0) {
        min2 = 0x90; // overlong
      } else if (c == 0xf4) {
        max2 = 0x8f; // above U+10FFFF
      }
    } else {
      return 0;
    }
    if (p + n > len) {
      return 0;
    }
    int c2 = b[p + 1] & 0xff;
    if (c2 < min2 || c2 > max2) {
      return 0;
    }
    for (int j = 2; j < n; j++) {
      int cj = b[p + j] & 0xff;
      if (cj < 0x80 || cj > 0xbf) {
        return 0;
      }
    }
    return n;
  }

  private static String utf8Problem(byte[] b, int p, int len) {
    int c = b[p] & 0xff;
    boolean lead = c >= 0xc2 && c <= 0xf4;
    if (!lead) {
      return String.format("invalid UTF-8: byte 0x%02x cannot start a character", c);
    }
    int n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (p + n > len) {
      return "invalid UTF-8: sequence cut off at end of file";
    }
    return String.format("invalid UTF-8: byte 0x%02x 0x%02x", c, b[p + 1] & 0xff);
  }

  /** A number at {@code start}; returns the position after it. */
  private int number(int start) throws GoldenParseException {
    int p = start;
    if (b[p] == '-') {
      p++;
      if (p >= len) {
        throw error(start, Code.TRUNCATED, "unexpected end of input in a number (file truncated?)");
      }
      if (b[p] == 'I') {
        throw nonFinite(start);
      }
    }
    byte c = b[p];
    if (c == '0') {
      p++;
    } else if (c >= '1' && c <= '9') {
      p++;
      while (p < len && isDigit(b[p])) {
        p++;
      }
    } else {
      throw error(start, Code.NOT_JSON, "invalid number: a digit must follow '-'");
    }
    boolean decimal = false;
    boolean exponent = false;
    if (p < len && b[p] == '.') {
      decimal = true;
      p = digits(start, p + 1, "a digit after the decimal point");
    }
    if (p < len && (b[p] == 'e' || b[p] == 'E')) {
      decimal = true;
      exponent = true;
      p++;
      if (p < len && (b[p] == '+' || b[p] == '-')) {
        p++;
      }
      p = digits(start, p, "a digit in the exponent");
    }
    if (p < len && !isDelimiter(b[p])) {
      if (isDigit(b[p])) {
        throw error(start, Code.NOT_JSON, "invalid number: leading zeros are not allowed");
      }
      throw error(start, Code.NOT_JSON, "invalid number " + abbreviate(start, p + 1));
    }
    if (decimal) {
      int length = p - start;
      if (length > MAX_DECIMAL_LENGTH) {
        throw error(start, Code.NOT_JSON, "number literal of " + length + " characters, longer than "
            + MAX_DECIMAL_LENGTH + " (only integers may be longer)");
      }
      if (exponent || length > 300) {
        checkRange(start, p);
      }
    }
    return p;
  }

  private int digits(int start, int p, String what) throws GoldenParseException {
    if (p >= len) {
      throw error(start, Code.TRUNCATED, "unexpected end of input in a number (file truncated?)");
    }
    if (!isDigit(b[p])) {
      throw error(start, Code.NOT_JSON, "invalid number: expected " + what);
    }
    while (p < len && isDigit(b[p])) {
      p++;
    }
    return p;
  }

  /** Refuses a decimal literal whose nearest double is infinite, or zero for a nonzero literal. */
  private void checkRange(int start, int end) throws GoldenParseException {
    double d = JsonDoubleParser.parseDouble(b, start, end - start);
    if (Double.isInfinite(d)) {
      throw error(start, Code.NON_FINITE_NUMBER, "number " + abbreviate(start, end)
          + " is out of the IEEE 754 double range");
    }
    if (d == 0 && hasNonZeroDigit(b, start, end)) {
      throw error(start, Code.NON_FINITE_NUMBER, "number " + abbreviate(start, end)
          + " is below the IEEE 754 double range (it would read as 0)");
    }
  }

  /** Whether the significand (the part before any exponent) has a digit other than 0. */
  static boolean hasNonZeroDigit(byte[] b, int start, int end) {
    for (int i = start; i < end; i++) {
      byte c = b[i];
      if (c == 'e' || c == 'E') {
        return false;
      }
      if (c >= '1' && c <= '9') {
        return true;
      }
    }
    return false;
  }

  private int literal(int p, String word) throws GoldenParseException {
    int n = word.length();
    for (int i = 0; i < n; i++) {
      if (p + i >= len) {
        throw error(p, Code.TRUNCATED, "unexpected end of input in '" + word + "' (file truncated?)");
      }
      if (b[p + i] != word.charAt(i)) {
        throw unexpected(p, "a JSON value");
      }
    }
    if (p + n < len && !isDelimiter(b[p + n])) {
      throw error(p, Code.NOT_JSON, "unexpected " + abbreviate(p, p + n + 1) + ": expected a JSON value");
    }
    return p + n;
  }

  // ---- helpers ------------------------------------------------------------------------------

  static boolean isDigit(byte c) {
    return c >= '0' && c <= '9';
  }

  static boolean isWs(byte c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
  }

  private static boolean isDelimiter(byte c) {
    return c == ',' || c == '}' || c == ']' || isWs(c);
  }

  static int skipWs(byte[] b, int p, int len) {
    while (p < len) {
      byte c = b[p];
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        p++;
      } else {
        break;
      }
    }
    return p;
  }

  private GoldenParseException nonFinite(int p) {
    int end = p + (b[p] == '-' ? 1 : 0);
    while (end < len && end - p < 12 && ((b[end] >= 'a' && b[end] <= 'z') || (b[end] >= 'A' && b[end] <= 'Z'))) {
      end++;
    }
    return error(p, Code.NON_FINITE_NUMBER, "non-finite number " + abbreviate(p, end) + " (JSON has no NaN or Infinity)");
  }

  private GoldenParseException unexpected(int p, String expected) {
    int c = b[p] & 0xff;
    if (c == 0) {
      return error(p, Code.NOT_JSON, "NUL byte (binary data?) at byte offset " + p);
    }
    if (c >= 0x80) {
      int n = utf8Length(b, p, len);
      if (n == 0) {
        return error(p, Code.INVALID_UTF8, utf8Problem(b, p, len) + " at byte offset " + p);
      }
      String ch = new String(b, p, n, java.nio.charset.StandardCharsets.UTF_8);
      return error(p, Code.NOT_JSON, "unexpected '" + ch + "' (U+" + String.format("%04X", ch.codePointAt(0))
          + "): expected " + expected);
    }
    return error(p, Code.NOT_JSON, "unexpected " + printable((byte) c) + ": expected " + expected);
  }

  private static String printable(byte c) {
    if (c >= 0x20 && c < 0x7f) {
      return "'" + (char) c + "'";
    }
    return String.format("character U+%04X", c & 0xff);
  }

  private static String describe(byte c) {
    return switch (c) {
      case '[' -> "an array";
      case '"' -> "a string";
      case 't', 'f' -> "a boolean";
      case 'n' -> "null";
      default -> "a number";
    };
  }

  private String abbreviate(int from, int to) {
    int end = Math.min(to, from + 40);
    String s = new String(b, from, end - from, java.nio.charset.StandardCharsets.UTF_8);
    return end < to ? s + "..." : s;
  }

  private GoldenParseException error(int offset, Code code, String reason) {
    return at(b, Math.min(offset, len), source, code, reason);
  }

  /** An error at byte {@code offset}: 1-based line, and column counted in characters. */
  static GoldenParseException at(byte[] b, int offset, String source, Code code, String reason) {
    long line = 1;
    int lineStart = 0;
    for (int i = 0; i < offset; i++) {
      if (b[i] == '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    long col = 1;
    for (int i = lineStart; i < offset; i++) {
      if ((b[i] & 0xc0) != 0x80) {
        col++;
      }
    }
    return new GoldenParseException(source, line, col, code, reason);
  }
}
