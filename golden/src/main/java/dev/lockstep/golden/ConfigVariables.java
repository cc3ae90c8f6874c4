package dev.lockstep.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Environment variables in config values, as the OpenTelemetry Collector writes them:
 * {@code ${env:NAME}} (the variable must be set) and {@code ${env:NAME:-default}} (the default
 * when it is unset or empty); a doubled dollar (<code>$${env:X}</code>) is the literal text <code>${env:X}</code>. Shell syntax
 * such as {@code ${LOCKSTEP_REASON}} in a hook is left alone, so hooks still see their own
 * variables when they run. A value that is exactly one reference takes the type of what it
 * expands to ({@code metrics_port: ${env:PORT:-9465}} is a number).
 *
 * <p>agent.yaml and collector.yaml share this, so {@code LOCKSTEP_ROOT}, {@code LOCKSTEP_AGENT_ID}
 * and {@code LOCKSTEP_COLLECTOR} mean the same in both.
 */
public final class ConfigVariables {
  private ConfigVariables() { }

  /** Thrown for a reference to an unset variable; the message names the key and the variable. */
  public static final class UnsetVariableException extends Exception {
    UnsetVariableException(String message) {
      super(message);
    }
  }

  /**
   * Expands every reference in the string values of {@code root} (in place) from {@code env}.
   *
   * @throws UnsetVariableException naming the first key whose {@code ${env:NAME}} has no value
   */
  public static JsonNode expand(JsonNode root, Map<String, String> env) throws UnsetVariableException {
    if (root == null) {
      return null;
    }
    return expand(root, "", env);
  }

  private static JsonNode expand(JsonNode node, String key, Map<String, String> env)
      throws UnsetVariableException {
    if (node instanceof ObjectNode object) {
      List<String> names = new ArrayList<>();
      object.fieldNames().forEachRemaining(names::add);
      for (String name : names) {
        object.set(name, expand(object.get(name), key.isEmpty() ? name : key + "." + name, env));
      }
      return object;
    }
    if (node instanceof ArrayNode array) {
      for (int i = 0; i < array.size(); i++) {
        array.set(i, expand(array.get(i), key + "[" + i + "]", env));
      }
      return array;
    }
    if (node.isTextual()) {
      return expandText(node.textValue(), key, env);
    }
    return node;
  }

  private static JsonNode expandText(String text, String key, Map<String, String> env)
      throws UnsetVariableException {
    Object v = ConfigValues.expandText(text, key, env);
    if (v instanceof Long l) {
      return LongNode.valueOf(l);
    }
    if (v instanceof Boolean b) {
      return BooleanNode.valueOf(b);
    }
    return TextNode.valueOf((String) v);
  }
}
