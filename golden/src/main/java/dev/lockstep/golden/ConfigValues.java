package dev.lockstep.golden;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link ConfigVariables} for a config tree of plain Java values (a YAML or JSON document read
 * into {@code Map<String, Object>}, {@code List<Object>}, strings, numbers, booleans and nulls),
 * for readers that do without jackson-databind. Same syntax, same rules, same messages.
 */
public final class ConfigValues {
  private static final Pattern REFERENCE =
      Pattern.compile("\\$(\\$?)\\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
  private static final Pattern INTEGER = Pattern.compile("-?[0-9]{1,18}");

  private ConfigValues() { }

  /**
   * Expands every reference in the string values of {@code tree} from {@code env}: maps and lists
   * are changed in place (they must be mutable); the (possibly replaced) root is returned.
   *
   * @throws ConfigVariables.UnsetVariableException naming the first key whose {@code ${env:NAME}}
   *     has no value
   */
  public static Object expand(Object tree, Map<String, String> env) throws ConfigVariables.UnsetVariableException {
    return expand(tree, "", env);
  }

  @SuppressWarnings("unchecked")
  private static Object expand(Object node, String key, Map<String, String> env)
      throws ConfigVariables.UnsetVariableException {
    if (node instanceof Map<?, ?> map) {
      for (Map.Entry<String, Object> e : ((Map<String, Object>) map).entrySet()) {
        e.setValue(expand(e.getValue(), key.isEmpty() ? e.getKey() : key + "." + e.getKey(), env));
      }
      return map;
    }
    if (node instanceof List<?> list) {
      List<Object> l = (List<Object>) list;
      for (int i = 0; i < l.size(); i++) {
        l.set(i, expand(l.get(i), key + "[" + i + "]", env));
      }
      return l;
    }
    if (node instanceof String text) {
      return expandText(text, key, env);
    }
    return node;
  }

  /**
   * The text with its references expanded: a String, or a Long / Boolean when the text is exactly
   * one reference that expands to an integer / true / false.
   */
  static Object expandText(String text, String key, Map<String, String> env)
      throws ConfigVariables.UnsetVariableException {
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
        throw new ConfigVariables.UnsetVariableException((key.isEmpty() ? "value" : key) + ": environment variable "
            + m.group(2) + " is not set (in \"" + text + "\"; write ${env:" + m.group(2)
            + ":-DEFAULT} for a default)");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    String expanded = out.toString();
    if (references == 1 && whole) {
      if (INTEGER.matcher(expanded).matches()) {
        return Long.parseLong(expanded);
      }
      if (expanded.equals("true") || expanded.equals("false")) {
        return Boolean.parseBoolean(expanded);
      }
    }
    return expanded;
  }
}
