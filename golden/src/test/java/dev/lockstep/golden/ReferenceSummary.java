package dev.lockstep.golden;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import dev.lockstep.golden.GoldenParseException.Code;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Test reference: a golden tree reduced to its {@link RunSummary} per docs/golden-format.md
 * ("Summary"), by JSON Pointer look-ups on a Jackson tree and {@link ReferenceCanonical}.
 */
final class ReferenceSummary {
  private static final BigInteger MIN_SEED = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger MAX_SEED = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  private final GoldenConfig config;
  private final GoldenConfig.Mapping mapping;
  private final ReferenceMask content;

  ReferenceSummary(GoldenConfig config) {
    this.config = config;
    this.mapping = config.mapping();
    this.content = ReferenceMask.forContent(config);
  }

  static RunSummary of(byte[] bytes, String source, GoldenConfig config) throws GoldenParseException {
    return new ReferenceSummary(config).summarize(ReferenceParser.read(bytes, config.limits()), source);
  }

  RunSummary summarize(JsonNode root, String source) throws GoldenParseException {
    String runId = text(root, List.of(), mapping.runId());
    if (runId == null || runId.isEmpty()) {
      throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD, "no run id");
    }
    String role = text(root, List.of(), mapping.role());
    if (role == null || role.isEmpty()) {
      role = SummaryBuilder.roleFromFileName(source);
    }
    Long seed = seed(root, source);
    JsonNode steps = visible(root, mapping.steps());
    if (steps != null && !steps.isArray() && !steps.isNull()) {
      throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD, "steps must be an array");
    }
    String document = ReferenceCanonical.hash(root, content, List.of());
    String engine = orEmpty(text(root, List.of(), mapping.runHash()));
    JsonNode output = visible(root, mapping.output());
    String outputHash = output == null ? "" : ReferenceCanonical.hash(output, content, Pointer.split(mapping.output()));
    List<StepSummary> out = new ArrayList<>();
    if (steps != null && steps.isArray()) {
      for (int i = 0; i < steps.size(); i++) {
        List<Object> path = new ArrayList<>(Pointer.split(mapping.steps()));
        path.add(i);
        out.add(step(steps.get(i), i, path));
      }
    }
    return new RunSummary(runId, orEmpty(text(root, List.of(), mapping.workflow())), role, seed, document, engine,
        outputHash, out);
  }

  private StepSummary step(JsonNode step, int position, List<Object> path) {
    String hash = ReferenceCanonical.hash(step, content, strings(path));
    if (!step.isObject()) {
      return new StepSummary(position, "", "", false, hash, "", "", "");
    }
    JsonNode idx = hiddenInside(path, mapping.stepIndex()) ? null : at(step, mapping.stepIndex());
    int index = position;
    if (idx != null && idx.isNumber()) {
      String c = ReferenceCanonical.number(idx);
      if (c.matches("-?[0-9]{1,10}") && Long.parseLong(c) == (int) Long.parseLong(c)) {
        index = Integer.parseInt(c);
      }
    }
    String kind = orEmpty(text(step, path, mapping.stepKind()));
    JsonNode response = hiddenInside(path, mapping.responseKey()) ? null : memberOrPointer(step, mapping.responseKey());
    boolean external = "external".equals(kind) || response != null;
    String responseHash = response == null || masked(path, mapping.responseKey()) ? ""
        : ReferenceCanonical.hash(response, content, strings(child(path, mapping.responseKey())));
    return new StepSummary(index, orEmpty(text(step, path, mapping.stepName())), kind, external, hash,
        orEmpty(text(step, path, mapping.stepHash())), rngHash(step, path), responseHash);
  }

  private String rngHash(JsonNode step, List<Object> path) {
    List<String> keys = mapping.rngKeys();
    List<String> parts = new ArrayList<>();
    for (String key : keys) {
      JsonNode v = memberOrPointer(step, key);
      if (v != null && !masked(path, key)) {
        parts.add(key + ":" + ReferenceCanonical.hash(v, content, strings(child(path, key))));
      }
    }
    if (parts.isEmpty()) {
      return "";
    }
    if (keys.size() == 1) {
      return parts.get(0).substring(keys.get(0).length() + 1);
    }
    StringBuilder sb = new StringBuilder();
    for (String part : parts) {
      sb.append(part).append(',');
    }
    return ReferenceCanonical.sha256(sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** Whether the member at {@code keyOrPointer} under {@code path}, or any member on the way, is masked. */
  private boolean masked(List<Object> path, String keyOrPointer) {
    return maskedOnTheWay(child(path, keyOrPointer), 0);
  }

  /** Whether a member on the way to {@code keyOrPointer} under {@code path}, not counting itself, is masked. */
  private boolean hiddenInside(List<Object> path, String keyOrPointer) {
    return keyOrPointer != null && !keyOrPointer.isEmpty() && maskedOnTheWay(child(path, keyOrPointer), 1);
  }

  private boolean maskedOnTheWay(List<Object> full, int skipLast) {
    ReferencePath p = new ReferencePath();
    for (int i = 0; i < full.size() - skipLast; i++) {
      Object seg = full.get(i);
      if (seg instanceof Integer index) {
        p.pushIndex(index);
        continue;
      }
      if (content.masks(p, (String) seg)) {
        return true;
      }
      p.pushKey((String) seg);
    }
    return false;
  }

  /** The value at {@code pointer} unless it, or a member on the way to it, is masked. */
  private JsonNode visible(JsonNode root, String pointer) {
    JsonNode n = at(root, pointer);
    return n == null || masked(List.of(), pointer) ? null : n;
  }

  private static List<String> strings(List<Object> path) {
    List<String> out = new ArrayList<>();
    for (Object o : path) {
      out.add(o.toString());
    }
    return out;
  }

  private static List<Object> child(List<Object> path, String keyOrPointer) {
    List<Object> out = new ArrayList<>(path);
    if (keyOrPointer.startsWith("/")) {
      out.addAll(Pointer.split(keyOrPointer));
    } else {
      out.add(keyOrPointer);
    }
    return out;
  }

  private static JsonNode memberOrPointer(JsonNode step, String keyOrPointer) {
    if (keyOrPointer == null || keyOrPointer.isEmpty()) {
      return null;
    }
    return keyOrPointer.startsWith("/") ? at(step, keyOrPointer) : step.get(keyOrPointer);
  }

  private Long seed(JsonNode root, String source) throws GoldenParseException {
    JsonNode s = hiddenInside(List.of(), mapping.seed()) ? null : at(root, mapping.seed());
    if (s == null || s.isNull()) {
      return null;
    }
    String text;
    if (s.isNumber()) {
      text = ReferenceCanonical.number(s);
    } else if (s.isTextual()) {
      text = s.textValue().trim();
    } else {
      throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD, "seed must be an integer");
    }
    if (!text.matches("[+-]?[0-9]+")) {
      throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD, "seed must be an integer");
    }
    BigInteger v = new BigInteger(text.startsWith("+") ? text.substring(1) : text);
    if (v.compareTo(MIN_SEED) < 0 || v.compareTo(MAX_SEED) > 0) {
      throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD, "seed out of range");
    }
    return v.longValue();
  }

  static JsonNode at(JsonNode root, String pointer) {
    if (pointer != null && !pointer.isEmpty() && !pointer.startsWith("/")) {
      return root.get(pointer);
    }
    if (pointer == null || pointer.isEmpty()) {
      return null;
    }
    JsonNode n = root.at(JsonPointer.compile(pointer));
    return n.isMissingNode() ? null : n;
  }

  /** A mapped scalar at {@code keyOrPointer} under {@code base} (at {@code path}), unless it is inside a masked member. */
  private String text(JsonNode base, List<Object> path, String pointer) {
    if (pointer == null || pointer.isEmpty() || hiddenInside(path, pointer)) {
      return null;
    }
    JsonNode n = at(base, pointer);
    if (n == null || n.isNull() || n.isContainerNode()) {
      return null;
    }
    if (n.isTextual()) {
      return n.textValue();
    }
    if (n.isNumber()) {
      return ReferenceCanonical.number(n);
    }
    return n.asText();
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
