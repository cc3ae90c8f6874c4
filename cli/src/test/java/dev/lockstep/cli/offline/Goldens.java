package dev.lockstep.cli.offline;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Golden files for CLI tests. */
final class Goldens {
  private Goldens() {}

  static String doc(String runId, String role, long seed, String timestamp, String rng, String response) {
    return """
        {
          "format": "lockstep.golden/v1",
          "run_id": "%s",
          "workflow": "billing.reconcile",
          "role": "%s",
          "seed": %d,
          "timestamp": "%s",
          "duration_ms": 1520,
          "steps": [
            {"index": 0, "name": "load_accounts", "kind": "compute", "output": {"n": 3}},
            {"index": 1, "name": "fetch_rates", "kind": "external", "request": {"url": "https://rates"}, "response": %s},
            {"index": 2, "name": "sample", "kind": "compute", "rng": %s, "output": {"pick": 7}}
          ],
          "output": {"total": 42}
        }
        """.formatted(runId, role, seed, timestamp, response, rng);
  }

  static String primary(String runId) {
    return doc(runId, "primary", 1234567, "2025-12-02T10:00:00Z", "[0.12, 0.98]", "{\"eur\": 1.08}");
  }

  static String shadow(String runId) {
    return doc(runId, "shadow", 1234567, "2025-12-02T10:00:09Z", "[0.12, 0.98]", "{\"eur\": 1.08}");
  }

  static Path write(Path dir, String name, String content) throws IOException {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    return Files.writeString(p, content, StandardCharsets.UTF_8);
  }

  static Path write(Path dir, String name, byte[] content) throws IOException {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    return Files.write(p, content);
  }
}
