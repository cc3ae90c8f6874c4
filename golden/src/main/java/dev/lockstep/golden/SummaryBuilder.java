package dev.lockstep.golden;

import dev.lockstep.golden.GoldenParseException.Code;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Collects the mapped fields a {@link Canonicalizer} reports and turns them into a
 * {@link RunSummary}: identity, seed, the engine's hashes and, per step, its index, name, kind and
 * canonical, rng and response hashes (docs/golden-format.md, "Summary").
 */
final class SummaryBuilder implements Captures {
  private static final Pattern ROLE_IN_NAME = Pattern.compile("(?:^|.*\\.)([^./\\\\]+)\\.golden\\.json$");
  private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
  private static final BigInteger MIN_SEED = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger MAX_SEED = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  private final GoldenConfig.Mapping mapping;
  private final CanonicalNumber numbers = new CanonicalNumber();
  private final int rngKeys;

  private String runId;
  private String workflow;
  private String role;
  private String runHash;
  private Object seed; // String (a JSON string), Number text (NumberText), or CONTAINER/BOOLEAN
  private String outputHash = "";
  private boolean stepsNotArray;
  private final List<StepSummary> steps = new ArrayList<>();

  // the step being read
  private int position = -1;
  private boolean object;
  private String index;
  private String name;
  private String kind;
  private String hash;
  private boolean hasResponse;
  private String responseHash;
  private final String[] rng;

  private record NumberText(String canonical) {}

  private static final Object CONTAINER = new Object();

  SummaryBuilder(GoldenConfig config) {
    this.mapping = config.mapping();
    this.rngKeys = mapping.rngKeys().size();
    this.rng = new String[rngKeys];
  }

  @Override
  public void scalar(int slot, byte[] src, int start, int end) {
    switch (slot) {
      case Slots.RUN_ID -> runId = text(src, start, end);
      case Slots.WORKFLOW -> workflow = text(src, start, end);
      case Slots.ROLE -> role = text(src, start, end);
      case Slots.RUN_HASH -> runHash = text(src, start, end);
      case Slots.SEED -> seed = raw(src, start, end);
      case Slots.STEP_INDEX -> index = end < 0 || src[start] == '"' ? null : text(src, start, end);
      case Slots.STEP_NAME -> name = text(src, start, end);
      case Slots.STEP_KIND -> kind = text(src, start, end);
      case Slots.STEP_HASH -> hash = text(src, start, end);
      default -> throw new IllegalArgumentException("not a scalar slot: " + slot);
    }
  }

  @Override
  public void region(int slot, String h) {
    if (slot == Slots.OUTPUT) {
      outputHash = h == null ? "" : h;
    } else if (slot == Slots.RESPONSE) {
      hasResponse = true;
      responseHash = h == null ? "" : h;
    } else if (slot >= Slots.RNG && slot < Slots.RNG + rngKeys) {
      rng[slot - Slots.RNG] = h;
    } else {
      throw new IllegalArgumentException("not a region slot: " + slot);
    }
  }

  @Override
  public void steps(byte first) {
    stepsNotArray = first != '[' && first != 'n';
  }

  @Override
  public void stepStart(int position, boolean object) {
    this.position = position;
    this.object = object;
    index = null;
    name = null;
    kind = null;
    hash = null;
    hasResponse = false;
    responseHash = "";
    java.util.Arrays.fill(rng, null);
  }

  @Override
  public void stepEnd(int position, String stepHash) {
    if (!object) {
      steps.add(new StepSummary(position, "", "", false, stepHash, "", "", ""));
      return;
    }
    String k = orEmpty(kind);
    steps.add(new StepSummary(stepIndex(index, position), orEmpty(name), k, "external".equals(k) || hasResponse,
        stepHash, orEmpty(hash), rngHash(), responseHash));
    this.position = -1;
  }

  /** The step's index when it is a whole number that fits an int, else its position. */
  private static int stepIndex(String canonical, int position) {
    if (canonical == null || canonical.isEmpty() || canonical.length() > 11) {
      return position;
    }
    for (int i = canonical.charAt(0) == '-' ? 1 : 0; i < canonical.length(); i++) {
      char c = canonical.charAt(i);
      if (c < '0' || c > '9') {
        return position; // a fraction or exponent: not a whole number that fits
      }
    }
    long v = Long.parseLong(canonical);
    return v == (int) v ? (int) v : position;
  }

  /** One rng key: the hash of its value; several: the hash of "key:hash," over present keys in order. */
  private String rngHash() {
    if (rngKeys == 1) {
      return orEmpty(rng[0]);
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < rngKeys; i++) {
      if (rng[i] != null) {
        sb.append(mapping.rngKeys().get(i)).append(':').append(rng[i]).append(',');
      }
    }
    if (sb.length() == 0) {
      return "";
    }
    MessageDigest md = Hashes.sha256();
    md.update(sb.toString().getBytes(StandardCharsets.UTF_8));
    return Hashes.format(md);
  }

  RunSummary summary(String source, String documentHash) throws GoldenParseException {
    if (runId == null || runId.isEmpty()) {
      throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD, "no run id at \"" + mapping.runId() + "\"");
    }
    if (stepsNotArray) {
      throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD,
          "\"" + mapping.steps() + "\" must be an array of steps");
    }
    String r = role == null || role.isEmpty() ? roleFromFileName(source) : role;
    return new RunSummary(runId, orEmpty(workflow), r, seed(source), documentHash, orEmpty(runHash), outputHash,
        steps);
  }

  /**
   * The seed's 64 bits: an integer (or a whole double, or a string of digits) from -2^63 to
   * 2^64 - 1; negative seeds are their two's complement, so -1 and 18446744073709551615 are the
   * same seed. Null when the document has none.
   */
  private Long seed(String source) throws GoldenParseException {
    if (seed == null) {
      return null;
    }
    String text;
    if (seed instanceof NumberText n) {
      text = n.canonical();
    } else if (seed instanceof String s) {
      text = s.trim();
    } else {
      throw badSeed(source, "an object or array");
    }
    if (!INTEGER.matcher(text).matches()) {
      throw badSeed(source, seed instanceof String ? "\"" + abbreviate(text) + "\"" : abbreviate(text));
    }
    BigInteger v = new BigInteger(text.startsWith("+") ? text.substring(1) : text);
    if (v.compareTo(MIN_SEED) < 0 || v.compareTo(MAX_SEED) > 0) {
      throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD, "\"" + mapping.seed()
          + "\" must be a 64-bit integer (from -9223372036854775808 to 18446744073709551615), got " + abbreviate(text));
    }
    return v.longValue();
  }

  private GoldenParseException badSeed(String source, String shown) {
    return new GoldenParseException(source, 0, 0, Code.MISSING_FIELD,
        "\"" + mapping.seed() + "\" must be an integer, got " + shown);
  }

  private Object raw(byte[] src, int start, int end) {
    if (end < 0) {
      return CONTAINER;
    }
    String t = text(src, start, end);
    return t == null || src[start] == '"' ? t : new NumberText(t);
  }

  /** A captured scalar as text: a string as itself, a number in canonical form; null for null or a container. */
  private String text(byte[] src, int start, int end) {
    if (end < 0) {
      return null;
    }
    byte c = src[start];
    if (c == '"') {
      return JsonBytes.decode(src, start + 1, end - 1);
    }
    if (c == 'n') {
      return null;
    }
    if (c == 't' || c == 'f') {
      return new String(src, start, end - start, StandardCharsets.US_ASCII);
    }
    return numbers.text(src, start, end);
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 37) + "...";
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  /** {@code x.primary.golden.json}, {@code primary.golden.json} → "primary"; otherwise "". */
  static String roleFromFileName(String source) {
    if (source == null) {
      return "";
    }
    String n = source;
    int slash = Math.max(n.lastIndexOf('/'), n.lastIndexOf('\\'));
    if (slash >= 0) {
      n = n.substring(slash + 1);
    }
    Matcher m = ROLE_IN_NAME.matcher(n);
    return m.matches() ? m.group(1) : "";
  }
}
