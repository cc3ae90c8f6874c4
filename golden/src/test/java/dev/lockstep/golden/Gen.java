package dev.lockstep.golden;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Generators for property tests (plain seeded {@link Random}; the project does not use jqwik): JSON
 * values as Java objects (LinkedHashMap, List, String, BigInteger for integer literals, Double for
 * other numbers, Boolean, null), golden documents with steps, volatile keys, integers beyond 2^53,
 * whole doubles, non-BMP names, configs with masks, and serialisations that spell the same value
 * in many ways (member order, whitespace, escapes, number spelling).
 */
final class Gen {
  private Gen() {}

  static final String NULL = "\u0000null";
  static final List<String> VOLATILE = List.of("timestamp", "duration_ms", "elapsed_ms", "started_at",
      "finished_at", "created_at");
  private static final String[] NAMES = {"a", "b", "id", "n", "x", "value", "\u00e9t\u00e9", "\u20ac", "\ud83d\ude00",
      "\ufb33", "\ue000", "\ud800\udc00", "k\"q", "back\\slash", "tab\t", "a/b", "m~n", "", "Z", "z1", "\u0080",
      "debug", "trace", "host"};

  /** A random JSON value. Depth-limited. */
  static Object value(Random r, int depth) {
    int kind = r.nextInt(depth > 3 ? 7 : 9);
    return switch (kind) {
      case 0 -> NULL;
      case 1 -> r.nextBoolean();
      case 2 -> BigInteger.valueOf(r.nextInt(2001) - 1000);
      case 3 -> bigInteger(r);
      case 4 -> decimal(r);
      case 5, 6 -> string(r);
      case 7 -> {
        List<Object> a = new ArrayList<>();
        for (int i = r.nextInt(4); i > 0; i--) {
          a.add(value(r, depth + 1));
        }
        yield a;
      }
      default -> object(r, depth);
    };
  }

  static Map<String, Object> object(Random r, int depth) {
    Map<String, Object> o = new LinkedHashMap<>();
    for (int i = r.nextInt(5); i > 0; i--) {
      o.put(r.nextInt(6) == 0 ? VOLATILE.get(r.nextInt(VOLATILE.size())) : name(r), value(r, depth + 1));
    }
    return o;
  }

  static String name(Random r) {
    return r.nextInt(4) == 0 ? string(r) : NAMES[r.nextInt(NAMES.length)];
  }

  /** Integers around and far beyond 2^53 and 2^64, exact. */
  static BigInteger bigInteger(Random r) {
    BigInteger base = switch (r.nextInt(5)) {
      case 0 -> BigInteger.TWO.pow(53);
      case 1 -> BigInteger.TWO.pow(63);
      case 2 -> BigInteger.TWO.pow(64);
      case 3 -> BigInteger.TEN.pow(21);
      default -> new BigInteger(1 + r.nextInt(200), r);
    };
    BigInteger v = base.add(BigInteger.valueOf(r.nextInt(2001) - 1000));
    return r.nextBoolean() ? v : v.negate();
  }

  /** Doubles: whole ones (small, beyond 2^53, beyond 1e21), short decimals, full-precision ones, tiny ones. */
  static Double decimal(Random r) {
    double d = switch (r.nextInt(7)) {
      case 0 -> r.nextInt(100000);
      case 1 -> (double) (r.nextLong() >>> r.nextInt(12));
      case 2 -> Math.scalb(1.0, 53 + r.nextInt(40)) * (1 + r.nextInt(1000));
      case 3 -> Math.round(r.nextDouble() * 1e6) / 100.0;
      case 4 -> r.nextDouble();
      case 5 -> r.nextDouble() * Math.pow(10, r.nextInt(600) - 300);
      default -> {
        double x = Double.longBitsToDouble(r.nextLong());
        yield Double.isFinite(x) ? x : r.nextGaussian();
      }
    };
    return r.nextBoolean() ? d : -d;
  }

  static String string(Random r) {
    String alphabet = "ab\u20ac\r\n\t\"\\/\u0001\u001f\u007f\u00f6\ufb33\ue000\ud83d\ude00Z1 ";
    StringBuilder sb = new StringBuilder();
    for (int i = r.nextInt(7); i > 0; i--) {
      char c = alphabet.charAt(r.nextInt(alphabet.length()));
      if (Character.isSurrogate(c)) {
        sb.append(r.nextBoolean() ? "\ud83d\ude00" : "\ud800\udc00");
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /**
   * A golden document: run_id, seed (sometimes u64 or negative), volatile fields, steps with index,
   * name, kind, rng, response, output and engine hash, a run output.
   */
  static Map<String, Object> golden(Random r, int steps) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("run_id", "run-" + r.nextInt(1000));
    d.put("workflow", "wf");
    d.put("role", r.nextBoolean() ? "primary" : "shadow");
    d.put("seed", switch (r.nextInt(4)) {
      case 0 -> BigInteger.valueOf(r.nextInt(1_000_000));
      case 1 -> BigInteger.TWO.pow(64).subtract(BigInteger.valueOf(1 + r.nextInt(1000)));
      case 2 -> BigInteger.valueOf(-1 - r.nextInt(1000));
      default -> BigInteger.valueOf(r.nextLong());
    });
    d.put("timestamp", "2025-12-02T10:00:0" + r.nextInt(10) + "Z");
    List<Object> list = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      list.add(step(r, i));
    }
    d.put("steps", list);
    d.put("output", value(r, 1));
    if (r.nextBoolean()) {
      d.put("hash", "sha256:" + r.nextInt());
    }
    if (r.nextInt(3) == 0) {
      d.put("extra", value(r, 1));
    }
    return d;
  }

  static Map<String, Object> step(Random r, int index) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("index", BigInteger.valueOf(index));
    s.put("name", "step" + index);
    boolean external = r.nextInt(3) == 0;
    s.put("kind", external ? "external" : "compute");
    s.put("started_at", "t" + r.nextInt(100));
    if (external) {
      s.put("request", value(r, 2));
      s.put("response", value(r, 2));
    }
    if (r.nextInt(3) == 0) {
      List<Object> rng = new ArrayList<>();
      for (int i = r.nextInt(3); i >= 0; i--) {
        rng.add(r.nextDouble());
      }
      s.put("rng", rng);
    }
    s.put("output", value(r, 2));
    if (r.nextBoolean()) {
      s.put("hash", "sha256:" + r.nextInt(5));
    }
    return s;
  }

  /** A random config: extra volatile names and globs, sometimes replacing the defaults. */
  static GoldenConfig config(Random r) {
    if (r.nextInt(3) == 0) {
      return GoldenConfig.DEFAULT;
    }
    List<String> names = new ArrayList<>(r.nextBoolean() ? VOLATILE : List.of());
    if (r.nextBoolean()) {
      names.add(NAMES[r.nextInt(NAMES.length)]);
    }
    List<String> globs = new ArrayList<>();
    String[] choices = {"/steps/*/output/x", "/**/debug", "/output/*", "/steps/*/request", "/extra/**", "/a/b",
        "/**/\u20ac", "/steps/0/name", "/**/trace~1id", "/m~0n"};
    for (int i = r.nextInt(3); i > 0; i--) {
      globs.add(choices[r.nextInt(choices.length)]);
    }
    return new GoldenConfig(GoldenConfig.Limits.DEFAULT, GoldenConfig.Mapping.DEFAULT,
        new GoldenConfig.VolatileMask(Set.copyOf(names), globs));
  }

  // ---- serialisation ------------------------------------------------------------------------

  /** How to spell a value: each option keeps the value, changes the bytes. */
  record Style(boolean shuffle, boolean pretty, boolean escapeAll, boolean respell, long seed) {
    static Style plain() {
      return new Style(false, false, false, false, 0);
    }

    static Style random(Random r) {
      return new Style(r.nextBoolean(), r.nextBoolean(), r.nextInt(3) == 0, r.nextBoolean(), r.nextLong());
    }
  }

  static byte[] bytes(Object v, Style style) {
    StringBuilder sb = new StringBuilder();
    write(sb, v, style, new Random(style.seed()), 0);
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  static String text(Object v) {
    return new String(bytes(v, Style.plain()), StandardCharsets.UTF_8);
  }

  @SuppressWarnings("unchecked")
  private static void write(StringBuilder sb, Object v, Style st, Random r, int indent) {
    if (v == NULL || v == null) {
      sb.append("null");
    } else if (v instanceof Boolean b) {
      sb.append(b);
    } else if (v instanceof BigInteger i) {
      sb.append(i);
    } else if (v instanceof Double d) {
      sb.append(st.respell() ? respell(d, r) : d.toString().replace("Infinity", "1"));
    } else if (v instanceof String s) {
      string(sb, s, st, r);
    } else if (v instanceof List<?> list) {
      sb.append('[');
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        newline(sb, st, indent + 1);
        write(sb, list.get(i), st, r, indent + 1);
      }
      if (!list.isEmpty()) {
        newline(sb, st, indent);
      }
      sb.append(']');
    } else {
      Map<String, Object> m = (Map<String, Object>) v;
      List<String> keys = new ArrayList<>(m.keySet());
      if (st.shuffle()) {
        Collections.shuffle(keys, r);
      }
      sb.append('{');
      for (int i = 0; i < keys.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        newline(sb, st, indent + 1);
        string(sb, keys.get(i), st, r);
        sb.append(st.pretty() ? ": " : ":");
        write(sb, m.get(keys.get(i)), st, r, indent + 1);
      }
      if (!keys.isEmpty()) {
        newline(sb, st, indent);
      }
      sb.append('}');
    }
  }

  private static void newline(StringBuilder sb, Style st, int indent) {
    if (st.pretty()) {
      sb.append('\n').append("  ".repeat(indent));
    }
  }

  /** Another literal for the same double: exponent forms, trailing zeros, Java's and ES6 spellings. */
  static String respell(double d, Random r) {
    String s = Double.toString(d);
    return switch (r.nextInt(5)) {
      case 0 -> s;
      case 1 -> new java.math.BigDecimal(s).toString().replace("E+", "e");
      case 2 -> {
        java.math.BigDecimal b = new java.math.BigDecimal(s);
        yield b.unscaledValue() + "e" + (-b.scale());
      }
      case 3 -> s.contains("E") ? s : s + "000";
      default -> String.format(Locale.ROOT, "%.17e", d);
    };
  }

  private static void string(StringBuilder sb, String s, Style st, Random r) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean escape = c == '"' || c == '\\' || c < 0x20 || (st.escapeAll() && r.nextInt(3) == 0);
      if (Character.isHighSurrogate(c)) { // a pair is escaped whole or not at all
        char low = s.charAt(++i);
        if (escape) {
          sb.append(String.format("\\u%04x\\u%04X", (int) c, (int) low));
        } else {
          sb.append(c).append(low);
        }
        continue;
      }
      if (!escape) {
        sb.append(c);
      } else if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c == '/' && r.nextBoolean()) {
        sb.append("\\/");
      } else if (c == '\n' && r.nextBoolean()) {
        sb.append("\\n");
      } else {
        sb.append(String.format(r.nextBoolean() ? "\\u%04x" : "\\u%04X", (int) c));
      }
    }
    sb.append('"');
  }
}
