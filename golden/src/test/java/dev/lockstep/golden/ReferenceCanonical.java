package dev.lockstep.golden;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Test reference: the canonical form of docs/golden-format.md computed from a Jackson tree with
 * plain Java: Strings for names (sorted by {@code String.compareTo}, which is UTF-16 order), the
 * JDK's UTF-8 encoder, BigDecimal for exact integers and a BigDecimal search for ES6 digits. Shares
 * no code with the engine's byte-level canonicaliser, so the two check each other.
 */
final class ReferenceCanonical {
  private static final double TWO_POW_53 = 9007199254740992.0;
  static final ReferenceMask NOTHING = new ReferenceMask(Set.of(), List.of());

  private final ReferenceMask mask;
  private final ReferencePath path = new ReferencePath();
  private final StringBuilder out = new StringBuilder();

  private ReferenceCanonical(ReferenceMask mask, List<String> at) {
    this.mask = mask;
    for (String s : at) {
      path.pushKey(s);
    }
  }

  static String text(JsonNode node) {
    return text(node, NOTHING, List.of());
  }

  /** Canonical text of {@code node}, which sits at path {@code at} in its document. */
  static String text(JsonNode node, ReferenceMask mask, List<String> at) {
    ReferenceCanonical c = new ReferenceCanonical(mask, at);
    c.write(node);
    return c.out.toString();
  }

  static String hash(JsonNode node, ReferenceMask mask, List<String> at) {
    return sha256(text(node, mask, at).getBytes(StandardCharsets.UTF_8));
  }

  static String sha256(byte[] bytes) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
      StringBuilder sb = new StringBuilder("sha256:");
      for (byte x : d) {
        sb.append(String.format("%02x", x & 0xff));
      }
      return sb.toString();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The canonical form of a number node: exact integers; whole doubles below 1e21 exactly; else ES6. */
  static String number(JsonNode n) {
    if (n.isIntegralNumber()) {
      return n.bigIntegerValue().toString();
    }
    double d = n.doubleValue();
    if (d == 0) {
      return "0";
    }
    if (Math.abs(d) < 1e21 && d == Math.rint(d)) {
      return new BigDecimal(d).toBigInteger().toString();
    }
    return Es6Number.format(d);
  }

  private void write(JsonNode node) {
    switch (node.getNodeType()) {
      case OBJECT -> {
        List<String> keys = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
          String k = it.next();
          if (!mask.masks(path, k)) {
            keys.add(k);
          }
        }
        Collections.sort(keys);
        out.append('{');
        for (int i = 0; i < keys.size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          string(keys.get(i));
          out.append(':');
          path.pushKey(keys.get(i));
          write(node.get(keys.get(i)));
          path.pop();
        }
        out.append('}');
      }
      case ARRAY -> {
        out.append('[');
        for (int i = 0; i < node.size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          path.pushIndex(i);
          write(node.get(i));
          path.pop();
        }
        out.append(']');
      }
      case STRING -> string(node.textValue());
      case NUMBER -> out.append(number(node));
      case BOOLEAN -> out.append(node.booleanValue());
      case NULL -> out.append("null");
      default -> throw new IllegalArgumentException("not JSON data: " + node.getNodeType());
    }
  }

  private void string(String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  static boolean isExactInteger(double d) {
    return Math.abs(d) <= TWO_POW_53 && d == Math.rint(d);
  }
}
