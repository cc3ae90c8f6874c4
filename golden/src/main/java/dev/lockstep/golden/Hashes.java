package dev.lockstep.golden;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256 digests and their {@code "sha256:<lower-case hex>"} text. */
public final class Hashes {
  private Hashes() {}

  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PREFIX = "sha256:".getBytes(StandardCharsets.US_ASCII);

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }

  /** Finishes {@code md} (which is reset) and formats its digest. */
  public static String format(MessageDigest md) {
    byte[] d = md.digest();
    byte[] out = new byte[PREFIX.length + d.length * 2];
    System.arraycopy(PREFIX, 0, out, 0, PREFIX.length);
    for (int i = 0; i < d.length; i++) {
      out[PREFIX.length + 2 * i] = HEX[(d[i] >> 4) & 0xf];
      out[PREFIX.length + 2 * i + 1] = HEX[d[i] & 0xf];
    }
    return new String(out, StandardCharsets.US_ASCII);
  }

  static String of(byte[] b, int off, int len) {
    MessageDigest md = sha256();
    md.update(b, off, len);
    return format(md);
  }
}
