package dev.lockstep.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes golden files in format v1 the way a workflow engine would. */
public final class GoldenFiles {
  private GoldenFiles() {}

  public static String json(String runId, String role, long seed, int total) {
    return "{\"format\":\"lockstep.golden/v1\",\"run_id\":\"" + runId + "\",\"workflow\":\"billing.reconcile\","
        + "\"role\":\"" + role + "\",\"seed\":" + seed + ",\"timestamp\":\"2025-12-02T10:00:00Z\",\"duration_ms\":1520,"
        + "\"steps\":[{\"index\":0,\"name\":\"load\",\"kind\":\"compute\",\"output\":{\"n\":3}},"
        + "{\"index\":1,\"name\":\"sum\",\"kind\":\"compute\",\"output\":{\"total\":" + total + "}}],"
        + "\"output\":{\"total\":" + total + "}}";
  }

  /** Writes to a hidden temp name, then renames into place (a complete file appears at once). */
  public static Path writeAtomically(Path dir, String runId, String role) throws IOException {
    Path tmp = dir.resolve("." + runId + "." + role + ".tmp");
    Files.writeString(tmp, json(runId, role, 42, 7), StandardCharsets.UTF_8);
    Path target = dir.resolve(runId + "." + role + ".golden.json");
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    return target;
  }
}
