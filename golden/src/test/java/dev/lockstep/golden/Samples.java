package dev.lockstep.golden;

import java.nio.charset.StandardCharsets;

/** Golden documents for tests, built from the DESIGN.md example. */
final class Samples {
  private Samples() {}

  static String golden(String role, long seed, String timestamp, String step2Output, String rng,
      String response) {
    return """
        {
          "format": "lockstep.golden/v1",
          "run_id": "billing-7f3a-cycle-0042",
          "workflow": "billing.reconcile",
          "role": "%s",
          "seed": %d,
          "timestamp": "%s",
          "duration_ms": 1520,
          "steps": [
            {"index": 0, "name": "load_accounts", "kind": "compute", "output": {"n": 3}},
            {"index": 1, "name": "fetch_rates", "kind": "external", "request": {"url": "https://rates"}, "response": %s},
            {"index": 2, "name": "sample", "kind": "compute", "rng": %s, "output": %s}
          ],
          "output": {"total": 42}
        }
        """.formatted(role, seed, timestamp, response, rng, step2Output);
  }

  static String primary() {
    return golden("primary", 1234567, "2025-12-02T10:00:00Z", "{\"pick\": 7}", "[0.12, 0.98]",
        "{\"eur\": 1.08}");
  }

  static GoldenDocument parse(String json) throws GoldenParseException {
    return parse(json, "test.golden.json");
  }

  static GoldenDocument parse(String json, String source) throws GoldenParseException {
    return Golden.parse(json.getBytes(StandardCharsets.UTF_8), source, GoldenConfig.DEFAULT);
  }
}
