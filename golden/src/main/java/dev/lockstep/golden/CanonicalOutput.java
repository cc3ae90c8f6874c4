package dev.lockstep.golden;

import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Where {@link Canonicalizer} writes: a growable buffer of canonical bytes ({@code out[0, pos)})
 * and the digests they flow into. Bytes before {@code pos} are final once no buffered object is
 * open; then {@link #flushIfDue()} may feed them to the sink and to every open region's digest and
 * start over. Without a sink, every byte stays (the canonical form of a whole document).
 */
final class CanonicalOutput {
  private static final int FLUSH_BYTES = 1 << 16;

  private final MessageDigest sink;
  private final CanonicalNumber numbers = new CanonicalNumber();
  byte[] out = new byte[1 << 16];
  int pos;
  private byte[] scratch = new byte[0];

  // regions being hashed: nested values (steps, outputs, ...) with a digest of their own
  private int regions;
  private MessageDigest[] regionDigest = new MessageDigest[8];
  private int[] regionStart = new int[8];

  CanonicalOutput(MessageDigest sink) {
    this.sink = sink;
  }

  void reset() {
    pos = 0;
    regions = 0;
  }

  void put(byte b) {
    ensure(1);
    out[pos++] = b;
  }

  void ensure(int n) {
    if (pos + n > out.length) {
      out = Arrays.copyOf(out, Math.max(pos + n, out.length * 2));
    }
  }

  /** Writes the scalar {@code src[p, end)} (first byte {@code c}; {@code escaped}: a string with escapes). */
  void writeScalar(byte[] src, int p, int end, byte c, boolean escaped) {
    int n = end - p;
    ensure(n + CanonicalNumber.SLACK);
    if (c == '"') {
      if (!escaped) {
        System.arraycopy(src, p, out, pos, n);
        pos += n;
      } else {
        pos = CanonicalString.writeEscaped(src, p, end, out, pos);
      }
    } else if (c == 't' || c == 'f' || c == 'n') {
      System.arraycopy(src, p, out, pos, n);
      pos += n;
    } else {
      pos = numbers.write(src, p, end, out, pos);
    }
  }

  /** Writes the member name at {@code src[quote, end)} (quotes included) and the colon. */
  void writeName(byte[] src, int quote, int end, boolean esc) {
    int n = end - quote;
    ensure(n + 1);
    if (esc) {
      pos = CanonicalString.writeEscaped(src, quote, end, out, pos);
    } else {
      System.arraycopy(src, quote, out, pos, n);
      pos += n;
    }
    out[pos++] = ':';
  }

  /**
   * Rewrites the members {@code [base, base + n)} of an object, whose canonical bytes span
   * {@code out[from, pos)} in source order, in the order {@code members.order} gives.
   */
  void reorder(Members members, int base, int n, int from) {
    int total = pos - from;
    if (scratch.length < total) {
      scratch = new byte[Math.max(total, scratch.length * 2)];
    }
    System.arraycopy(out, from, scratch, 0, total);
    pos = from;
    boolean first = true;
    for (int i = 0; i < n; i++) {
      int m = members.order[base + i];
      int s = members.outStart[m];
      if (s < 0) {
        continue; // masked
      }
      if (!first) {
        out[pos++] = ',';
      }
      first = false;
      int l = members.outEnd[m] - s;
      System.arraycopy(scratch, s - from, out, pos, l);
      pos += l;
    }
  }

  /** Starts hashing a region at the current position; returns its handle. */
  int openRegion() {
    int r = regions++;
    if (r == regionDigest.length) {
      regionDigest = Arrays.copyOf(regionDigest, r * 2);
      regionStart = Arrays.copyOf(regionStart, r * 2);
    }
    if (regionDigest[r] == null) {
      regionDigest[r] = Hashes.sha256();
    } else {
      regionDigest[r].reset(); // a walk that failed may have left a region half fed
    }
    regionStart[r] = pos;
    return r;
  }

  /** Ends region {@code r} (the innermost open one) here; returns its hash. */
  String closeRegion(int r) {
    MessageDigest md = regionDigest[r];
    md.update(out, regionStart[r], pos - regionStart[r]);
    regions = r;
    return Hashes.format(md);
  }

  /** Flushes when enough bytes have gathered (only call it where they are final). */
  void flushIfDue() {
    if (sink != null && pos >= FLUSH_BYTES) {
      flush();
    }
  }

  void flush() {
    for (int r = 0; r < regions; r++) {
      regionDigest[r].update(out, regionStart[r], pos - regionStart[r]);
      regionStart[r] = 0;
    }
    sink.update(out, 0, pos);
    pos = 0;
  }

  long workingBytes() {
    return out.length + scratch.length;
  }
}
