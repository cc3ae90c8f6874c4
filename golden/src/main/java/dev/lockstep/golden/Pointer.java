package dev.lockstep.golden;

import java.util.ArrayList;
import java.util.List;

/** RFC 6901 JSON Pointer escaping and splitting. */
final class Pointer {
  private Pointer() {}

  /** Escapes one reference token: {@code ~} → {@code ~0}, {@code /} → {@code ~1}. */
  static String escape(String segment) {
    if (segment.indexOf('~') < 0 && segment.indexOf('/') < 0) {
      return segment;
    }
    return segment.replace("~", "~0").replace("/", "~1");
  }

  static String unescape(String token) {
    if (token.indexOf('~') < 0) {
      return token;
    }
    return token.replace("~1", "/").replace("~0", "~");
  }

  /** Splits {@code "/a/b~1c"} into {@code ["a", "b/c"]}; {@code ""} is the root (no segments). */
  static List<String> split(String pointer) {
    List<String> out = new ArrayList<>();
    if (pointer == null || pointer.isEmpty()) {
      return out;
    }
    if (pointer.charAt(0) != '/') {
      throw new IllegalArgumentException("JSON Pointer must start with '/': " + pointer);
    }
    int start = 1;
    while (true) {
      int slash = pointer.indexOf('/', start);
      if (slash < 0) {
        out.add(unescape(pointer.substring(start)));
        return out;
      }
      out.add(unescape(pointer.substring(start, slash)));
      start = slash + 1;
    }
  }

  static String join(List<String> segments) {
    StringBuilder sb = new StringBuilder();
    for (String s : segments) {
      sb.append('/').append(escape(s));
    }
    return sb.toString();
  }
}
