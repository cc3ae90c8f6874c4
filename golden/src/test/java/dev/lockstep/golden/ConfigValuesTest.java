package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigValuesTest {
  private static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void referencesExpandInNestedMapsAndListsAndAWholeReferenceTakesTheTypeOfItsValue() throws Exception {
    Map<String, Object> tree = map("state_dir", "${env:ROOT:-}/var/lib/x",
        "metrics", map("port", "${env:PORT:-9465}", "on", "${env:ON}"),
        "dirs", new ArrayList<>(List.of("${env:ROOT}/a", "$${env:ROOT}", 7)),
        "hook", "echo ${LOCKSTEP_REASON}");
    ConfigValues.expand(tree, Map.of("ROOT", "/r", "ON", "true"));
    assertThat(tree.get("state_dir")).isEqualTo("/r/var/lib/x");
    @SuppressWarnings("unchecked")
    Map<String, Object> metrics = (Map<String, Object>) tree.get("metrics");
    assertThat(metrics.get("port")).isEqualTo(9465L);
    assertThat(metrics.get("on")).isEqualTo(true);
    assertThat(tree.get("dirs")).isEqualTo(List.of("/r/a", "${env:ROOT}", 7));
    assertThat(tree.get("hook")).as("shell syntax is left alone").isEqualTo("echo ${LOCKSTEP_REASON}");
  }

  @Test
  void anUnsetVariableWithoutADefaultNamesTheKey() {
    Map<String, Object> tree = map("collector", map("tls", map("ca_file", "${env:CA}")));
    assertThatThrownBy(() -> ConfigValues.expand(tree, Map.of()))
        .isInstanceOf(ConfigVariables.UnsetVariableException.class)
        .hasMessageContaining("collector.tls.ca_file: environment variable CA is not set");
  }
}
