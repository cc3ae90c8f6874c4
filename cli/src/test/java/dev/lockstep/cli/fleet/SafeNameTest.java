package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SafeNameTest {
  @Test
  void dotDotSegmentsAndLeadingSlashesAreDropped() {
    assertThat(SafeName.of("../../etc/passwd")).isEqualTo("etc/passwd");
    assertThat(SafeName.of("/abs/path")).isEqualTo("abs/path");
    assertThat(SafeName.of("a/./b/../c")).isEqualTo("a/b/c");
    assertThat(SafeName.of("..\\..\\windows\\system32")).isEqualTo("windows/system32");
  }

  @Test
  void controlCharactersBecomeUnderscores() {
    assertThat(SafeName.of("logs/a\u0000b\u001bc\u007f.log")).isEqualTo("logs/a_b_c_.log");
  }

  @Test
  void namesWithNothingUsableLeftAreUnnamedAndDotOnlySegmentsAreDefused() {
    assertThat(SafeName.of("../..")).isEqualTo("unnamed");
    assertThat(SafeName.of("")).isEqualTo("unnamed");
    assertThat(SafeName.of("a/.../b")).isEqualTo("a/_.../b");
  }

  @Test
  void ordinaryEvidenceNamesAreKept() {
    assertThat(SafeName.of("host-a/golden/run-1.primary.golden.json")).isEqualTo("host-a/golden/run-1.primary.golden.json");
  }

  @Test
  void overlongSegmentsAreCut() {
    assertThat(SafeName.of("x".repeat(1000))).hasSize(200);
  }
}
