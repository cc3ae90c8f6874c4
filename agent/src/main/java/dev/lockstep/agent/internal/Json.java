package dev.lockstep.agent.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON and YAML documents as plain Java values ({@code Map<String, Object>} in member order,
 * {@code List<Object>}, String, Integer/Long/BigInteger, Double, Boolean, null), read and written
 * with jackson-core's streaming parser and generator: the agent needs no object mapping, so it
 * loads no jackson-databind classes. The accessors read the agent's own state files, where a
 * missing or mistyped member gets the default.
 */
public final class Json {
  private static final JsonFactory JSON = new JsonFactory();

  private Json() {}

  /** Writes one JSON document. */
  public interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  /** A JSON document (or null for empty input). */
  public static Object parse(byte[] json) throws IOException {
    try (JsonParser p = JSON.createParser(json)) {
      return read(p);
    }
  }

  /** The first YAML document (or null for an empty file). */
  public static Object parseYaml(byte[] yaml) throws IOException {
    try (JsonParser p = new YAMLFactory().createParser(yaml)) {
      return read(p);
    }
  }

  private static Object read(JsonParser p) throws IOException {
    JsonToken t = p.nextToken();
    return t == null ? null : value(p, t);
  }

  private static Object value(JsonParser p, JsonToken t) throws IOException {
    switch (t) {
      case START_OBJECT -> {
        Map<String, Object> m = new LinkedHashMap<>();
        while ((t = p.nextToken()) != JsonToken.END_OBJECT) {
          String name = p.currentName();
          m.put(name, value(p, p.nextToken()));
        }
        return m;
      }
      case START_ARRAY -> {
        List<Object> l = new ArrayList<>();
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
          l.add(value(p, t));
        }
        return l;
      }
      case VALUE_STRING -> {
        return p.getText();
      }
      case VALUE_NUMBER_INT -> {
        return p.getNumberValue();
      }
      case VALUE_NUMBER_FLOAT -> {
        return p.getDoubleValue();
      }
      case VALUE_TRUE -> {
        return Boolean.TRUE;
      }
      case VALUE_FALSE -> {
        return Boolean.FALSE;
      }
      case VALUE_NULL -> {
        return null;
      }
      default -> {
        Object o = p.getEmbeddedObject();
        return o == null ? p.getText() : o.toString();
      }
    }
  }

  /** The document body writes, pretty-printed (two-space indent, "key" : value) as UTF-8. */
  public static byte[] pretty(Body body) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.useDefaultPrettyPrinter();
      body.write(g);
    }
    return out.toByteArray();
  }

  /** The document body writes, compact. */
  public static byte[] compact(Body body) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      body.write(g);
    }
    return out.toByteArray();
  }

  // ------------------------------------------------------------------ lenient accessors

  /** The member as a map (empty when missing or not a map). */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> map(Object parent, String key) {
    Object v = parent instanceof Map<?, ?> m ? m.get(key) : null;
    return v instanceof Map<?, ?> ? (Map<String, Object>) v : Map.of();
  }

  /** The member as a list (empty when missing or not a list). */
  @SuppressWarnings("unchecked")
  public static List<Object> list(Object parent, String key) {
    Object v = parent instanceof Map<?, ?> m ? m.get(key) : null;
    return v instanceof List<?> ? (List<Object>) v : List.of();
  }

  public static String text(Object parent, String key, String def) {
    Object v = parent instanceof Map<?, ?> m ? m.get(key) : null;
    return v == null || v instanceof Map || v instanceof List ? def : v.toString();
  }

  public static long number(Object parent, String key, long def) {
    Object v = parent instanceof Map<?, ?> m ? m.get(key) : null;
    if (v instanceof Number n) {
      return n.longValue();
    }
    try {
      return v == null ? def : Long.parseLong(v.toString());
    } catch (NumberFormatException e) {
      return def;
    }
  }

  public static boolean bool(Object parent, String key) {
    Object v = parent instanceof Map<?, ?> m ? m.get(key) : null;
    return v instanceof Boolean b ? b : v != null && Boolean.parseBoolean(v.toString());
  }

  public static boolean has(Object parent, String key) {
    return parent instanceof Map<?, ?> m && m.get(key) != null;
  }
}
