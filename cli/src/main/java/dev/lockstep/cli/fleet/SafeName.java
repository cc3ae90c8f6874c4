package dev.lockstep.cli.fleet;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A file name from an agent or the collector made safe to create under an export directory:
 * relative, no {@code .} or {@code ..} segments, no control characters, no backslashes, no
 * segment longer than 200 bytes. The result never escapes the directory it is resolved against.
 */
final class SafeName {
  private static final int MAX_SEGMENT_BYTES = 200;
  private static final int MAX_DEPTH = 16;

  private SafeName() {}

  /** The sanitised relative name ("/"-separated); "unnamed" when nothing usable is left. */
  static String of(String raw) {
    String s = raw == null ? "" : raw.replace('\\', '/');
    List<String> kept = new ArrayList<>();
    for (String segment : s.split("/")) {
      String clean = cleanSegment(segment);
      if (clean.isEmpty() || clean.equals(".") || clean.equals("..")) {
        continue;
      }
      kept.add(clean);
    }
    if (kept.isEmpty()) {
      return "unnamed";
    }
    while (kept.size() > MAX_DEPTH) {
      kept.set(kept.size() - 2, kept.get(kept.size() - 2) + "_" + kept.remove(kept.size() - 1));
    }
    return String.join("/", kept);
  }

  private static String cleanSegment(String segment) {
    StringBuilder sb = new StringBuilder(segment.length());
    segment.codePoints().forEach(cp -> {
      boolean control = cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0);
      sb.appendCodePoint(control ? '_' : cp);
    });
    String clean = sb.toString().strip();
    byte[] bytes = clean.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > MAX_SEGMENT_BYTES) {
      // cut at a code point boundary
      int end = clean.length();
      while (clean.substring(0, end).getBytes(StandardCharsets.UTF_8).length > MAX_SEGMENT_BYTES) {
        end = clean.offsetByCodePoints(end, -1);
      }
      clean = clean.substring(0, end);
    }
    // a segment made only of dots is never a real name ("...", "....")
    return clean.length() > 2 && clean.chars().allMatch(c -> c == '.') ? "_" + clean : clean;
  }
}
