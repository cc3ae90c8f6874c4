package dev.lockstep.golden;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import dev.lockstep.golden.GoldenParseException.Code;
import java.io.IOException;

/**
 * Reads a golden file's bytes under limits, without recursion: strict UTF-8 is checked first, then
 * Jackson's streaming parser drives {@link JsonEvents}. Duplicate keys, excess depth, long strings,
 * NaN/Infinity, truncation and trailing content are refused. Every refusal is a
 * {@link GoldenParseException} naming the source, position and reason; nothing else escapes.
 */
final class StrictParser {
  private static final int MAX_NUMBER_LENGTH = 1000;
  private static final java.lang.invoke.VarHandle LONGS =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

  private final GoldenConfig.Limits limits;
  private final JsonFactory factory;

  StrictParser(GoldenConfig.Limits limits) {
    this.limits = limits;
    // Jackson's own limits sit just above ours so that our typed checks normally fire first.
    StreamReadConstraints constraints = StreamReadConstraints.builder()
        .maxNestingDepth(limits.maxDepth() + 1)
        .maxStringLength(saturatedPlusOne(limits.maxStringLength()))
        .maxNameLength(saturatedPlusOne(limits.maxStringLength()))
        .maxNumberLength(MAX_NUMBER_LENGTH)
        .maxDocumentLength(limits.maxBytes() + 1)
        .build();
    this.factory = JsonFactory.builder()
        .streamReadConstraints(constraints)
        .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // so NaN gets its own typed error
        .enable(com.fasterxml.jackson.core.StreamReadFeature.USE_FAST_DOUBLE_PARSER)
        .enable(com.fasterxml.jackson.core.StreamReadFeature.USE_FAST_BIG_NUMBER_PARSER)
        .build();
  }

  private static int saturatedPlusOne(int v) {
    return v == Integer.MAX_VALUE ? v : v + 1;
  }

  /** Reads {@code bytes} into a Jackson tree. */
  JsonNode readTree(byte[] bytes, String source) throws GoldenParseException {
    TreeBuilder builder = new TreeBuilder();
    parse(bytes, source, builder);
    return builder.root();
  }

  void parse(byte[] bytes, String source, JsonEvents events) throws GoldenParseException {
    if (bytes.length > limits.maxBytes()) {
      throw new GoldenParseException(source, 0, 0, Code.TOO_LARGE,
          "file is " + bytes.length + " bytes, over the limit of " + limits.maxBytes() + " bytes");
    }
    checkUtf8(bytes, source);
    try (JsonParser p = factory.createParser(bytes)) {
      walk(p, source, events);
    } catch (GoldenParseException e) {
      throw e;
    } catch (StreamConstraintsException e) {
      throw constraintError(e, source);
    } catch (JsonEOFException e) {
      throw at(source, e.getLocation(), Code.TRUNCATED, "unexpected end of input (file truncated?)");
    } catch (JsonProcessingException e) {
      if (atEndOfInput(e, bytes)) {
        throw at(source, e.getLocation(), Code.TRUNCATED, "unexpected end of input (file truncated?)");
      }
      throw at(source, e.getLocation(), Code.NOT_JSON, "not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new GoldenParseException(source, 0, 0, Code.IO, "cannot read: " + e.getMessage());
    } catch (RuntimeException e) {
      throw new GoldenParseException(source, 0, 0, Code.NOT_JSON, "not valid JSON: " + e);
    }
  }

  /** Whether the error is the input stopping mid-value (a cut-off literal like {@code tr} or {@code 1.}). */
  private static boolean atEndOfInput(JsonProcessingException e, byte[] bytes) {
    if (String.valueOf(e.getOriginalMessage()).contains("end-of-input")) {
      return true;
    }
    JsonLocation loc = e.getLocation();
    if (loc == null || loc.getByteOffset() < 0) {
      return false;
    }
    for (long i = loc.getByteOffset(); i < bytes.length; i++) {
      byte b = bytes[(int) i];
      boolean tokenChar = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
          || b == '.' || b == '-' || b == '+';
      if (!tokenChar) {
        return false;
      }
    }
    return true;
  }

  private void walk(JsonParser p, String source, JsonEvents events) throws IOException, GoldenParseException {
    JsonToken t = p.nextToken();
    if (t == null) {
      throw new GoldenParseException(source, 1, 1, Code.TRUNCATED, "file is empty");
    }
    if (t != JsonToken.START_OBJECT) {
      // Read the value fully first so junk is reported as NOT_JSON rather than NOT_AN_OBJECT.
      if (t == JsonToken.START_ARRAY) {
        p.skipChildren();
      }
      throw at(source, p.currentTokenLocation(), Code.NOT_AN_OBJECT,
          "a golden file must be a JSON object, found " + describe(t));
    }
    int maxDepth = limits.maxDepth();
    int maxString = limits.maxStringLength();
    Keys keys = new Keys();
    int depth = 1;
    events.startObject();
    keys.open(1);
    while (depth > 0) {
      t = p.nextToken();
      if (t == null) {
        throw at(source, p.currentLocation(), Code.TRUNCATED, "unexpected end of input (file truncated?)");
      }
      switch (t) {
        case FIELD_NAME -> {
          String key = p.currentName();
          if (!keys.add(depth, key)) {
            throw at(source, p.currentTokenLocation(), Code.DUPLICATE_KEY,
                "duplicate key \"" + abbreviate(key) + "\"");
          }
          events.key(key);
        }
        case END_OBJECT -> {
          depth--;
          events.endObject();
        }
        case END_ARRAY -> {
          depth--;
          events.endArray();
        }
        case START_OBJECT, START_ARRAY -> {
          if (depth >= maxDepth) {
            throw at(source, p.currentTokenLocation(), Code.TOO_DEEP,
                "nesting deeper than the limit of " + maxDepth);
          }
          depth++;
          if (t == JsonToken.START_OBJECT) {
            keys.open(depth);
            events.startObject();
          } else {
            events.startArray();
          }
        }
        case VALUE_STRING -> {
          int len = p.getTextLength();
          if (len > maxString) {
            throw at(source, p.currentTokenLocation(), Code.STRING_TOO_LONG,
                "string of " + len + " chars over the limit of " + maxString);
          }
          events.string(p.getTextCharacters(), p.getTextOffset(), len);
        }
        case VALUE_NUMBER_INT -> integer(p, source, events);
        case VALUE_NUMBER_FLOAT -> {
          if (p.isNaN()) {
            throw at(source, p.currentTokenLocation(), Code.NON_FINITE_NUMBER,
                "non-finite number " + p.getText() + " (JSON has no NaN or Infinity)");
          }
          double d = p.getDoubleValue();
          if (Double.isInfinite(d)) {
            throw at(source, p.currentTokenLocation(), Code.NON_FINITE_NUMBER,
                "number " + abbreviate(p.getText()) + " is out of the IEEE 754 double range");
          }
          events.decimal(d);
        }
        case VALUE_TRUE -> events.bool(true);
        case VALUE_FALSE -> events.bool(false);
        case VALUE_NULL -> events.nul();
        default -> throw at(source, p.currentTokenLocation(), Code.NOT_JSON, "unexpected " + t);
      }
    }
    JsonToken trailing;
    try {
      trailing = p.nextToken();
    } catch (StreamConstraintsException e) {
      throw e;
    } catch (JsonProcessingException e) {
      throw at(source, e.getLocation(), Code.NOT_JSON, "content after the end of the JSON object");
    }
    if (trailing != null) {
      throw at(source, p.currentTokenLocation(), Code.NOT_JSON,
          "content after the end of the JSON object");
    }
  }

  private void integer(JsonParser p, String source, JsonEvents events) throws IOException, GoldenParseException {
    switch (p.getNumberType()) {
      case INT, LONG -> events.integer(p.getLongValue());
      default -> {
        java.math.BigInteger big = p.getBigIntegerValue();
        if (Double.isInfinite(big.doubleValue())) {
          throw at(source, p.currentTokenLocation(), Code.NON_FINITE_NUMBER,
              "integer " + abbreviate(p.getText()) + " is out of the IEEE 754 double range");
        }
        events.bigInteger(big);
      }
    }
  }

  /** Member names seen in each open object, to refuse duplicates (small objects: a linear scan). */
  private static final class Keys {
    private java.util.ArrayList<java.util.ArrayList<String>> lists = new java.util.ArrayList<>();
    private java.util.ArrayList<java.util.HashSet<String>> sets = new java.util.ArrayList<>();

    void open(int depth) {
      while (lists.size() <= depth) {
        lists.add(new java.util.ArrayList<>());
        sets.add(null);
      }
      lists.get(depth).clear();
      java.util.HashSet<String> set = sets.get(depth);
      if (set != null) {
        set.clear();
      }
    }

    boolean add(int depth, String key) {
      java.util.ArrayList<String> list = lists.get(depth);
      if (list.size() < 16) {
        for (int i = 0; i < list.size(); i++) {
          if (list.get(i).equals(key)) {
            return false;
          }
        }
        list.add(key);
        return true;
      }
      java.util.HashSet<String> set = sets.get(depth);
      if (set == null) {
        set = new java.util.HashSet<>();
        sets.set(depth, set);
      }
      if (set.isEmpty()) {
        set.addAll(list);
      }
      return set.add(key);
    }
  }

  private static String describe(JsonToken t) {
    return switch (t) {
      case START_ARRAY -> "an array";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      default -> t.toString();
    };
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  private static GoldenParseException at(String source, JsonLocation loc, Code code, String reason) {
    long line = loc == null ? 0 : Math.max(0, loc.getLineNr());
    long col = loc == null ? 0 : Math.max(0, loc.getColumnNr());
    return new GoldenParseException(source, line, col, code, reason);
  }

  private GoldenParseException constraintError(StreamConstraintsException e, String source) {
    String msg = String.valueOf(e.getOriginalMessage());
    Code code;
    String reason;
    if (msg.contains("nesting depth")) {
      code = Code.TOO_DEEP;
      reason = "nesting deeper than the limit of " + limits.maxDepth();
    } else if (msg.contains("String value length") || msg.contains("Name length")) {
      code = Code.STRING_TOO_LONG;
      reason = "string over the limit of " + limits.maxStringLength() + " chars";
    } else if (msg.contains("Number value length")) {
      code = Code.NOT_JSON;
      reason = "number literal longer than " + MAX_NUMBER_LENGTH + " chars";
    } else if (msg.contains("Document length")) {
      code = Code.TOO_LARGE;
      reason = "document over the limit of " + limits.maxBytes() + " bytes";
    } else {
      code = Code.NOT_JSON;
      reason = "refused by parser limits: " + msg;
    }
    return at(source, e.getLocation(), code, reason);
  }

  // ---- strict UTF-8 -------------------------------------------------------------------------

  /** Rejects malformed, overlong, surrogate and out-of-range UTF-8, and NUL bytes. */
  static void checkUtf8(byte[] b, String source) throws GoldenParseException {
    int n = b.length;
    int i = 0;
    while (i < n) {
      // eight ASCII bytes at a time: no high bit set and no zero byte
      while (i + 8 <= n) {
        long v = (long) LONGS.get(b, i);
        long zero = (v - 0x0101010101010101L) & ~v & 0x8080808080808080L;
        if (((v & 0x8080808080808080L) | zero) != 0) {
          break;
        }
        i += 8;
      }
      if (i >= n) {
        break;
      }
      int c = b[i];
      if (c > 0) {
        i++;
        continue;
      }
      if (c == 0) {
        throw position(b, i, source, Code.NOT_JSON, "NUL byte (binary data?)");
      }
      c &= 0xff;
      int len;
      int min2 = 0x80;
      int max2 = 0xbf;
      if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
      } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) {
          min2 = 0xa0; // overlong
        } else if (c == 0xed) {
          max2 = 0x9f; // UTF-16 surrogates
        }
      } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) {
          min2 = 0x90; // overlong
        } else if (c == 0xf4) {
          max2 = 0x8f; // above U+10FFFF
        }
      } else {
        throw position(b, i, source, Code.INVALID_UTF8,
            String.format("invalid UTF-8: byte 0x%02x cannot start a character", c));
      }
      if (i + len > n) {
        throw position(b, i, source, Code.INVALID_UTF8, "invalid UTF-8: sequence cut off at end of file");
      }
      int c2 = b[i + 1] & 0xff;
      if (c2 < min2 || c2 > max2) {
        throw position(b, i, source, Code.INVALID_UTF8,
            String.format("invalid UTF-8: byte 0x%02x 0x%02x", c, c2));
      }
      for (int j = 2; j < len; j++) {
        int cj = b[i + j] & 0xff;
        if (cj < 0x80 || cj > 0xbf) {
          throw position(b, i, source, Code.INVALID_UTF8,
              String.format("invalid UTF-8: continuation byte expected, got 0x%02x", cj));
        }
      }
      i += len;
    }
  }

  private static GoldenParseException position(byte[] b, int offset, String source, Code code, String reason) {
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
        col++; // count characters, not continuation bytes
      }
    }
    return new GoldenParseException(source, line, col, code, reason + " at byte offset " + offset);
  }
}
