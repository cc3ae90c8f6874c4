package dev.lockstep.console;

import java.util.ArrayList;
import java.util.List;

/**
 * Names from the collector made safe for an archive, as the CLI's export does: no {@code ..} or
 * {@code .} segments, no leading {@code /}, no backslashes or control characters.
 */
final class SafeNames {
  private SafeNames() { }

  static String path(String name) {
    List<String> parts = new ArrayList<>();
    for (String part : name.replace('\\', '/').split("/")) {
      String s = segment(part);
      if (!s.isEmpty() && !s.equals(".") && !s.equals("..")) {
        parts.add(s);
      }
    }
    return parts.isEmpty() ? "unnamed" : String.join("/", parts);
  }

  static String segment(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    s.codePoints().forEach(cp -> {
      if (cp >= 0x20 && cp != 0x7f && cp != '/' && cp != '\\') {
        sb.appendCodePoint(cp);
      }
    });
    return sb.toString();
  }
}
