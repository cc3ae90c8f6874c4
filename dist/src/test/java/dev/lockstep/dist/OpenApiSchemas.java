package dev.lockstep.dist;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Kubernetes objects checked against the API server's OpenAPI v3 schemas, offline (kubeconform's
 * approach, strict mode): the schema is picked by apiVersion and kind, {@code $ref}/{@code allOf}/
 * {@code oneOf} are followed, types, required fields and enums are checked, and a field the schema
 * does not define is an error. Covers the subset of OpenAPI the Kubernetes documents use.
 */
final class OpenApiSchemas {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String REF_PREFIX = "#/components/schemas/";

  private final Map<String, JsonNode> components = new HashMap<>();
  private final Map<String, JsonNode> byKind = new HashMap<>();

  /** Loads the test-data schema files from the class path. */
  static OpenApiSchemas load(String dir, List<String> openApiFiles, List<String> crdFiles) throws IOException {
    OpenApiSchemas s = new OpenApiSchemas();
    for (String file : openApiFiles) {
      JsonNode doc = read(dir + "/" + file);
      doc.path("components").path("schemas").fields().forEachRemaining(e -> {
        s.components.put(e.getKey(), e.getValue());
        for (JsonNode gvk : e.getValue().path("x-kubernetes-group-version-kind")) {
          s.byKind.put(key(gvk.path("group").asText(), gvk.path("version").asText(), gvk.path("kind").asText()),
              e.getValue());
        }
      });
    }
    for (String file : crdFiles) {
      JsonNode crd = read(dir + "/" + file);
      s.byKind.put(key(crd.path("group").asText(), crd.path("version").asText(), crd.path("kind").asText()),
          crd.path("schema"));
    }
    return s;
  }

  private static JsonNode read(String resource) throws IOException {
    try (InputStream in = OpenApiSchemas.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException("no test resource " + resource);
      }
      return JSON.readTree(in);
    }
  }

  private static String key(String group, String version, String kind) {
    return (group.isEmpty() ? "" : group + "/") + version + "/" + kind;
  }

  /** Every violation in {@code object}, as "path: problem"; empty when it is valid. */
  List<String> validate(JsonNode object) {
    List<String> errors = new ArrayList<>();
    String apiVersion = object.path("apiVersion").asText();
    String kind = object.path("kind").asText();
    JsonNode schema = byKind.get(key(apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "",
        apiVersion.contains("/") ? apiVersion.substring(apiVersion.indexOf('/') + 1) : apiVersion, kind));
    if (schema == null) {
      errors.add("no schema for apiVersion " + apiVersion + ", kind " + kind);
      return errors;
    }
    check(object, schema, kind, errors);
    return errors;
  }

  private JsonNode resolve(JsonNode schema) {
    while (schema.has("$ref")) {
      String ref = schema.get("$ref").asText();
      JsonNode target = components.get(ref.startsWith(REF_PREFIX) ? ref.substring(REF_PREFIX.length()) : ref);
      if (target == null) {
        throw new IllegalStateException("unresolved $ref " + ref);
      }
      schema = target;
    }
    return schema;
  }

  private void check(JsonNode value, JsonNode rawSchema, String path, List<String> errors) {
    JsonNode schema = resolve(rawSchema);
    for (JsonNode part : schema.path("allOf")) {
      check(value, part, path, errors);
    }
    if (schema.has("oneOf")) {
      int matches = 0;
      for (JsonNode option : schema.get("oneOf")) {
        List<String> sub = new ArrayList<>();
        check(value, option, path, sub);
        matches += sub.isEmpty() ? 1 : 0;
      }
      if (matches != 1) {
        errors.add(path + ": matches " + matches + " of the oneOf alternatives, expected exactly 1");
      }
    }
    if (schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
      if (!value.isInt() && !value.isTextual()) {
        errors.add(path + ": must be an integer or a string, got " + value.getNodeType());
      }
      return;
    }
    String type = schema.path("type").asText("");
    switch (type) {
      case "object" -> object(value, schema, path, errors);
      case "array" -> {
        if (!value.isArray()) {
          errors.add(path + ": must be an array, got " + value.getNodeType());
        } else {
          for (int i = 0; i < value.size(); i++) {
            check(value.get(i), schema.path("items"), path + "[" + i + "]", errors);
          }
        }
      }
      case "string" -> {
        if (!value.isTextual()) {
          errors.add(path + ": must be a string, got " + value.getNodeType() + " " + value);
        }
      }
      case "integer" -> {
        if (!value.isIntegralNumber()) {
          errors.add(path + ": must be an integer, got " + value.getNodeType() + " " + value);
        }
      }
      case "number" -> {
        if (!value.isNumber()) {
          errors.add(path + ": must be a number, got " + value.getNodeType());
        }
      }
      case "boolean" -> {
        if (!value.isBoolean()) {
          errors.add(path + ": must be a boolean, got " + value.getNodeType() + " " + value);
        }
      }
      default -> {
        if (schema.has("properties")) {
          object(value, schema, path, errors);
        }
      }
    }
    if (schema.has("enum")) {
      boolean found = false;
      for (JsonNode allowed : schema.get("enum")) {
        found |= allowed.equals(value);
      }
      if (!found) {
        errors.add(path + ": " + value + " is not one of " + schema.get("enum"));
      }
    }
  }

  private void object(JsonNode value, JsonNode schema, String path, List<String> errors) {
    if (!value.isObject()) {
      errors.add(path + ": must be an object, got " + value.getNodeType() + " " + value);
      return;
    }
    for (JsonNode required : schema.path("required")) {
      if (!value.has(required.asText())) {
        errors.add(path + ": required field " + required.asText() + " is missing");
      }
    }
    JsonNode properties = schema.path("properties");
    JsonNode additional = schema.get("additionalProperties");
    if (!schema.has("properties") && (additional == null
        || schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false))) {
      return; // a free-form object (RawExtension, preserved unknown fields)
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      String at = path + "." + field.getKey();
      if (properties.has(field.getKey())) {
        check(field.getValue(), properties.get(field.getKey()), at, errors);
      } else if (additional != null && additional.isObject()) {
        check(field.getValue(), additional, at, errors);
      } else if (additional == null || !additional.asBoolean(false)) {
        errors.add(at + ": unknown field");
      }
    }
  }
}
