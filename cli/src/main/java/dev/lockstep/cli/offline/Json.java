package dev.lockstep.cli.offline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.golden.RunSummary;
import dev.lockstep.golden.StepRef;
import dev.lockstep.golden.StepSummary;

/** JSON shapes the offline commands print. */
final class Json {
  static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Json() {}

  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  static String pretty(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot print JSON: " + e.getMessage(), e);
    }
  }

  static JsonNode step(StepRef step) {
    if (step == null) {
      return MAPPER.nullNode();
    }
    return object().put("index", step.index()).put("name", step.name());
  }

  /** A run summary as printed by {@code lockstep hash -o json}. */
  static ObjectNode summary(String file, RunSummary s) {
    ObjectNode o = object();
    o.put("file", file);
    o.put("format_version", dev.lockstep.golden.GoldenFormat.VERSION);
    o.put("run_id", s.runId());
    o.put("workflow", s.workflow());
    o.put("role", s.role());
    if (s.seed() == null) {
      o.putNull("seed");
    } else {
      o.put("seed", new java.math.BigInteger(s.seedText())); // unsigned: a u64 seed stays positive
    }
    o.put("hash", s.canonicalHash());
    o.put("engine_hash", s.engineHash());
    o.put("output_hash", s.outputHash());
    var steps = o.putArray("steps");
    for (StepSummary st : s.steps()) {
      steps.addObject()
          .put("index", st.index())
          .put("name", st.name())
          .put("kind", st.kind())
          .put("external", st.external())
          .put("hash", st.canonicalHash())
          .put("engine_hash", st.engineHash())
          .put("rng_hash", st.rngHash())
          .put("response_hash", st.responseHash());
    }
    return o;
  }
}
