package dev.lockstep.cli.fleet;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a gzip-compressed POSIX (pax/ustar) tar of regular files, readable by {@code tar xzf}.
 * Long names go into a pax header; modes are 0644/0755, owner 0, times from the files.
 */
final class TarGz {
  private static final int BLOCK = 512;

  private TarGz() {}

  /** Tars every regular file under {@code dir} (sorted) as {@code prefix/relative/path}. */
  static void writeTree(Path dir, String prefix, Path target) throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.filter(Files::isRegularFile).sorted().forEach(files::add);
    }
    List<Entry> entries = new ArrayList<>();
    for (Path f : files) {
      String rel = dir.relativize(f).toString().replace('\\', '/');
      entries.add(new Entry(prefix.isEmpty() ? rel : prefix + "/" + rel, f));
    }
    write(entries, target);
  }

  record Entry(String name, Path file) {}

  static void write(List<Entry> entries, Path target) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".part");
    try (OutputStream raw = Files.newOutputStream(tmp);
        GZIPOutputStream gz = new GZIPOutputStream(raw, 64 * 1024)) {
      for (Entry e : entries) {
        long size = Files.size(e.file());
        long mtime = Files.getLastModifiedTime(e.file()).toMillis() / 1000;
        byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
        if (name.length > 100) {
          byte[] pax = paxRecord("path", e.name());
          gz.write(header("PaxHeaders/" + shortName(e.name()), pax.length, mtime, 'x', 0644));
          gz.write(pax);
          pad(gz, pax.length);
        }
        gz.write(header(name.length > 100 ? shortName(e.name()) : e.name(), size, mtime, '0', 0644));
        try (InputStream in = Files.newInputStream(e.file())) {
          long copied = in.transferTo(gz);
          if (copied != size) {
            throw new IOException(e.file() + " changed while being archived");
          }
        }
        pad(gz, size);
      }
      gz.write(new byte[BLOCK * 2]);
    }
    Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  private static String shortName(String name) {
    byte[] b = name.getBytes(StandardCharsets.UTF_8);
    if (b.length <= 100) {
      return name;
    }
    String tail = name;
    while (tail.getBytes(StandardCharsets.UTF_8).length > 100) {
      tail = tail.substring(tail.offsetByCodePoints(0, 1));
    }
    return tail;
  }

  private static byte[] paxRecord(String key, String value) {
    String body = " " + key + "=" + value + "\n";
    int len = body.getBytes(StandardCharsets.UTF_8).length;
    int total = len + Integer.toString(len).length();
    if (Integer.toString(total).length() != Integer.toString(len).length()) {
      total = len + Integer.toString(total).length();
    }
    return (total + body).getBytes(StandardCharsets.UTF_8);
  }

  private static void pad(OutputStream out, long size) throws IOException {
    int rest = (int) (size % BLOCK);
    if (rest != 0) {
      out.write(new byte[BLOCK - rest]);
    }
  }

  private static byte[] header(String name, long size, long mtime, char type, int mode) {
    byte[] h = new byte[BLOCK];
    put(h, 0, 100, name.getBytes(StandardCharsets.UTF_8));
    octal(h, 100, 8, mode);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, size);
    octal(h, 136, 12, mtime);
    for (int i = 148; i < 156; i++) {
      h[i] = ' ';
    }
    h[156] = (byte) type;
    put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
    put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
    put(h, 265, 32, "root".getBytes(StandardCharsets.US_ASCII));
    put(h, 297, 32, "root".getBytes(StandardCharsets.US_ASCII));
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    String chk = String.format("%06o", sum);
    put(h, 148, 6, chk.getBytes(StandardCharsets.US_ASCII));
    h[154] = 0;
    h[155] = ' ';
    return h;
  }

  private static void put(byte[] h, int off, int len, byte[] value) {
    System.arraycopy(value, 0, h, off, Math.min(len, value.length));
  }

  private static void octal(byte[] h, int off, int len, long value) {
    String s = Long.toOctalString(value);
    if (s.length() > len - 1) {
      throw new IllegalArgumentException("value too large for tar header: " + value);
    }
    String padded = "0".repeat(len - 1 - s.length()) + s;
    put(h, off, len - 1, padded.getBytes(StandardCharsets.US_ASCII));
    h[off + len - 1] = 0;
  }
}
