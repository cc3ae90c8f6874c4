package dev.lockstep.golden;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.golden.GoldenParseException.Code;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Test reference: reads a golden document into a Jackson tree under the v2 rules with an
 * implementation that shares nothing with the engine's byte parser: strict UTF-8 checked byte by
 * byte, Jackson's tokenizer, the JDK's {@code Double.parseDouble}. Integer literals become
 * BigInteger nodes (exact), other numbers double nodes. Refusals are GoldenParseExceptions with the
 * right code but no position. (String length limits are not checked here.)
 */
final class ReferenceParser {
  private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(false);

  private ReferenceParser() {}

  static JsonNode read(byte[] bytes, GoldenConfig.Limits limits) throws GoldenParseException {
    if (bytes.length > limits.maxBytes()) {
      throw refused(Code.TOO_LARGE);
    }
    checkUtf8(bytes);
    JsonFactory factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(Integer.MAX_VALUE)
            .maxNumberLength(Integer.MAX_VALUE).maxStringLength(Integer.MAX_VALUE)
            .maxNameLength(Integer.MAX_VALUE).maxDocumentLength(-1).build())
        .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
        .build();
    try (JsonParser p = factory.createParser(bytes)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        throw refused(Code.TRUNCATED);
      }
      JsonNode root = value(p, t, limits.maxDepth());
      if (p.nextToken() != null) {
        throw refused(Code.NOT_JSON);
      }
      if (!root.isObject()) {
        throw refused(Code.NOT_AN_OBJECT);
      }
      return root;
    } catch (JsonEOFException e) {
      throw refused(Code.TRUNCATED);
    } catch (JsonProcessingException e) {
      throw refused(e.getOriginalMessage().contains("end-of-input") ? Code.TRUNCATED : Code.NOT_JSON);
    } catch (IOException e) {
      throw refused(Code.IO);
    }
  }

  /** Reads one value whose first token is {@code first}, iteratively. */
  private static JsonNode value(JsonParser p, JsonToken first, int maxDepth) throws IOException, GoldenParseException {
    List<JsonNode> stack = new ArrayList<>();
    List<Set<String>> names = new ArrayList<>();
    List<String> pendingKey = new ArrayList<>();
    JsonNode root = null;
    JsonToken t = first;
    while (true) {
      JsonNode made = null;
      switch (t) {
        case START_OBJECT, START_ARRAY -> {
          if (stack.size() >= maxDepth) {
            throw refused(Code.TOO_DEEP);
          }
          JsonNode c = t == JsonToken.START_OBJECT ? NODES.objectNode() : NODES.arrayNode();
          attach(stack, pendingKey, c);
          if (root == null) {
            root = c;
          }
          stack.add(c);
          names.add(new HashSet<>());
          pendingKey.add(null);
        }
        case END_OBJECT, END_ARRAY -> {
          stack.remove(stack.size() - 1);
          names.remove(names.size() - 1);
          pendingKey.remove(pendingKey.size() - 1);
        }
        case FIELD_NAME -> {
          String k = p.currentName();
          checkSurrogates(k);
          if (!names.get(names.size() - 1).add(k)) {
            throw refused(Code.DUPLICATE_KEY);
          }
          pendingKey.set(pendingKey.size() - 1, k);
        }
        case VALUE_STRING -> {
          String s = p.getText();
          checkSurrogates(s);
          made = NODES.textNode(s);
        }
        case VALUE_NUMBER_INT -> made = NODES.numberNode(p.getBigIntegerValue());
        case VALUE_NUMBER_FLOAT -> made = NODES.numberNode(decimal(p));
        case VALUE_TRUE -> made = NODES.booleanNode(true);
        case VALUE_FALSE -> made = NODES.booleanNode(false);
        case VALUE_NULL -> made = NODES.nullNode();
        default -> throw refused(Code.NOT_JSON);
      }
      if (made != null) {
        attach(stack, pendingKey, made);
        if (root == null) {
          root = made;
        }
      }
      if (stack.isEmpty()) {
        return root;
      }
      t = p.nextToken();
      if (t == null) {
        throw refused(Code.TRUNCATED);
      }
    }
  }

  private static void attach(List<JsonNode> stack, List<String> pendingKey, JsonNode v) {
    if (stack.isEmpty()) {
      return;
    }
    JsonNode parent = stack.get(stack.size() - 1);
    if (parent.isObject()) {
      ((ObjectNode) parent).set(pendingKey.get(pendingKey.size() - 1), v);
    } else {
      ((ArrayNode) parent).add(v);
    }
  }

  private static double decimal(JsonParser p) throws IOException, GoldenParseException {
    String text = p.getText();
    if (p.isNaN() || text.contains("NaN") || text.contains("Infinity")) {
      throw refused(Code.NON_FINITE_NUMBER);
    }
    if (text.length() > 1000) {
      throw refused(Code.NOT_JSON);
    }
    double d = Double.parseDouble(text);
    if (Double.isInfinite(d)) {
      throw refused(Code.NON_FINITE_NUMBER);
    }
    String mantissa = text.split("[eE]")[0];
    if (d == 0 && mantissa.matches(".*[1-9].*")) {
      throw refused(Code.NON_FINITE_NUMBER);
    }
    return d;
  }

  private static void checkSurrogates(String s) throws GoldenParseException {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          throw refused(Code.INVALID_UTF8);
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        throw refused(Code.INVALID_UTF8);
      }
    }
  }

  /** Malformed, overlong, surrogate and out-of-range UTF-8, and NUL bytes, are refused. */
  private static void checkUtf8(byte[] b) throws GoldenParseException {
    int i = 0;
    while (i < b.length) {
      int c = b[i] & 0xff;
      if (c == 0) {
        throw refused(Code.NOT_JSON);
      }
      if (c < 0x80) {
        i++;
        continue;
      }
      int len;
      int cp;
      if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
      } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
      } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
      } else {
        throw refused(Code.INVALID_UTF8);
      }
      if (i + len > b.length) {
        throw refused(Code.INVALID_UTF8);
      }
      for (int j = 1; j < len; j++) {
        int cj = b[i + j] & 0xff;
        if ((cj & 0xc0) != 0x80) {
          throw refused(Code.INVALID_UTF8);
        }
        cp = (cp << 6) | (cj & 0x3f);
      }
      int min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        throw refused(Code.INVALID_UTF8);
      }
      i += len;
    }
  }

  private static GoldenParseException refused(Code code) {
    return new GoldenParseException("reference", 0, 0, code, "refused by the reference parser");
  }
}
