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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
  private static final Pattern REFERENCE =
      Pattern.compile("\\$(\\$?)\\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
  private static final Pattern INTEGER = Pattern.compile("-?[0-9]{1,18}");

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
    Matcher m = REFERENCE.matcher(text);
    StringBuilder out = new StringBuilder();
    int references = 0;
    boolean whole = false;
    while (m.find()) {
      if (!m.group(1).isEmpty()) {
        m.appendReplacement(out, Matcher.quoteReplacement(m.group().substring(1)));
        continue;
      }
      references++;
      whole = m.start() == 0 && m.end() == text.length();
      String value = env.get(m.group(2));
      if (value == null || value.isEmpty()) {
        value = m.group(3);
      }
      if (value == null) {
        throw new UnsetVariableException((key.isEmpty() ? "value" : key) + ": environment variable "
            + m.group(2) + " is not set (in \"" + text + "\"; write ${env:" + m.group(2)
            + ":-DEFAULT} for a default)");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    String expanded = out.toString();
    if (references == 1 && whole) {
      if (INTEGER.matcher(expanded).matches()) {
        return LongNode.valueOf(Long.parseLong(expanded));
      }
      if (expanded.equals("true") || expanded.equals("false")) {
        return BooleanNode.valueOf(Boolean.parseBoolean(expanded));
      }
    }
    return TextNode.valueOf(expanded);
  }
}
