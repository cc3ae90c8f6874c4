package dev.lockstep.agent.evidence;

import dev.lockstep.agent.internal.RegularFiles;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a POSIX ustar archive, gzip-compressed. Long names use a PAX extended header. Just enough
 * for archiving regular files; readable by tar(1).
 */
final class TarGz implements AutoCloseable {
  private static final int BLOCK = 512;
  private final OutputStream out;
  private final GZIPOutputStream gzip;

  TarGz(OutputStream target) throws IOException {
    this.gzip = new GZIPOutputStream(new BufferedOutputStream(target, 64 * 1024), 64 * 1024);
    this.out = gzip;
  }

  /** Adds a regular file under the given archive name. */
  void add(String name, Path file) throws IOException {
    // the name itself must be a regular file (no symlink out of the golden dir, no FIFO)
    FileChannel ch = RegularFiles.open(file);
    try (InputStream in = Channels.newInputStream(ch)) {
      add(name, file, ch.size(), Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS).toMillis() / 1000, in);
    }
  }

  private void add(String name, Path file, long size, long mtime, InputStream in) throws IOException {
    byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
    String headerName = name;
    if (nameBytes.length > 100) {
      String record = " path=" + name + "\n";
      int len = record.getBytes(StandardCharsets.UTF_8).length;
      int total = len + Integer.toString(len).length();
      if (Integer.toString(total).length() != Integer.toString(len).length()) {
        total++;
      }
      byte[] pax = (total + record).getBytes(StandardCharsets.UTF_8);
      writeHeader("PaxHeaders/" + Math.abs(name.hashCode()), pax.length, mtime, 'x');
      out.write(pax);
      pad(pax.length);
      headerName = "long/" + Math.abs(name.hashCode()) + "-" + file.getFileName().toString();
      if (headerName.getBytes(StandardCharsets.UTF_8).length > 100) {
        headerName = headerName.substring(0, 90);
      }
    }
    writeHeader(headerName, size, mtime, '0');
    long copied = 0;
    byte[] buf = new byte[64 * 1024];
    int n;
    while (copied < size && (n = in.read(buf, 0, (int) Math.min(buf.length, size - copied))) > 0) {
      out.write(buf, 0, n);
      copied += n;
    }
    if (copied != size) {
      throw new IOException(file + " changed size while archiving");
    }
    pad(size);
  }

  private void pad(long size) throws IOException {
    int rem = (int) (size % BLOCK);
    if (rem != 0) {
      out.write(new byte[BLOCK - rem]);
    }
  }

  private void writeHeader(String name, long size, long mtime, char type) throws IOException {
    byte[] h = new byte[BLOCK];
    put(h, 0, 100, name.getBytes(StandardCharsets.UTF_8));
    octal(h, 100, 8, 0644);
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
    put(h, 265, 32, "lockstep".getBytes(StandardCharsets.US_ASCII));
    put(h, 297, 32, "lockstep".getBytes(StandardCharsets.US_ASCII));
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    byte[] cs = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(cs, 0, h, 148, 8);
    out.write(h);
  }

  private static void put(byte[] h, int off, int len, byte[] v) {
    System.arraycopy(v, 0, h, off, Math.min(len, v.length));
  }

  private static void octal(byte[] h, int off, int len, long v) {
    String s = String.format("%0" + (len - 1) + "o", v);
    put(h, off, len - 1, s.getBytes(StandardCharsets.US_ASCII));
  }

  /** Writes the end-of-archive blocks and finishes the gzip stream (does not close the target). */
  void finish() throws IOException {
    out.write(new byte[BLOCK * 2]);
    gzip.finish();
    gzip.flush();
  }

  @Override
  public void close() throws IOException {
    gzip.close();
  }
}
