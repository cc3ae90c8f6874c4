package dev.lockstep.golden;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * RFC 8785 (JCS) serialisation of a Jackson tree with masked members left out, streamed through a
 * small buffer into a digest (or a byte array) so large documents never become one big String.
 * Invariant: equal masked content gives equal bytes, whatever the key order, number spelling or
 * string escapes of the input.
 */
final class Canonical {
  /** Where canonical bytes go. */
  interface Sink {
    void accept(byte[] bytes, int offset, int length);
  }

  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final double TWO_POW_53 = 9007199254740992.0;

  private final Mask mask;
  private final PathStack path = new PathStack();
  private final byte[] buf;
  private int pos;
  private Sink sink;
  private Sink tee;
  private JsonNode teeArray;
  private List<MessageDigest> teeDigests;

  Canonical(Mask mask) {
    this(mask, 1 << 15);
  }

  private Canonical(Mask mask, int bufferBytes) {
    this.mask = mask;
    this.buf = new byte[bufferBytes];
  }

  // ---- entry points -------------------------------------------------------------------------

  private static final Mask NOTHING = new Mask(java.util.Set.of(), List.of());

  /** Canonical text of {@code node} with nothing masked. */
  static String toText(JsonNode node) {
    return toText(node, NOTHING);
  }

  static String toText(JsonNode node, Mask mask) {
    switch (node.getNodeType()) {
      case NULL:
        return "null";
      case BOOLEAN:
        return node.booleanValue() ? "true" : "false";
      case NUMBER:
        if (node.isIntegralNumber() && node.canConvertToLong()
            && Math.abs((double) node.longValue()) < TWO_POW_53) {
          return Long.toString(node.longValue());
        }
        return Es6Number.format(node.doubleValue());
      default:
        return new String(toBytes(node, mask), StandardCharsets.UTF_8);
    }
  }

  static byte[] toBytes(JsonNode node, Mask mask) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Canonical c = new Canonical(mask, node.isContainerNode() ? 1 << 12 : 256);
    c.sink = out::write;
    c.write(node);
    c.flush();
    return out.toByteArray();
  }

  /** SHA-256 of the canonical bytes of {@code node}, which sits at {@code at} in its document. */
  String hash(JsonNode node, List<String> at) {
    MessageDigest md = sha256();
    reset(at);
    sink = md::update;
    write(node);
    flush();
    return format(md);
  }

  /** Hashes of a document and of each element of {@code stepsArray} (one pass over the bytes). */
  record DocumentHashes(String document, List<String> steps) {}

  DocumentHashes hashDocument(JsonNode root, JsonNode stepsArray) {
    MessageDigest md = sha256();
    reset(List.of());
    sink = md::update;
    teeArray = stepsArray != null && stepsArray.isArray() ? stepsArray : null;
    teeDigests = new ArrayList<>();
    write(root);
    flush();
    List<String> steps = new ArrayList<>(teeDigests.size());
    for (MessageDigest d : teeDigests) {
      steps.add(format(d));
    }
    teeArray = null;
    return new DocumentHashes(format(md), steps);
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }

  static String format(MessageDigest md) {
    byte[] d = md.digest();
    byte[] out = new byte[7 + d.length * 2];
    System.arraycopy("sha256:".getBytes(StandardCharsets.US_ASCII), 0, out, 0, 7);
    for (int i = 0; i < d.length; i++) {
      out[7 + 2 * i] = HEX[(d[i] >> 4) & 0xf];
      out[8 + 2 * i] = HEX[d[i] & 0xf];
    }
    return new String(out, StandardCharsets.US_ASCII);
  }

  // ---- writing ------------------------------------------------------------------------------

  private void reset(List<String> at) {
    pos = 0;
    tee = null;
    while (path.depth() > 0) {
      path.pop();
    }
    for (String s : at) {
      path.pushKey(s);
    }
  }

  private void write(JsonNode node) {
    switch (node.getNodeType()) {
      case OBJECT -> writeObject(node);
      case ARRAY -> writeArray(node);
      case STRING -> writeString(node.textValue());
      case NUMBER -> writeNumber(node);
      case BOOLEAN -> writeAscii(node.booleanValue() ? "true" : "false");
      case NULL -> writeAscii("null");
      default -> throw new IllegalArgumentException("not JSON data: " + node.getNodeType());
    }
  }

  private void writeObject(JsonNode node) {
    int n = node.size();
    String[] keys = new String[n];
    int k = 0;
    boolean checkMask = !mask.isEmpty();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!checkMask || !mask.masks(path, key)) {
        keys[k++] = key;
      }
    }
    if (k > 1) {
      Arrays.sort(keys, 0, k); // String order is UTF-16 code unit order, as RFC 8785 requires
    }
    put((byte) '{');
    for (int i = 0; i < k; i++) {
      if (i > 0) {
        put((byte) ',');
      }
      writeString(keys[i]);
      put((byte) ':');
      path.pushKey(keys[i]);
      write(node.get(keys[i]));
      path.pop();
    }
    put((byte) '}');
  }

  private void writeArray(JsonNode node) {
    boolean teeing = node == teeArray;
    put((byte) '[');
    int n = node.size();
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        put((byte) ',');
      }
      path.pushIndex(i);
      if (teeing) {
        flush();
        MessageDigest d = sha256();
        teeDigests.add(d);
        tee = d::update;
        write(node.get(i));
        flush();
        tee = null;
      } else {
        write(node.get(i));
      }
      path.pop();
    }
    put((byte) ']');
  }

  private void writeNumber(JsonNode node) {
    if (node.isIntegralNumber() && node.canConvertToLong()) {
      long l = node.longValue();
      if (Math.abs((double) l) < TWO_POW_53) {
        writeAscii(Long.toString(l));
        return;
      }
    }
    writeAscii(Es6Number.format(node.doubleValue()));
  }

  private void writeAscii(String s) {
    int n = s.length();
    if (pos + n > buf.length) {
      flush();
    }
    for (int i = 0; i < n; i++) {
      buf[pos++] = (byte) s.charAt(i);
    }
  }

  private void writeString(String s) {
    int n = s.length();
    put((byte) '"');
    int i = 0;
    while (i < n) {
      // room for the worst case of a chunk: 6 bytes per char
      int room = (buf.length - pos) / 6;
      if (room < 1) {
        flush();
        room = buf.length / 6;
      }
      int chunk = Math.min(n - i, room);
      int end = i + chunk;
      byte[] b = buf;
      int p = pos;
      while (i < end) {
        char c = s.charAt(i++);
        if (c < 0x80) {
          if (c >= 0x20 && c != '"' && c != '\\') {
            b[p++] = (byte) c;
          } else {
            p = escape(b, p, c);
          }
        } else if (c < 0x800) {
          b[p++] = (byte) (0xc0 | (c >> 6));
          b[p++] = (byte) (0x80 | (c & 0x3f));
        } else if (Character.isSurrogate(c)) {
          if (Character.isHighSurrogate(c) && i < n && Character.isLowSurrogate(s.charAt(i))) {
            int cp = Character.toCodePoint(c, s.charAt(i++));
            b[p++] = (byte) (0xf0 | (cp >> 18));
            b[p++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
            b[p++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
            b[p++] = (byte) (0x80 | (cp & 0x3f));
            if (i > end) {
              end = i; // consumed one char past the chunk; room was reserved (6 bytes per char)
            }
          } else {
            p = unicodeEscape(b, p, c); // a lone surrogate has no UTF-8 form
          }
        } else {
          b[p++] = (byte) (0xe0 | (c >> 12));
          b[p++] = (byte) (0x80 | ((c >> 6) & 0x3f));
          b[p++] = (byte) (0x80 | (c & 0x3f));
        }
      }
      pos = p;
    }
    put((byte) '"');
  }

  /** Writes the RFC 8785 escape of ASCII {@code c} (a quote, backslash or control char). */
  static int escape(byte[] b, int p, char c) {
    b[p++] = '\\';
    switch (c) {
      case '"' -> b[p++] = '"';
      case '\\' -> b[p++] = '\\';
      case '\b' -> b[p++] = 'b';
      case '\f' -> b[p++] = 'f';
      case '\n' -> b[p++] = 'n';
      case '\r' -> b[p++] = 'r';
      case '\t' -> b[p++] = 't';
      default -> {
        p--;
        return unicodeEscape(b, p, c);
      }
    }
    return p;
  }

  static int unicodeEscape(byte[] b, int p, char c) {
    b[p++] = '\\';
    b[p++] = 'u';
    b[p++] = HEX[(c >> 12) & 0xf];
    b[p++] = HEX[(c >> 8) & 0xf];
    b[p++] = HEX[(c >> 4) & 0xf];
    b[p++] = HEX[c & 0xf];
    return p;
  }

  private void put(byte x) {
    if (pos == buf.length) {
      flush();
    }
    buf[pos++] = x;
  }

  private void flush() {
    if (pos > 0) {
      sink.accept(buf, 0, pos);
      if (tee != null) {
        tee.accept(buf, 0, pos);
      }
      pos = 0;
    }
  }
}
