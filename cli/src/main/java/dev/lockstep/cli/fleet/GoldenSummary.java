package dev.lockstep.cli.fleet;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.GoldenParseException;
import dev.lockstep.golden.RunSummary;
import java.nio.file.Path;
import java.util.List;

/**
 * golden_summary.json of an evidence export: each exported golden file read by the golden library
 * and reduced to its {@link RunSummary} (or its typed parse error).
 */
final class GoldenSummary {
  private GoldenSummary() {}

  static ObjectNode of(Path root, List<Path> goldenFiles, String incidentId) {
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode out = mapper.createObjectNode();
    out.put("incident_id", incidentId);
    ArrayNode files = out.putArray("files");
    for (Path file : goldenFiles) {
      ObjectNode f = files.addObject();
      f.put("name", root.relativize(file).toString().replace('\\', '/'));
      try {
        RunSummary s = Golden.read(file, GoldenConfig.DEFAULT).summary();
        f.put("run_id", s.runId());
        f.put("workflow", s.workflow());
        f.put("role", s.role());
        if (s.seed() == null) {
          f.putNull("seed");
        } else {
          f.put("seed", s.seed());
        }
        f.put("canonical_hash", s.canonicalHash());
        f.put("engine_hash", s.engineHash());
        f.put("output_hash", s.outputHash());
        f.put("steps", s.steps().size());
      } catch (GoldenParseException e) {
        ObjectNode err = f.putObject("error");
        err.put("code", e.code().name());
        err.put("line", e.line());
        err.put("column", e.column());
        err.put("message", e.reason());
      }
    }
    return out;
  }
}
