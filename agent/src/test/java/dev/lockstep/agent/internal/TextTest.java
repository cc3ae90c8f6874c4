package dev.lockstep.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TextTest {
  @Test
  void oneDecimalIsWhatPercentPointOneFFormatsWithLocaleRoot() {
    double[] edges = {0, -0.0, 0.05, 0.15, 0.25, 0.35, 0.45, 1.05, 2.675, 9.95, 99.95, 99.94999, 100, 12.345, -1.25,
        -0.05, -0.04, -1e-9, 1e-9, 123456789.96, 1e17, 0.1 + 0.2, Double.MIN_VALUE, Double.MAX_VALUE, Double.NaN,
        Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
    for (double v : edges) {
      assertThat(Text.oneDecimal(v)).as("%s", v).isEqualTo(String.format(Locale.ROOT, "%.1f", v));
    }
    SplittableRandom r = new SplittableRandom(13);
    for (int i = 0; i < 20_000; i++) {
      double v = (i % 2 == 0 ? r.nextDouble() * 100 : Math.round(r.nextDouble() * 100_000) / 1000.0) * (i % 3 == 0 ? -1 : 1);
      assertThat(Text.oneDecimal(v)).as("%s", v).isEqualTo(String.format(Locale.ROOT, "%.1f", v));
    }
  }

  @Test
  void zeroPaddedIsWhatPercentZeroNDFormats() {
    long[] values = {0, 1, 9, 10, 12345, 99_999_999_999L, Long.MAX_VALUE};
    for (long v : values) {
      assertThat(Text.zeroPadded(v, 20)).as("%s", v).isEqualTo(String.format("%020d", v));
      assertThat(Text.zeroPadded(v, 3)).as("%s", v).isEqualTo(String.format("%03d", v));
    }
  }
}
