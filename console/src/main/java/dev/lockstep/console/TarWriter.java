package dev.lockstep.console;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;

/**
 * A POSIX tar stream (ustar, with a pax header for names over 100 bytes) written entry by entry:
 * {@link #begin} with the size, {@link #write} exactly that many bytes, {@link #end}. Owns and closes
 * the stream.
 */
final class TarWriter implements AutoCloseable {
  private static final int BLOCK = 512;

  private final OutputStream out;
  private final long mtime;
  private long remaining = -1;
  private long size;

  TarWriter(OutputStream out, Instant mtime) {
    this.out = out;
    this.mtime = mtime.getEpochSecond();
  }

  void file(String name, byte[] data) throws IOException {
    begin(name, data.length);
    write(data);
    end();
  }

  void begin(String name, long bytes) throws IOException {
    if (remaining >= 0) {
      throw new IllegalStateException("entry not ended");
    }
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    if (utf8.length > 100) {
      byte[] record = paxRecord("path", name);
      out.write(header("PaxHeaders/" + Math.abs(name.hashCode()), record.length, (byte) 'x'));
      out.write(record);
      pad(record.length);
      utf8 = Arrays.copyOf(utf8, 100);
    }
    out.write(header(new String(utf8, StandardCharsets.UTF_8), bytes, (byte) '0'));
    remaining = bytes;
    size = bytes;
  }

  void write(byte[] data) throws IOException {
    if (data.length > remaining) {
      throw new IOException("entry longer than its " + size + " bytes");
    }
    out.write(data);
    remaining -= data.length;
  }

  void end() throws IOException {
    if (remaining != 0) {
      throw new IOException("entry ended " + remaining + " bytes short of its " + size);
    }
    pad(size);
    remaining = -1;
  }

  private void pad(long written) throws IOException {
    int rest = (int) (written % BLOCK);
    if (rest != 0) {
      out.write(new byte[BLOCK - rest]);
    }
  }

  private static byte[] paxRecord(String key, String value) {
    String body = " " + key + "=" + value + "\n";
    int len = body.getBytes(StandardCharsets.UTF_8).length;
    int total = len + Integer.toString(len).length();
    if (Integer.toString(total).length() != Integer.toString(len).length()) {
      total++;
    }
    return (total + body).getBytes(StandardCharsets.UTF_8);
  }

  private byte[] header(String name, long bytes, byte type) {
    byte[] h = new byte[BLOCK];
    put(h, 0, 100, name.getBytes(StandardCharsets.UTF_8));
    octal(h, 100, 8, 0644);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, bytes);
    octal(h, 136, 12, mtime);
    Arrays.fill(h, 148, 156, (byte) ' ');
    h[156] = type;
    put(h, 257, 6, "ustar".getBytes(StandardCharsets.US_ASCII));
    put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    octal(h, 148, 7, sum);
    return h;
  }

  private static void put(byte[] h, int at, int len, byte[] value) {
    System.arraycopy(value, 0, h, at, Math.min(len, value.length));
  }

  private static void octal(byte[] h, int at, int len, long value) {
    String s = Long.toOctalString(value);
    String padded = "0".repeat(Math.max(0, len - 1 - s.length())) + s;
    put(h, at, len - 1, padded.getBytes(StandardCharsets.US_ASCII));
  }

  @Override
  public void close() throws IOException {
    out.write(new byte[BLOCK * 2]);
    out.close();
  }
}
