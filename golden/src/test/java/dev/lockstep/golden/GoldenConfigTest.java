package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GoldenConfigTest {
  @Test
  void limitsOutOfRangeAreRefusedNamingTheKey() {
    assertThatThrownBy(() -> new GoldenConfig.Limits(0, 512, 10)).hasMessageContaining("max_bytes");
    assertThatThrownBy(() -> new GoldenConfig.Limits(10, 0, 10)).hasMessageContaining("max_depth");
    assertThatThrownBy(() -> new GoldenConfig.Limits(10, 100_000, 10)).hasMessageContaining("max_depth")
        .hasMessageContaining("100000");
    assertThatThrownBy(() -> new GoldenConfig.Limits(10, 5, 0)).hasMessageContaining("max_string_length");
  }

  @Test
  void mappingPointersMustBePointers() {
    assertThatThrownBy(() -> new GoldenConfig.Mapping("run_id", "/workflow", "/role", "/seed", "/hash",
        "/output", "/steps", "/index", "/name", "/kind", "/hash", List.of("rng"), "response"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("run_id").hasMessageContaining("'/'");
  }

  @Test
  void volatileGlobsMustBePointers() {
    assertThatThrownBy(() -> new GoldenConfig.VolatileMask(Set.of(), List.of("steps/*")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("steps/*");
  }
}
