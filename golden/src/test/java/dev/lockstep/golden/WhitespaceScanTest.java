package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The whitespace scanners that go eight bytes at a time agree with a byte-by-byte loop. */
class WhitespaceScanTest {
  private static final byte[] BYTES = {' ', ' ', ' ', '\n', '\t', '\r', 0x01, 0x1f, 0x20, 0x21, '"', '{', ':', '0',
      (byte) 0x7f, (byte) 0x80, (byte) 0xa0, (byte) 0xdf, (byte) 0xff, (byte) 0x9f};

  @Test
  void skippingWhitespaceAgreesWithTheSimpleLoop() {
    Random r = new Random(20261202L);
    for (int t = 0; t < 20_000; t++) {
      byte[] b = new byte[r.nextInt(40)];
      int runs = r.nextInt(3);
      for (int i = 0; i < b.length; i++) {
        b[i] = runs > 0 && r.nextInt(4) > 0 ? (byte) ' ' : BYTES[r.nextInt(BYTES.length)];
      }
      int len = b.length == 0 ? 0 : r.nextInt(b.length + 1);
      for (int p = 0; p <= len; p++) {
        assertThat(JsonBytes.skipWs(b, p, len)).as("trusted, at %d of %s", p, java.util.Arrays.toString(b))
            .isEqualTo(simpleTrusted(b, p, len));
        assertThat(JsonSyntax.skipWs(b, p, len)).as("checking, at %d of %s", p, java.util.Arrays.toString(b))
            .isEqualTo(simpleChecking(b, p, len));
      }
    }
  }

  /** Outside strings of valid JSON every byte up to 0x20 is whitespace. */
  private static int simpleTrusted(byte[] b, int p, int len) {
    while (p < len && (b[p] & 0xff) <= 0x20) {
      p++;
    }
    return p;
  }

  private static int simpleChecking(byte[] b, int p, int len) {
    while (p < len && (b[p] == ' ' || b[p] == '\n' || b[p] == '\r' || b[p] == '\t')) {
      p++;
    }
    return p;
  }
}
