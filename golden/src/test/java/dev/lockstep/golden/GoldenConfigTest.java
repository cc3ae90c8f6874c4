package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
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

  private static final String WHERE = "agent.yaml: golden";

  @SuppressWarnings("unchecked")
  private static Map<String, Object> json(String text) throws Exception {
    return new ObjectMapper().readValue(text.replace('\'', '"'), Map.class);
  }

  @Test
  void anEmptyOrMissingSectionIsTheDefault() throws Exception {
    assertThat(GoldenConfig.fromMap(null, WHERE)).isEqualTo(GoldenConfig.DEFAULT);
    assertThat(GoldenConfig.fromMap(Map.of(), WHERE)).isEqualTo(GoldenConfig.DEFAULT);
    assertThat(GoldenConfig.fromMap(json("{'limits': {}, 'volatile': {}, 'mapping': {}}"), WHERE))
        .isEqualTo(GoldenConfig.DEFAULT);
  }

  @Test
  void everyKeyIsRead() throws Exception {
    GoldenConfig c = GoldenConfig.fromMap(json("""
        {"limits": {"max_bytes": "8MiB", "max_depth": 64, "max_string_length": 4096},
         "volatile": {"names": ["trace_id"], "pointers": ["/steps/*/debug/**"]},
         "mapping": {"run_id": "/meta/id", "workflow": "/meta/wf", "role": "/meta/role", "seed": "/meta/seed",
                     "run_hash": "/digest", "output": "/result", "steps": "/trace", "step_index": "/i",
                     "step_name": "/n", "step_kind": "/k", "step_hash": "/h", "rng_keys": ["random", "prng"],
                     "response_key": "reply"}}
        """), WHERE);
    assertThat(c.limits()).isEqualTo(new GoldenConfig.Limits(8L << 20, 64, 4096));
    assertThat(c.mapping()).isEqualTo(new GoldenConfig.Mapping("/meta/id", "/meta/wf", "/meta/role", "/meta/seed",
        "/digest", "/result", "/trace", "/i", "/n", "/k", "/h", List.of("random", "prng"), "reply"));
    assertThat(c.mask().names()).contains("trace_id").containsAll(GoldenConfig.VolatileMask.DEFAULT.names());
    assertThat(c.mask().pointerGlobs()).containsExactly("/steps/*/debug/**");
  }

  @Test
  void unsetMappingKeysKeepTheirDefaults() throws Exception {
    GoldenConfig c = GoldenConfig.fromMap(json("{'mapping': {'run_id': '/id', 'rng_keys': 'random'}}"), WHERE);
    assertThat(c.mapping().runId()).isEqualTo("/id");
    assertThat(c.mapping().rngKeys()).containsExactly("random");
    assertThat(c.mapping().steps()).isEqualTo(GoldenConfig.Mapping.DEFAULT.steps());
    assertThat(c.limits()).isEqualTo(GoldenConfig.Limits.DEFAULT);
  }

  @Test
  void replaceDefaultsDropsTheDefaultVolatileNames() throws Exception {
    GoldenConfig c = GoldenConfig.fromMap(
        json("{'volatile': {'names': ['trace_id'], 'replace_defaults': true}}"), WHERE);
    assertThat(c.mask().names()).containsExactly("trace_id");
  }

  @Test
  void aCustomVolatileNameIsMaskedWhenHashing() throws Exception {
    GoldenConfig c = GoldenConfig.fromMap(json("{'volatile': {'names': ['trace_id']}}"), WHERE);
    byte[] a = "{\"run_id\":\"r1\",\"output\":1,\"trace_id\":\"aaa\"}".getBytes(StandardCharsets.UTF_8);
    byte[] b = "{\"run_id\":\"r1\",\"output\":1,\"trace_id\":\"bbb\"}".getBytes(StandardCharsets.UTF_8);
    assertThat(Golden.parse(a, "a", GoldenConfig.DEFAULT).summary().canonicalHash())
        .isNotEqualTo(Golden.parse(b, "b", GoldenConfig.DEFAULT).summary().canonicalHash());
    assertThat(Golden.parse(a, "a", c).summary().canonicalHash())
        .isEqualTo(Golden.parse(b, "b", c).summary().canonicalHash());
  }

  @Test
  void badValuesNameTheFullKey() throws Exception {
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'mapping': {'run_id': 'run_id'}}"), WHERE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("agent.yaml: golden.mapping.run_id must be a JSON Pointer starting with '/', got \"run_id\"");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'mapping': {'steps': 'steps'}}"), WHERE))
        .hasMessageStartingWith("agent.yaml: golden.mapping.steps must be a JSON Pointer");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'mapping': {'run_id': ''}}"), WHERE))
        .hasMessageStartingWith("agent.yaml: golden.mapping.run_id ");
    // wildcards masked (and read) every member at that depth: a difference there read as a match
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'mapping': {'role': '/*/role'}}"), WHERE))
        .hasMessage("agent.yaml: golden.mapping.role must be literal: '*' and '**' are wildcards only"
            + " in volatile.pointers, got \"/*/role\"");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'mapping': {'step_hash': '/**'}}"), WHERE))
        .hasMessageStartingWith("agent.yaml: golden.mapping.step_hash must be literal");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'mapping': {'rng_keys': ['rng', '*']}}"), WHERE))
        .hasMessageStartingWith("agent.yaml: golden.mapping.rng_keys[1] must be literal");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'mapping': {'response_key': '**'}}"), WHERE))
        .hasMessageStartingWith("agent.yaml: golden.mapping.response_key must be literal");
    assertThat(GoldenConfig.fromMap(json("{'mapping': {'role': '/a*/role', 'rng_keys': ['/x/*y']}}"), WHERE)
        .mapping().role()).as("a star inside a name is a literal character").isEqualTo("/a*/role");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'volatile': {'pointers': ['/a', 'b/*']}}"), WHERE))
        .hasMessageStartingWith("agent.yaml: golden.volatile.pointers[1] must be a JSON Pointer glob")
        .hasMessageContaining("b/*");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'volatile': {'names': {'a': 1}}}"), WHERE))
        .hasMessage("agent.yaml: golden.volatile.names must be a list of strings");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'volatile': {'replace_defaults': 'maybe'}}"), WHERE))
        .hasMessageStartingWith("agent.yaml: golden.volatile.replace_defaults must be true or false");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'limits': {'max_depth': 100000}}"), WHERE))
        .hasMessage("agent.yaml: golden.limits.max_depth must be between 1 and 4096, got 100000");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'limits': {'max_bytes': 'lots'}}"), WHERE))
        .hasMessageStartingWith("agent.yaml: golden.limits.max_bytes must be a size like");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'limits': {'max_bytes': 0}}"), WHERE))
        .hasMessageStartingWith("agent.yaml: golden.limits.max_bytes must be between 1 and");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'limits': {'max_depth': 1.5}}"), WHERE))
        .hasMessageStartingWith("agent.yaml: golden.limits.max_depth must be a whole number");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'limits': 5}"), WHERE))
        .hasMessage("agent.yaml: golden.limits must be a mapping");
  }

  @Test
  void unknownKeysAreErrorsNamingTheFullKey() throws Exception {
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'mapping': {'runid': '/x'}}"), WHERE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("agent.yaml: golden.mapping.runid is not a known key (known: ");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'masks': {}}"), WHERE))
        .hasMessageStartingWith("agent.yaml: golden.masks is not a known key");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'limits': {'max_bytez': 1}}"), WHERE))
        .hasMessageStartingWith("agent.yaml: golden.limits.max_bytez is not a known key");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'mapping': {'seed': 'seed'}}"), "golden.yaml: "))
        .hasMessageStartingWith("golden.yaml: mapping.seed must be a JSON Pointer");
  }

  @Test
  void theDiffSectionIsReadAndCheckedNamingItsKeys() throws Exception {
    GoldenConfig c = GoldenConfig.fromMap(json(
        "{'diff': {'array_keys': {'/steps/*/output/accounts': 'id'}, 'max_differences': 50}}"), WHERE);
    assertThat(c.diff().arrayKeys()).containsEntry("/steps/*/output/accounts", "id");
    assertThat(c.diff().maxDifferences()).isEqualTo(50);
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'diff': {'array_keys': {'accounts': 'id'}}}"), WHERE))
        .hasMessage("agent.yaml: golden.diff.array_keys.accounts must be a JSON Pointer glob of an array starting with '/'");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'diff': {'array_keys': {'/a': ''}}}"), WHERE))
        .hasMessageContaining("golden.diff.array_keys./a must name the member");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'diff': {'max_differences': 0}}"), WHERE))
        .hasMessageContaining("golden.diff.max_differences must be between 1 and 1000000, got 0");
    assertThatThrownBy(() -> GoldenConfig.fromMap(json("{'diff': {'cap': 1}}"), WHERE))
        .hasMessageContaining("golden.diff.cap is not a known key");
  }

  @Test
  void tooManyRngKeysAreRefused() {
    assertThatThrownBy(() -> GoldenConfig.fromMap(Map.of("mapping", Map.of("rng_keys",
        java.util.Collections.nCopies(17, "r"))), WHERE)).hasMessageContaining("golden.mapping.rng_keys may list at most 16");
  }
}
