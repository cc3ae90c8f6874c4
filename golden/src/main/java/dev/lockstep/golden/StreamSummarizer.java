package dev.lockstep.golden;

import dev.lockstep.golden.GoldenParseException.Code;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Computes a {@link RunSummary} in one streaming pass, without a tree: writes the RFC 8785 form of
 * the masked document into one byte arena (objects are re-ordered in place when their keys arrive
 * unsorted), hashes each step's bytes the moment the step ends, and captures the mapped fields on
 * the way. Gives exactly the bytes {@link Canonical} gives for the tree of the same document.
 */
final class StreamSummarizer implements JsonEvents {
  private static final Object CONTAINER = new Object();
  private static final Object NULL = new Object();
  private static final Object ARRAY = new Object();
  private static final double TWO_POW_53 = 9007199254740992.0;

  private final GoldenConfig.Mapping mapping;
  private final Mask mask;
  private final MessageDigest md = Canonical.sha256();

  // canonical bytes
  private byte[] arena;
  private int pos;
  private byte[] scratch = new byte[0];

  // where we are
  private final PathStack path = new PathStack();
  private int[] valueStart = new int[64];
  private boolean muted;
  private int muteDepth;
  private Object lastScalar;

  // open containers, by frame depth (root object is frame 1)
  private int frames;
  private boolean[] isObject = new boolean[64];
  private int[] count = new int[64];
  private int[] openPos = new int[64];
  private int[] segStart = new int[64];
  private boolean[] sorted = new boolean[64];
  private Member[][] members = new Member[64][];

  // mapped fields
  private final String[] runIdAt;
  private final String[] workflowAt;
  private final String[] roleAt;
  private final String[] seedAt;
  private final String[] runHashAt;
  private final String[] outputAt;
  private final String[] stepsAt;
  private final String[] stepIndexAt;
  private final String[] stepNameAt;
  private final String[] stepKindAt;
  private final String[] stepHashAt;
  private final String[] responseAt;
  private final List<String[]> rngAt = new ArrayList<>();
  private final List<String> rngKeys;
  private final long absoluteDepths;
  private final long relativeDepths;

  private Object runId;
  private Object workflow;
  private Object role;
  private Object seed;
  private Object runHash;
  private String outputHash = "";
  private String documentHash;
  private boolean stepsNotArray;
  private int stepsFrame = -1;
  private int stepDepth = -1;
  private StepAcc step;
  private final List<StepSummary> steps = new ArrayList<>();

  private static final class Member {
    String key;
    int start;
    int end;
  }

  private static final class StepAcc {
    final int position;
    Object index;
    Object name;
    Object kind;
    Object hash;
    String responseHash = "";
    boolean hasResponse;
    final String[] rngHashes;
    boolean isObject;

    StepAcc(int position, int rngKeys) {
      this.position = position;
      this.rngHashes = new String[rngKeys];
    }
  }

  StreamSummarizer(GoldenConfig config, int expectedBytes) {
    this.mapping = config.mapping();
    this.mask = Mask.forContent(config);
    this.arena = new byte[Math.max(1024, expectedBytes + (expectedBytes >> 4))];
    runIdAt = segments(mapping.runId());
    workflowAt = segments(mapping.workflow());
    roleAt = segments(mapping.role());
    seedAt = segments(mapping.seed());
    runHashAt = segments(mapping.runHash());
    outputAt = segments(mapping.output());
    stepsAt = segments(mapping.steps());
    stepIndexAt = segments(mapping.stepIndex());
    stepNameAt = segments(mapping.stepName());
    stepKindAt = segments(mapping.stepKind());
    stepHashAt = segments(mapping.stepHash());
    responseAt = keyOrPointer(mapping.responseKey());
    rngKeys = mapping.rngKeys() == null ? List.of() : List.copyOf(mapping.rngKeys());
    for (String k : rngKeys) {
      rngAt.add(keyOrPointer(k));
    }
    absoluteDepths = depths(runIdAt, workflowAt, roleAt, seedAt, runHashAt);
    relativeDepths = depths(stepIndexAt, stepNameAt, stepKindAt, stepHashAt);
  }

  private static long depths(String[]... patterns) {
    long bits = 0;
    for (String[] p : patterns) {
      if (p != null && p.length < 64) {
        bits |= 1L << p.length;
      }
    }
    return bits;
  }

  private static String[] segments(String pointer) {
    if (pointer == null || pointer.isEmpty()) {
      return null;
    }
    return Pointer.split(pointer).toArray(new String[0]);
  }

  private static String[] keyOrPointer(String keyOrPointer) {
    if (keyOrPointer == null || keyOrPointer.isEmpty()) {
      return null;
    }
    return keyOrPointer.startsWith("/") ? segments(keyOrPointer) : new String[] {keyOrPointer};
  }

  // ---- result -------------------------------------------------------------------------------

  RunSummary summary(String source) throws GoldenParseException {
    String id = text(runId);
    if (id == null || id.isEmpty()) {
      throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD, "no run id at \"" + mapping.runId() + "\"");
    }
    if (stepsNotArray) {
      throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD,
          "\"" + mapping.steps() + "\" must be an array of steps");
    }
    String r = text(role);
    if (r == null || r.isEmpty()) {
      r = Summarizer.roleFromFileName(source);
    }
    return new RunSummary(id, orEmpty(text(workflow)), r, seed(source), documentHash,
        orEmpty(text(runHash)), outputHash, steps);
  }

  private Long seed(String source) throws GoldenParseException {
    if (seed == null || seed == NULL) {
      return null;
    }
    if (seed instanceof Long l) {
      return l;
    }
    if (seed instanceof Double d && d == Math.rint(d) && Math.abs(d) < 9.2e18) {
      return d.longValue();
    }
    if (seed instanceof String s) {
      try {
        return Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        // refused below
      }
    }
    String shown = seed == CONTAINER || seed == ARRAY ? "an object or array" : text(seed);
    throw new GoldenParseException(source, 0, 0, Code.MISSING_FIELD,
        "\"" + mapping.seed() + "\" must be an integer, got " + shown);
  }

  /** A captured scalar as text: strings as themselves, other scalars in canonical form. */
  private static String text(Object v) {
    if (v == null || v == NULL || v == CONTAINER || v == ARRAY) {
      return null;
    }
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Long l) {
      return Math.abs((double) l) < TWO_POW_53 ? Long.toString(l) : Es6Number.format(l.doubleValue());
    }
    if (v instanceof Double d) {
      return Es6Number.format(d);
    }
    if (v instanceof BigInteger b) {
      return Es6Number.format(b.doubleValue());
    }
    return v.toString();
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  // ---- events -------------------------------------------------------------------------------

  private void beginValue() {
    int f = frames;
    if (f > 0 && !isObject[f]) {
      path.pushIndex(count[f]);
      if (!muted && count[f] > 0) {
        put((byte) ',');
      }
      if (f == stepsFrame) {
        step = new StepAcc(count[f], rngKeys.size());
        stepDepth = path.depth();
      }
    }
    int d = path.depth();
    if (d >= valueStart.length) {
      valueStart = Arrays.copyOf(valueStart, d * 2);
    }
    valueStart[d] = pos;
  }

  private void endValue() {
    int d = path.depth();
    boolean wasMuted = muted;
    watch(d, wasMuted);
    int f = frames;
    if (f > 0) {
      if (isObject[f]) {
        if (!wasMuted) {
          addMember(f, path.segment(d - 1), segStart[f], pos);
        }
      } else {
        count[f]++;
      }
      path.pop();
      if (muted && path.depth() < muteDepth) {
        muted = false;
      }
    } else if (!wasMuted) {
      md.update(arena, 0, pos);
      documentHash = Canonical.format(md);
    }
  }

  @Override
  public void key(String key) {
    int f = frames;
    if (!muted && mask.masks(path, key)) {
      muted = true;
      muteDepth = path.depth() + 1;
    }
    path.pushKey(key);
    if (!muted) {
      if (count[f] > 0) {
        put((byte) ',');
      }
      segStart[f] = pos;
      writeString(key);
      put((byte) ':');
    }
  }

  @Override
  public void startObject() {
    beginValue();
    if (step != null && path.depth() == stepDepth) {
      step.isObject = true;
    }
    int f = openFrame(true);
    if (!muted) {
      put((byte) '{');
    }
    openPos[f] = pos;
  }

  @Override
  public void endObject() {
    int f = frames;
    if (!muted) {
      finishObject(f);
    }
    frames--;
    lastScalar = CONTAINER;
    endValue();
  }

  @Override
  public void startArray() {
    beginValue();
    int f = openFrame(false);
    if (stepsAt != null && matchesAbsolute(stepsAt)) {
      stepsFrame = f;
    }
    if (!muted) {
      put((byte) '[');
    }
  }

  @Override
  public void endArray() {
    if (!muted) {
      put((byte) ']');
    }
    if (frames == stepsFrame) {
      stepsFrame = -1;
    }
    frames--;
    lastScalar = ARRAY;
    endValue();
  }

  @Override
  public void string(char[] chars, int offset, int length) {
    beginValue();
    if (!muted) {
      writeString(chars, offset, length);
    }
    lastScalar = needsScalar() ? new String(chars, offset, length) : null;
    endValue();
  }

  @Override
  public void integer(long value) {
    beginValue();
    if (!muted) {
      if (Math.abs((double) value) < TWO_POW_53) {
        writeLong(value);
      } else {
        writeAscii(Es6Number.format((double) value));
      }
    }
    lastScalar = value;
    endValue();
  }

  @Override
  public void bigInteger(BigInteger value) {
    beginValue();
    if (!muted) {
      writeAscii(Es6Number.format(value.doubleValue()));
    }
    lastScalar = value;
    endValue();
  }

  @Override
  public void decimal(double value) {
    beginValue();
    if (!muted) {
      writeAscii(Es6Number.format(value));
    }
    lastScalar = value;
    endValue();
  }

  @Override
  public void bool(boolean value) {
    beginValue();
    if (!muted) {
      writeAscii(value ? "true" : "false");
    }
    lastScalar = value;
    endValue();
  }

  @Override
  public void nul() {
    beginValue();
    if (!muted) {
      writeAscii("null");
    }
    lastScalar = NULL;
    endValue();
  }

  // ---- frames and members -------------------------------------------------------------------

  private int openFrame(boolean object) {
    int f = ++frames;
    if (f >= isObject.length) {
      int n = f * 2;
      isObject = Arrays.copyOf(isObject, n);
      count = Arrays.copyOf(count, n);
      openPos = Arrays.copyOf(openPos, n);
      segStart = Arrays.copyOf(segStart, n);
      sorted = Arrays.copyOf(sorted, n);
      members = Arrays.copyOf(members, n);
    }
    isObject[f] = object;
    count[f] = 0;
    sorted[f] = true;
    return f;
  }

  private void addMember(int f, String key, int start, int end) {
    Member[] ms = members[f];
    int n = count[f];
    if (ms == null) {
      ms = new Member[8];
      members[f] = ms;
    } else if (n == ms.length) {
      ms = Arrays.copyOf(ms, n * 2);
      members[f] = ms;
    }
    Member m = ms[n];
    if (m == null) {
      m = new Member();
      ms[n] = m;
    }
    if (n > 0 && sorted[f] && ms[n - 1].key.compareTo(key) > 0) {
      sorted[f] = false;
    }
    m.key = key;
    m.start = start;
    m.end = end;
    count[f] = n + 1;
  }

  /** Writes '}' — after putting the members in UTF-16 key order if they did not arrive so. */
  private void finishObject(int f) {
    int n = count[f];
    if (!sorted[f]) {
      Member[] ms = members[f];
      int from = openPos[f];
      int len = pos - from;
      if (scratch.length < len) {
        scratch = new byte[Math.max(len, scratch.length * 2)];
      }
      System.arraycopy(arena, from, scratch, 0, len);
      Arrays.sort(ms, 0, n, (x, y) -> x.key.compareTo(y.key));
      pos = from;
      for (int i = 0; i < n; i++) {
        if (i > 0) {
          arena[pos++] = ',';
        }
        int segLen = ms[i].end - ms[i].start;
        System.arraycopy(scratch, ms[i].start - from, arena, pos, segLen);
        pos += segLen;
      }
    }
    put((byte) '}');
  }

  // ---- mapped fields ------------------------------------------------------------------------

  /** Whether the value now ending might be a mapped field (only then is a string materialised). */
  private boolean needsScalar() {
    int d = path.depth();
    if (d < 64 && ((absoluteDepths >>> d) & 1) != 0) {
      return true;
    }
    if (step != null) {
      int rel = d - stepDepth;
      return rel >= 0 && rel < 64 && ((relativeDepths >>> rel) & 1) != 0;
    }
    return false;
  }

  private void watch(int d, boolean wasMuted) {
    if (d == 0) {
      return;
    }
    if (step != null && d >= stepDepth) {
      watchStep(d, wasMuted);
    }
    if (runIdAt != null && d == runIdAt.length && matchesAbsolute(runIdAt)) {
      runId = lastScalar;
    }
    if (workflowAt != null && d == workflowAt.length && matchesAbsolute(workflowAt)) {
      workflow = lastScalar;
    }
    if (roleAt != null && d == roleAt.length && matchesAbsolute(roleAt)) {
      role = lastScalar;
    }
    if (seedAt != null && d == seedAt.length && matchesAbsolute(seedAt)) {
      seed = lastScalar;
    }
    if (runHashAt != null && d == runHashAt.length && matchesAbsolute(runHashAt)) {
      runHash = lastScalar;
    }
    if (outputAt != null && d == outputAt.length && !wasMuted && matchesAbsolute(outputAt)) {
      outputHash = regionHash(valueStart[d], pos);
    }
    if (stepsAt != null && d == stepsAt.length && matchesAbsolute(stepsAt)
        && lastScalar != ARRAY && lastScalar != NULL) {
      stepsNotArray = true;
    }
  }

  private void watchStep(int d, boolean wasMuted) {
    StepAcc s = step;
    if (d == stepDepth) {
      finishStep(s, wasMuted ? "" : regionHash(valueStart[d], pos));
      step = null;
      return;
    }
    int rel = d - stepDepth;
    if (stepIndexAt != null && rel == stepIndexAt.length && matchesRelative(stepIndexAt)) {
      s.index = lastScalar;
    }
    if (stepNameAt != null && rel == stepNameAt.length && matchesRelative(stepNameAt)) {
      s.name = lastScalar;
    }
    if (stepKindAt != null && rel == stepKindAt.length && matchesRelative(stepKindAt)) {
      s.kind = lastScalar;
    }
    if (stepHashAt != null && rel == stepHashAt.length && matchesRelative(stepHashAt)) {
      s.hash = lastScalar;
    }
    if (responseAt != null && rel == responseAt.length && matchesRelative(responseAt)) {
      s.hasResponse = true;
      s.responseHash = wasMuted ? "" : regionHash(valueStart[d], pos);
    }
    for (int i = 0; i < rngAt.size(); i++) {
      String[] r = rngAt.get(i);
      if (rel == r.length && !wasMuted && matchesRelative(r)) {
        s.rngHashes[i] = regionHash(valueStart[d], pos);
      }
    }
  }

  private void finishStep(StepAcc s, String hash) {
    if (!s.isObject) {
      steps.add(new StepSummary(s.position, "", "", false, hash, "", "", ""));
      return;
    }
    int index = s.position;
    if (s.index instanceof Long l && l == (int) l.longValue()) {
      index = (int) l.longValue();
    }
    String kind = orEmpty(text(s.kind));
    boolean external = "external".equals(kind) || s.hasResponse;
    steps.add(new StepSummary(index, orEmpty(text(s.name)), kind, external, hash, orEmpty(text(s.hash)),
        rngHash(s.rngHashes), s.responseHash));
  }

  /** One rng key: the hash of its value; several: the hash of "key:hash," over present keys in order. */
  private String rngHash(String[] hashes) {
    if (hashes.length == 1) {
      return hashes[0] == null ? "" : hashes[0];
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < hashes.length; i++) {
      if (hashes[i] != null) {
        sb.append(rngKeys.get(i)).append(':').append(hashes[i]).append(',');
      }
    }
    if (sb.length() == 0) {
      return "";
    }
    md.update(sb.toString().getBytes(StandardCharsets.UTF_8));
    return Canonical.format(md);
  }

  private String regionHash(int from, int to) {
    md.update(arena, from, to - from);
    return Canonical.format(md);
  }

  private boolean matchesAbsolute(String[] pattern) {
    if (path.depth() != pattern.length) {
      return false;
    }
    for (int i = pattern.length - 1; i >= 0; i--) {
      if (!pattern[i].equals(path.segment(i))) {
        return false;
      }
    }
    return true;
  }

  private boolean matchesRelative(String[] rel) {
    int base = stepDepth;
    for (int i = rel.length - 1; i >= 0; i--) {
      if (!rel[i].equals(path.segment(base + i))) {
        return false;
      }
    }
    return true;
  }

  // ---- bytes --------------------------------------------------------------------------------

  private void ensure(int n) {
    if (pos + n > arena.length) {
      arena = Arrays.copyOf(arena, Math.max(pos + n, arena.length + (arena.length >> 1)));
    }
  }

  private void put(byte b) {
    ensure(1);
    arena[pos++] = b;
  }

  private void writeAscii(String s) {
    int n = s.length();
    ensure(n);
    for (int i = 0; i < n; i++) {
      arena[pos++] = (byte) s.charAt(i);
    }
  }

  private void writeLong(long v) {
    ensure(21);
    if (v < 0) {
      arena[pos++] = '-';
      v = -v;
    }
    int digits = 1;
    for (long x = v; x >= 10; x /= 10) {
      digits++;
    }
    int end = pos + digits;
    for (int i = end - 1; i >= pos; i--) {
      arena[i] = (byte) ('0' + (v % 10));
      v /= 10;
    }
    pos = end;
  }

  private void writeString(String s) {
    int n = s.length();
    ensure(n * 6 + 2);
    byte[] b = arena;
    int p = pos;
    b[p++] = '"';
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80 && c >= 0x20 && c != '"' && c != '\\') {
        b[p++] = (byte) c;
      } else {
        p = writeChar(b, p, c, i + 1 < n ? s.charAt(i + 1) : 0);
        if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        }
      }
    }
    b[p++] = '"';
    pos = p;
  }

  private void writeString(char[] chars, int offset, int length) {
    ensure(length * 6 + 2);
    byte[] b = arena;
    int p = pos;
    b[p++] = '"';
    int end = offset + length;
    for (int i = offset; i < end; i++) {
      char c = chars[i];
      if (c < 0x80 && c >= 0x20 && c != '"' && c != '\\') {
        b[p++] = (byte) c;
      } else {
        char next = i + 1 < end ? chars[i + 1] : 0;
        p = writeChar(b, p, c, next);
        if (Character.isHighSurrogate(c) && Character.isLowSurrogate(next)) {
          i++;
        }
      }
    }
    b[p++] = '"';
    pos = p;
  }

  /** Writes one non-plain char (and its low surrogate when {@code c} starts a pair). */
  private static int writeChar(byte[] b, int p, char c, char next) {
    if (c < 0x80) {
      return Canonical.escape(b, p, c);
    }
    if (c < 0x800) {
      b[p++] = (byte) (0xc0 | (c >> 6));
      b[p++] = (byte) (0x80 | (c & 0x3f));
      return p;
    }
    if (Character.isSurrogate(c)) {
      if (Character.isHighSurrogate(c) && Character.isLowSurrogate(next)) {
        int cp = Character.toCodePoint(c, next);
        b[p++] = (byte) (0xf0 | (cp >> 18));
        b[p++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
        b[p++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
        b[p++] = (byte) (0x80 | (cp & 0x3f));
        return p;
      }
      return Canonical.unicodeEscape(b, p, c);
    }
    b[p++] = (byte) (0xe0 | (c >> 12));
    b[p++] = (byte) (0x80 | ((c >> 6) & 0x3f));
    b[p++] = (byte) (0x80 | (c & 0x3f));
    return p;
  }

}
