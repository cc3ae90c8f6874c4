package dev.lockstep.cli.offline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.lockstep.golden.GoldenConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Option;

/**
 * {@code --golden-config FILE} of the offline commands: the limits/volatile/mapping section agents
 * and collector hash and diff with, so the CLI can read golden files the same way. The file (YAML
 * or JSON) is either that section itself or has it under a top-level {@code golden:} key, so an
 * agent.yaml can be passed as is. Without the option, {@link GoldenConfig#DEFAULT}.
 */
final class GoldenConfigOption {
  /** agent.yaml's golden keys that configure the watcher, not hashing; skipped here. */
  private static final Set<String> WATCH_KEYS = Set.of("dirs", "file_glob", "settle", "rescan_interval", "malformed_grace");

  @Option(names = "--golden-config", paramLabel = "FILE",
      description = "How to read golden files: a YAML/JSON file with limits, volatile and mapping (at the top"
          + " level or under golden:, e.g. agent.yaml). Must match what the agents use. Default: built-in.")
  Path file;

  /** The configured {@link GoldenConfig}; a bad file is a {@link CommandError} (exit 2, one line). */
  GoldenConfig load() {
    if (file == null) {
      return GoldenConfig.DEFAULT;
    }
    String name = file.getFileName() == null ? file.toString() : file.getFileName().toString();
    JsonNode root;
    try {
      root = new YAMLMapper().readTree(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw bad("--golden-config: no such file: " + file);
    } catch (IOException e) {
      String msg = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      throw bad(name + ": not valid YAML or JSON: " + msg);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return GoldenConfig.DEFAULT;
    }
    if (!root.isObject()) {
      throw bad(name + ": the top level must be a mapping");
    }
    JsonNode section = root;
    String where = name + ": ";
    if (root.has("golden")) {
      section = root.get("golden");
      where = name + ": golden";
      if (section.isNull()) {
        return GoldenConfig.DEFAULT;
      }
      if (!section.isObject()) {
        throw bad(where + " must be a mapping");
      }
      ObjectNode copy = ((ObjectNode) section).deepCopy();
      copy.remove(WATCH_KEYS);
      section = copy;
    }
    try {
      @SuppressWarnings("unchecked")
      Map<String, Object> map = new YAMLMapper().convertValue(section, Map.class);
      return GoldenConfig.fromMap(map, where);
    } catch (IllegalArgumentException e) {
      throw bad(e.getMessage());
    }
  }

  private static CommandError bad(String message) {
    return new CommandError(OfflineCommands.BAD_INPUT, message);
  }
}
