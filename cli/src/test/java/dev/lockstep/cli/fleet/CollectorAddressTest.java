package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockstep.cli.client.CollectorAddress;
import dev.lockstep.cli.client.Durations;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CollectorAddressTest {
  @Test
  void hostPortIPv6AndBareHostParse() {
    assertThat(CollectorAddress.parse("127.0.0.1:7443")).isEqualTo(new CollectorAddress("127.0.0.1", 7443));
    assertThat(CollectorAddress.parse("[::1]:9000")).isEqualTo(new CollectorAddress("::1", 9000));
    assertThat(CollectorAddress.parse("collector.prod")).isEqualTo(new CollectorAddress("collector.prod", 7443));
    assertThat(CollectorAddress.parse("[::1]:9000").toString()).isEqualTo("[::1]:9000");
  }

  @Test
  void malformedAddressesAreRefusedWithTheText() {
    assertThatThrownBy(() -> CollectorAddress.parse("host:port")).hasMessageContaining("'host:port'");
    assertThatThrownBy(() -> CollectorAddress.parse("host:99999")).hasMessageContaining("between 1 and 65535");
    assertThatThrownBy(() -> CollectorAddress.parse("::1:80")).hasMessageContaining("[ADDR]:PORT");
  }

  @Test
  void durationsReadAsOperatorsTypeThem() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Durations.parse("PT2M")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Durations.format(Duration.ofSeconds(10))).isEqualTo("10s");
    assertThatThrownBy(() -> Durations.parse("soon")).hasMessageContaining("'soon'");
  }
}
