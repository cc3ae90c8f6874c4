package dev.lockstep.agent.spool;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;

/**
 * Reads a segment's records in order and checks the CRC of every one. A record whose length is
 * impossible, whose CRC does not match or that holds no seq starts a corrupt stretch: the reader
 * looks for the next offset where a whole valid record begins, reports the stretch once (the
 * segment remembers it, so later reads skip it silently) and goes on from there. So one bad
 * record costs itself (and whatever the stretch covered), never the records after it.
 *
 * <p>Record format: {@code [int length][int crc32 of the body][body]}, the body being an Event
 * whose first field is its seq.
 */
final class SegmentReader implements AutoCloseable {
  static final int HEADER = 8;
  static final int MAX_RECORD = 8 << 20;
  private static final int WINDOW = 64 * 1024;

  /** A record as stored: where it starts, its seq and its body. */
  record Raw(long offset, long seq, byte[] body) {
    long end() {
      return offset + HEADER + body.length;
    }
  }

  /** Told about each newly found corrupt stretch [from, to) of a segment. */
  interface CorruptionSink {
    /** seqBefore: the seq of the last valid record before the stretch (0 if none was read). */
    void corrupt(Segment segment, long from, long to, boolean atEnd, long seqBefore) throws IOException;
  }

  private final Segment segment;
  private final FileChannel channel;
  private final long end;
  private final CorruptionSink sink;
  private final ByteBuffer window = ByteBuffer.allocate(WINDOW);
  private long windowStart = -1;
  private long position;
  private long lastSeq;

  /** Reads segment from offset {@code from} up to {@code end} bytes (the valid size, or the file size at open). */
  SegmentReader(Segment segment, long from, long end, CorruptionSink sink) throws IOException {
    this.segment = segment;
    this.channel = FileChannel.open(segment.file, StandardOpenOption.READ);
    this.end = end;
    this.sink = sink;
    this.position = from;
  }

  /** The offset after the last record returned (or the corrupt stretch skipped). */
  long position() {
    return position;
  }

  /** The next valid record, or null at the end. */
  Raw next() throws IOException {
    while (position + HEADER <= end) {
      long skipped = segment.skipBad(position);
      if (skipped != position) {
        position = skipped;
        continue;
      }
      Raw r = recordAt(position);
      if (r != null) {
        position = r.end();
        lastSeq = r.seq();
        return r;
      }
      long next = resync(position + 1);
      segment.markBad(position, next);
      sink.corrupt(segment, position, next, next >= end, lastSeq);
      position = next;
    }
    return null;
  }

  /** The valid record starting at offset, or null. */
  private Raw recordAt(long offset) throws IOException {
    ByteBuffer h = read(offset, HEADER);
    int len = h.getInt();
    int crc = h.getInt();
    if (len <= 0 || len > MAX_RECORD || offset + HEADER + len > end) {
      return null;
    }
    byte[] body = new byte[len];
    read(offset + HEADER, len).get(body);
    if (crc(body, 0, len) != crc) {
      return null;
    }
    long seq = Records.seqOf(body);
    return seq > 0 ? new Raw(offset, seq, body) : null;
  }

  /** The first offset at or after from where a valid record starts, or end. */
  private long resync(long from) throws IOException {
    long n = end - from;
    if (n < HEADER) {
      return end;
    }
    byte[] rest = new byte[(int) n];
    ByteBuffer b = ByteBuffer.wrap(rest);
    while (b.hasRemaining()) {
      if (channel.read(b, from + b.position()) < 0) {
        break;
      }
    }
    ByteBuffer view = ByteBuffer.wrap(rest);
    for (int i = 0; i + HEADER <= rest.length; i++) {
      int len = view.getInt(i);
      if (len <= 0 || len > MAX_RECORD || (long) i + HEADER + len > rest.length) {
        continue;
      }
      if (crc(rest, i + HEADER, len) == view.getInt(i + 4)
          && Records.seqOf(java.util.Arrays.copyOfRange(rest, i + HEADER, i + HEADER + len)) > 0) {
        return from + i;
      }
    }
    return end;
  }

  private ByteBuffer read(long offset, int n) throws IOException {
    if (n > WINDOW) {
      ByteBuffer big = ByteBuffer.allocate(n);
      fill(big, offset);
      return big.flip();
    }
    if (windowStart < 0 || offset < windowStart || offset + n > windowStart + window.limit()) {
      window.clear();
      windowStart = offset;
      fill(window, offset);
      window.flip();
      if (window.limit() < n) {
        throw new EOFException("spool segment " + segment.file.getFileName() + " ends at " + (offset + window.limit()));
      }
    }
    return window.duplicate().position((int) (offset - windowStart)).limit((int) (offset - windowStart) + n).slice();
  }

  private void fill(ByteBuffer b, long offset) throws IOException {
    while (b.hasRemaining()) {
      if (channel.read(b, offset + b.position()) < 0) {
        return;
      }
    }
  }

  static int crc(byte[] b, int off, int len) {
    CRC32 c = new CRC32();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
