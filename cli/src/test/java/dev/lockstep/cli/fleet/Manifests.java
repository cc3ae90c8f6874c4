package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Checks an exported incident directory file by file against its manifest.json. */
final class Manifests {
  private Manifests() {}

  /** Asserts every file is listed with its recomputed size and SHA-256; returns the manifest. */
  static JsonNode verify(Path dir) throws Exception {
    JsonNode manifest = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
    assertThat(manifest.path("format").asText()).isEqualTo("lockstep.evidence/v1");
    Set<String> listed = new HashSet<>();
    for (JsonNode f : manifest.path("files")) {
      String name = f.path("name").asText();
      Path file = dir.resolve(name).normalize();
      assertThat(file).startsWith(dir);
      assertThat(file).isRegularFile();
      byte[] bytes = Files.readAllBytes(file);
      assertThat(f.path("size_bytes").asLong()).as("size of %s", name).isEqualTo(bytes.length);
      assertThat(f.path("sha256").asText()).as("sha256 of %s", name).isEqualTo(sha256(bytes));
      listed.add(name);
    }
    Set<String> onDisk;
    try (Stream<Path> walk = Files.walk(dir)) {
      onDisk = walk.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString().replace('\\', '/'))
          .filter(n -> !n.equals("manifest.json")).collect(Collectors.toSet());
    }
    assertThat(listed).as("files listed in manifest.json").isEqualTo(onDisk);
    return manifest;
  }

  static String sha256(byte[] bytes) throws Exception {
    return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  static String read(Path p) throws IOException {
    return Files.readString(p);
  }
}
