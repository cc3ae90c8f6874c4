package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Es6NumberTest {

  /** RFC 8785 Appendix B, "Number Serialization Samples" (finite ones). */
  @ParameterizedTest
  @CsvSource({
      "0000000000000000, 0",
      "8000000000000000, 0",
      "0000000000000001, 5e-324",
      "8000000000000001, -5e-324",
      "7fefffffffffffff, 1.7976931348623157e+308",
      "ffefffffffffffff, -1.7976931348623157e+308",
      "4340000000000000, 9007199254740992",
      "c340000000000000, -9007199254740992",
      "4430000000000000, 295147905179352830000",
      "44b52d02c7e14af5, 9.999999999999997e+22",
      "44b52d02c7e14af6, 1e+23",
      "44b52d02c7e14af7, 1.0000000000000001e+23",
      "444b1ae4d6e2ef4e, 999999999999999700000",
      "444b1ae4d6e2ef4f, 999999999999999900000",
      "444b1ae4d6e2ef50, 1e+21",
      "3eb0c6f7a0b5ed8c, 9.999999999999997e-7",
      "3eb0c6f7a0b5ed8d, 0.000001",
      "41b3de4355555553, 333333333.3333332",
      "41b3de4355555554, 333333333.33333325",
      "41b3de4355555555, 333333333.3333333",
      "41b3de4355555556, 333333333.3333334",
      "41b3de4355555557, 333333333.33333343",
      "becbf647612f3696, -0.0000033333333333333333",
      "43143ff3c1cb0959, 1424953923781206.2",
  })
  void formatsTheRfc8785AppendixBSamples(String ieeeHex, String expected) {
    double v = Double.longBitsToDouble(Long.parseUnsignedLong(ieeeHex, 16));
    assertThat(Es6Number.format(v)).isEqualTo(expected);
  }

  @Test
  void refusesNanAndInfinity() {
    assertThatThrownBy(() -> Es6Number.format(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Es6Number.format(Double.POSITIVE_INFINITY))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void usesPlainNotationUpTo1e21AndExponentsBeyond() {
    assertThat(Es6Number.format(1e20)).isEqualTo("100000000000000000000");
    assertThat(Es6Number.format(1e21)).isEqualTo("1e+21");
    assertThat(Es6Number.format(1.5e300)).isEqualTo("1.5e+300");
    assertThat(Es6Number.format(1e-6)).isEqualTo("0.000001");
    assertThat(Es6Number.format(1e-7)).isEqualTo("1e-7");
    assertThat(Es6Number.format(1.25e-7)).isEqualTo("1.25e-7");
    assertThat(Es6Number.format(4.5)).isEqualTo("4.5");
    assertThat(Es6Number.format(0.1 + 0.2)).isEqualTo("0.30000000000000004");
    assertThat(Es6Number.format(-1.0)).isEqualTo("-1");
    assertThat(Es6Number.format(2.0E-3)).isEqualTo("0.002");
    // Java 17's Double.toString gives 2.82879384806159008E17 here; ES6 gives the shortest
    assertThat(Es6Number.format(2.82879384806159E17)).isEqualTo("282879384806159000");
  }

  @Test
  void ryuAgreesWithTheExactSearchOnRandomDoubles() {
    SplittableRandom random = new SplittableRandom(8785);
    for (int i = 0; i < 20_000; i++) {
      double v = Double.longBitsToDouble(random.nextLong());
      if (Double.isNaN(v) || Double.isInfinite(v) || v == 0) {
        continue;
      }
      double a = Math.abs(v);
      assertThat(Es6Number.ryu(a)).as("%s", v).isEqualTo(Es6Number.shortestExact(a));
      assertThat(Double.parseDouble(Es6Number.format(v))).isEqualTo(v);
    }
  }

  @Test
  void ryuAgreesWithTheExactSearchAtPowersOfTwoAndTheirNeighbours() {
    for (int e = -1074; e <= 1023; e++) {
      double p = Math.scalb(1.0, e);
      for (double v : new double[] {p, Math.nextUp(p), Math.nextDown(p)}) {
        if (v > 0 && Double.isFinite(v)) {
          assertThat(Es6Number.ryu(v)).as("%s", v).isEqualTo(Es6Number.shortestExact(v));
        }
      }
    }
  }

  @Test
  void ryuAgreesWithTheExactSearchOnShortDecimals() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 20_000; i++) {
      double v = random.nextInt(1_000_000) / Math.pow(10, random.nextInt(12)) * Math.pow(10, random.nextInt(40) - 20);
      if (v == 0) {
        continue;
      }
      assertThat(Es6Number.ryu(v)).as("%s", v).isEqualTo(Es6Number.shortestExact(v));
    }
  }
}
