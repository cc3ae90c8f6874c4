package dev.lockstep.golden;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import dev.lockstep.golden.GoldenParseException.Code;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reduces a parsed golden tree to its {@link RunSummary} per the configured {@link GoldenConfig.Mapping}. */
final class Summarizer {
  private static final Pattern ROLE_IN_NAME = Pattern.compile("(?:^|.*\\.)([^./\\\\]+)\\.golden\\.json$");

  private final GoldenConfig config;
  private final GoldenConfig.Mapping mapping;

  Summarizer(GoldenConfig config) {
    this.config = config;
    this.mapping = config.mapping();
  }

  RunSummary summarize(JsonNode root, String source) throws GoldenParseException {
    String runId = text(root, mapping.runId());
    if (runId == null || runId.isEmpty()) {
      throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD,
          "no run id at " + pointerName(mapping.runId()));
    }
    String workflow = orEmpty(text(root, mapping.workflow()));
    String role = text(root, mapping.role());
    if (role == null || role.isEmpty()) {
      role = roleFromFileName(source);
    }
    Long seed = seed(root, source);
    JsonNode steps = at(root, mapping.steps());
    if (steps != null && !steps.isArray() && !steps.isNull()) {
      throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD,
          pointerName(mapping.steps()) + " must be an array of steps");
    }

    Canonical canonical = new Canonical(Mask.forContent(config));
    Canonical.DocumentHashes hashes = canonical.hashDocument(root, steps);
    String engineHash = orEmpty(text(root, mapping.runHash()));
    JsonNode output = at(root, mapping.output());
    String outputHash = output == null ? "" : canonical.hash(output, Pointer.split(mapping.output()));

    List<StepSummary> stepSummaries = new ArrayList<>();
    if (steps != null && steps.isArray()) {
      List<String> stepsPath = Pointer.split(mapping.steps());
      for (int i = 0; i < steps.size(); i++) {
        stepSummaries.add(step(steps.get(i), i, stepsPath, hashes.steps().get(i), canonical));
      }
    }
    return new RunSummary(runId, workflow, role, seed, hashes.document(), engineHash, outputHash,
        stepSummaries);
  }

  private StepSummary step(JsonNode step, int position, List<String> stepsPath, String hash,
      Canonical canonical) {
    List<String> path = new ArrayList<>(stepsPath);
    path.add(Integer.toString(position));
    if (!step.isObject()) {
      return new StepSummary(position, "", "", false, hash, "", "", "");
    }
    JsonNode idx = at(step, mapping.stepIndex());
    int index = idx != null && idx.canConvertToInt() && idx.isIntegralNumber() ? idx.intValue() : position;
    String name = orEmpty(text(step, mapping.stepName()));
    String kind = orEmpty(text(step, mapping.stepKind()));
    String engineHash = orEmpty(text(step, mapping.stepHash()));
    JsonNode response = memberOrPointer(step, mapping.responseKey());
    boolean external = "external".equals(kind) || response != null;
    String responseHash = response == null ? "" : canonical.hash(response, child(path, mapping.responseKey()));
    String rngHash = rngHash(step, path, canonical);
    return new StepSummary(index, name, kind, external, hash, engineHash, rngHash, responseHash);
  }

  /** One rng key: the hash of its value; several: the hash of "key:hash," over present keys in order. */
  private String rngHash(JsonNode step, List<String> path, Canonical canonical) {
    List<String> keys = mapping.rngKeys() == null ? List.of() : mapping.rngKeys();
    List<String> parts = new ArrayList<>();
    for (String key : keys) {
      JsonNode v = memberOrPointer(step, key);
      if (v != null) {
        parts.add(key + ":" + canonical.hash(v, child(path, key)));
      }
    }
    if (parts.isEmpty()) {
      return "";
    }
    if (keys.size() == 1) {
      return parts.get(0).substring(keys.get(0).length() + 1);
    }
    MessageDigest md = Canonical.sha256();
    for (String part : parts) {
      md.update(part.getBytes(StandardCharsets.UTF_8));
      md.update((byte) ',');
    }
    return Canonical.format(md);
  }

  private static List<String> child(List<String> path, String keyOrPointer) {
    List<String> out = new ArrayList<>(path);
    if (keyOrPointer.startsWith("/")) {
      out.addAll(Pointer.split(keyOrPointer));
    } else {
      out.add(keyOrPointer);
    }
    return out;
  }

  /** A step member given as a plain key ("response") or a step-relative JSON Pointer. */
  static JsonNode memberOrPointer(JsonNode step, String keyOrPointer) {
    if (keyOrPointer == null || keyOrPointer.isEmpty()) {
      return null;
    }
    if (keyOrPointer.startsWith("/")) {
      return at(step, keyOrPointer);
    }
    return step.get(keyOrPointer);
  }

  private Long seed(JsonNode root, String source) throws GoldenParseException {
    JsonNode s = at(root, mapping.seed());
    if (s == null || s.isNull()) {
      return null;
    }
    if (s.isIntegralNumber() && s.canConvertToLong()) {
      return s.longValue();
    }
    if (s.isNumber() && s.doubleValue() == Math.rint(s.doubleValue())
        && Math.abs(s.doubleValue()) < 9.2e18) {
      return (long) s.doubleValue();
    }
    if (s.isTextual()) {
      try {
        return Long.parseLong(s.textValue().trim());
      } catch (NumberFormatException e) {
        // fall through to the error below
      }
    }
    throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD,
        pointerName(mapping.seed()) + " must be an integer, got " + Canonical.toText(s));
  }

  static JsonNode at(JsonNode root, String pointer) {
    if (pointer == null) {
      return null;
    }
    if (pointer.isEmpty()) {
      return root;
    }
    JsonNode n = root.at(JsonPointer.compile(pointer));
    return n.isMissingNode() ? null : n;
  }

  private static String text(JsonNode root, String pointer) {
    JsonNode n = at(root, pointer);
    if (n == null || n.isNull()) {
      return null;
    }
    if (n.isTextual()) {
      return n.textValue();
    }
    if (n.isValueNode()) {
      return Canonical.toText(n);
    }
    return null;
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  private static String pointerName(String pointer) {
    return "\"" + pointer + "\"";
  }

  /** {@code x.primary.golden.json}, {@code primary.golden.json} → "primary"; otherwise "". */
  static String roleFromFileName(String source) {
    if (source == null) {
      return "";
    }
    String name = source;
    int slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
    if (slash >= 0) {
      name = name.substring(slash + 1);
    }
    Matcher m = ROLE_IN_NAME.matcher(name);
    return m.matches() ? m.group(1) : "";
  }
}
