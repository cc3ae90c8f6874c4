package dev.lockstep.golden;

import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Writes the canonical form (docs/golden-format.md) of a document that {@link JsonSyntax} has
 * accepted, straight from its UTF-8 bytes, leaving out masked members, and either keeps it (for
 * diffs) or streams it into SHA-256 (for hashes) while it hashes mapped regions (steps, output,
 * rng, response) on the side and reports mapped fields to {@link Captures}.
 *
 * <p>Strings without escapes and integer literals are copied as they are. Objects are written in
 * name order without copying subtrees more than once: an object smaller than {@link #BIG_BYTES} is
 * written in source order into the output buffer and, if its names were not in order, its member
 * spans are put in order in place when it closes; a larger one has its member names collected
 * first (its large values are skipped in O(1) through the {@link Layout}) and its members are then
 * written in order. Output is flushed into the digest whenever no buffered object is open, so
 * hashing needs the input plus a bounded buffer. Invariant: equal documents (same masked content)
 * give equal bytes, whatever their whitespace, member order, escapes or number spelling.
 * Not thread-safe; reusable.
 */
final class Canonicalizer {
  /** Objects spanning at least this many source bytes are never buffered. */
  static final int BIG_BYTES = 1 << 18;

  private static final byte ARRAY = 0;
  private static final byte BUFFERED = 1;
  private static final byte TWO_PHASE = 2;
  private static final byte STREAMED = 3;

  private final Slots slots;
  private final PathPatterns patterns;
  private final int words;
  private Captures captures;
  private final boolean sortedInput;
  private final boolean hashing;
  private final Members members = new Members();
  private final Transitions transitions = new Transitions();
  /** The canonical bytes, and the digests they flow into. */
  final CanonicalOutput o;

  private byte[] src;
  private int len;
  private Layout layout;
  private String source;

  private byte[] nameBuf = new byte[256];

  // open containers, frame 1 is the root
  private int depth;
  private byte[] kind = new byte[16];
  private int[] count = new int[16];
  private int[] seen = new int[16];
  private int[] memBase = new int[16];
  private int[] memCount = new int[16];
  private int[] next = new int[16];
  private int[] srcEnd = new int[16];
  private int[] outStart = new int[16];
  private boolean[] unsorted = new boolean[16];
  private boolean[] stepsArray = new boolean[16];
  private long[] regionSlots = new long[16];
  private int[] regionIndex = new int[16];
  private int[] stepPosition = new int[16];
  private long[] states;
  private boolean[] noState = new boolean[16];
  /** The slots the path of slot d's value matches (computed with its state). */
  private long[] acceptedAt = new long[16];
  private int buffering;
  private int pendingStep = -1;
  private boolean escaped;

  /**
   * @param sortedInput the input is canonical already (our own output): objects are written as
   *     they come, names are not compared
   * @param sink where canonical bytes go as they become final; null keeps them all in the output
   */
  Canonicalizer(Slots slots, Captures captures, boolean sortedInput, MessageDigest sink) {
    this.slots = slots;
    this.patterns = slots.patterns;
    this.words = patterns.words();
    this.captures = captures;
    this.sortedInput = sortedInput;
    this.hashing = sink != null;
    this.o = new CanonicalOutput(sink);
    this.states = new long[16 * words];
  }

  /**
   * The canonical form of a whole validated document, nothing masked, in an array sized for it
   * (the form documents are diffed in).
   */
  static GoldenDocument.Canonical whole(byte[] src, int len, Layout layout, String source) throws GoldenParseException {
    Canonicalizer c = new Canonicalizer(Slots.none(), null, false, null);
    c.o.out = new byte[len + 64];
    c.walk(src, len, layout, source);
    return new GoldenDocument.Canonical(c.o.out, c.o.pos);
  }

  /** Where the next {@link #walk} reports mapped fields (a reader reuses one canonicalizer). */
  void capturesTo(Captures c) {
    this.captures = c;
  }

  /** Canonicalises {@code src[0, len)}; for a digest sink, everything has been fed when it returns. */
  void walk(byte[] src, int len, Layout layout, String source) throws GoldenParseException {
    this.src = src;
    this.len = len;
    this.layout = layout;
    this.source = source;
    depth = 0;
    o.reset();
    buffering = 0;
    pendingStep = -1;
    members.top = 0;
    patterns.root(states, words);
    noState[1] = PathPatterns.isEmpty(states, words, words);
    acceptedAt[1] = noState[1] ? 0 : patterns.accepted(states, words);
    int p = value(JsonBytes.skipWs(src, 0, len), 1);
    while (depth > 0) {
      int d = depth;
      switch (kind[d]) {
        case ARRAY -> p = arrayStep(d, p);
        case TWO_PHASE -> p = twoPhaseStep(d);
        default -> p = objectStep(d, p);
      }
    }
    if (hashing) {
      o.flush();
    }
    this.src = null;
  }

  // ---- containers ---------------------------------------------------------------------------

  private int arrayStep(int d, int p) throws GoldenParseException {
    p = JsonBytes.skipWs(src, p, len);
    if (src[p] == ']') {
      o.put((byte) ']');
      close(d);
      return p + 1;
    }
    int i = seen[d]++;
    if (i > 0) {
      p = JsonBytes.skipWs(src, p + 1, len);
    }
    if (buffering == 0) {
      o.flushIfDue();
    }
    if (count[d]++ > 0) {
      o.put((byte) ',');
    }
    int child = d + 1;
    ensureFrames(child + 1);
    if (noState[d]) {
      noState[child] = true;
      acceptedAt[child] = 0;
    } else {
      patterns.element(states, d * words, i, states, child * words);
      noState[child] = PathPatterns.isEmpty(states, child * words, words);
      acceptedAt[child] = noState[child] ? 0 : patterns.accepted(states, child * words);
    }
    if (stepsArray[d]) {
      pendingStep = i;
    }
    return value(p, child);
  }

  private int objectStep(int d, int p) throws GoldenParseException {
    p = JsonBytes.skipWs(src, p, len);
    if (src[p] == '}') {
      if (kind[d] == BUFFERED) {
        finishBuffered(d);
      }
      o.put((byte) '}');
      close(d);
      return p + 1;
    }
    if (seen[d]++ > 0) {
      p = JsonBytes.skipWs(src, p + 1, len);
      if (kind[d] == STREAMED && buffering == 0) {
        o.flushIfDue();
      }
    }
    int e = JsonBytes.stringEnd(src, p, len);
    boolean esc = e < 0;
    int keyEnd = esc ? ~e : e;
    int v = JsonBytes.skipWs(src, JsonBytes.skipWs(src, keyEnd, len) + 1, len);
    boolean masked = child(d, p + 1, keyEnd - 1, esc);
    int m = -1;
    if (kind[d] == BUFFERED) {
      m = members.push(src, p + 1, keyEnd - 1, esc, v);
      if (seen[d] > 1 && outOfOrder(m)) {
        unsorted[d] = true;
      }
    }
    if (masked) {
      return skipMasked(v, d + 1);
    }
    if (count[d]++ > 0) {
      o.put((byte) ',');
    }
    if (m >= 0) {
      members.outStart[m] = o.pos;
    }
    o.writeName(src, p, keyEnd, esc);
    return value(v, d + 1);
  }

  private int twoPhaseStep(int d) throws GoldenParseException {
    if (next[d] == memCount[d]) {
      o.put((byte) '}');
      members.top = memBase[d];
      int end = srcEnd[d];
      close(d);
      return end;
    }
    int m = members.order[memBase[d] + next[d]++];
    int ks = members.keyStart[m];
    int ke = members.keyEnd[m];
    boolean esc = members.escaped[m];
    int v = members.valueStart[m];
    if (child(d, ks, ke, esc)) {
      skipMasked(v, d + 1);
      return v;
    }
    if (buffering == 0) {
      o.flushIfDue();
    }
    if (count[d]++ > 0) {
      o.put((byte) ',');
    }
    o.writeName(src, ks - 1, ke + 1, esc);
    return value(v, d + 1);
  }

  /**
   * Computes the state of member {@code name} of frame {@code d} into slot {@code d + 1}; returns
   * whether the member is masked.
   */
  private boolean child(int d, int nameStart, int nameEnd, boolean esc) {
    int child = d + 1;
    ensureFrames(child + 1);
    byte[] name = src;
    int start = nameStart;
    int n = nameEnd - nameStart;
    if (esc) {
      // canonicalContent writes the name between quotes before dropping them: n + 2 bytes at most
      if (nameBuf.length < n + 2) {
        nameBuf = new byte[(n + 2) * 2];
      }
      n = CanonicalString.canonicalContent(src, nameStart, nameEnd, nameBuf);
      name = nameBuf;
      start = 0;
    }
    boolean masked = slots.names.contains(name, start, n);
    if (noState[d]) {
      noState[child] = true;
      acceptedAt[child] = 0;
      return masked;
    }
    long accepted;
    if (words == 1) { // the usual case: remembered steps are looked up
      long state = states[d];
      if (transitions.find(state, name, start, n)) {
        states[child] = transitions.to();
        accepted = transitions.accepted();
      } else {
        patterns.member(states, d, name, start, n, states, child);
        accepted = states[child] == 0 ? 0 : patterns.accepted(states, child);
        transitions.put(state, name, start, n, states[child], accepted);
      }
      noState[child] = states[child] == 0;
    } else {
      patterns.member(states, d * words, name, start, n, states, child * words);
      boolean empty = PathPatterns.isEmpty(states, child * words, words);
      noState[child] = empty;
      accepted = empty ? 0 : patterns.accepted(states, child * words);
    }
    acceptedAt[child] = accepted;
    return masked || (accepted & Slots.bit(Slots.MASK)) != 0;
  }

  /** Whether member {@code m} comes before the member pushed just before it; a duplicate name is refused. */
  private boolean outOfOrder(int m) throws GoldenParseException {
    int c = members.compare(src, m - 1, m);
    if (c == 0) {
      throw members.duplicate(src, source, m);
    }
    return c > 0;
  }

  private void finishBuffered(int d) throws GoldenParseException {
    int base = memBase[d];
    int n = members.top - base;
    if (unsorted[d]) {
      permute(base, n, outStart[d]);
    }
    members.top = base;
  }

  /** Sorts members {@code [base, base + n)} by name (refusing a duplicate) and rewrites their bytes so. */
  private void permute(int base, int n, int from) throws GoldenParseException {
    int dupe = members.sort(src, base, n);
    if (dupe >= 0) {
      throw members.duplicate(src, source, dupe);
    }
    o.reorder(members, base, n, from);
  }


  /** Frame {@code d} has written its closing bracket. */
  private void close(int d) {
    if (kind[d] == BUFFERED) {
      buffering--;
    }
    depth = d - 1;
    endValue(regionSlots[d], stepPosition[d], regionIndex[d]);
  }

  // ---- values -------------------------------------------------------------------------------

  /** The value at {@code p}, whose path state is in slot {@code slot}; returns where it ends (or, for a container, where its content starts). */
  private int value(int p, int slot) throws GoldenParseException {
    byte c = src[p];
    int step = pendingStep;
    pendingStep = -1;
    long accepted = acceptedAt[slot];
    boolean container = c == '{' || c == '[';
    int end = container ? -1 : scalarEnd(p, c);
    if (accepted != 0 && captures != null) {
      report(accepted, p, end, c);
    }
    long reg = accepted & slots.regions;
    if (step >= 0 && captures != null) {
      captures.stepStart(step, c == '{');
    }
    int region = (reg != 0 || step >= 0) && captures != null ? o.openRegion() : -1;
    if (!container) {
      o.writeScalar(src, p, end, c, escaped);
      endValue(reg, step, region);
      return end;
    }
    if (noState[slot] && (sortedInput || layout.end(p) < 0)) {
      end = plain(p); // nothing mapped or globbed below: one tight loop for the whole subtree
      endValue(reg, step, region);
      return end;
    }
    int d = slot;
    depth = d;
    count[d] = 0;
    seen[d] = 0;
    regionSlots[d] = reg;
    regionIndex[d] = region;
    stepPosition[d] = step;
    stepsArray[d] = false;
    if (c == '[') {
      kind[d] = ARRAY;
      stepsArray[d] = (accepted & Slots.bit(Slots.STEPS)) != 0;
      o.put((byte) '[');
      return p + 1;
    }
    o.put((byte) '{');
    if (sortedInput) {
      kind[d] = STREAMED;
      return p + 1;
    }
    memBase[d] = members.top;
    if (buffering == 0 && layout.end(p) >= 0) {
      kind[d] = TWO_PHASE;
      collect(d, p);
      return p + 1;
    }
    kind[d] = BUFFERED;
    buffering++;
    outStart[d] = o.pos;
    unsorted[d] = false;
    return p + 1;
  }

  /** Collects the members of the large object at {@code p} and puts them in name order. */
  private void collect(int d, int p) throws GoldenParseException {
    int base = members.top;
    int q = JsonBytes.skipWs(src, p + 1, len);
    if (src[q] != '}') {
      while (true) {
        int e = JsonBytes.stringEnd(src, q, len);
        boolean esc = e < 0;
        int keyEnd = esc ? ~e : e;
        int v = JsonBytes.skipWs(src, JsonBytes.skipWs(src, keyEnd, len) + 1, len);
        members.push(src, q + 1, keyEnd - 1, esc, v);
        q = JsonBytes.skipWs(src, JsonBytes.valueEnd(src, v, len, layout), len);
        if (src[q] != ',') {
          break;
        }
        q = JsonBytes.skipWs(src, q + 1, len);
      }
    }
    srcEnd[d] = q + 1;
    memCount[d] = members.top - base;
    next[d] = 0;
    int dupe = members.sort(src, base, memCount[d]);
    if (dupe >= 0) {
      throw members.duplicate(src, source, dupe);
    }
  }

  private void report(long accepted, int p, int end, byte c) {
    long scalars = accepted & Slots.SCALARS;
    while (scalars != 0) {
      int s = Long.numberOfTrailingZeros(scalars);
      scalars &= scalars - 1;
      captures.scalar(s, src, p, end);
    }
    if ((accepted & Slots.bit(Slots.STEPS)) != 0) {
      captures.steps(c);
    }
  }

  /** A masked member's value at {@code v} (state in {@code slot}): reported if mapped, then skipped. */
  private int skipMasked(int v, int slot) throws GoldenParseException {
    byte c = src[v];
    boolean container = c == '{' || c == '[';
    int end = container ? JsonBytes.valueEnd(src, v, len, layout) : scalarEnd(v, c);
    if (!noState[slot] && captures != null) {
      long accepted = acceptedAt[slot];
      report(accepted & ~Slots.bit(Slots.STEPS), v, container ? -1 : end, c);
      long reg = accepted & slots.regions;
      while (reg != 0) {
        int s = Long.numberOfTrailingZeros(reg);
        reg &= reg - 1;
        captures.region(s, null);
      }
    }
    if (container && !sortedInput) {
      members.checkNames(src, len, layout, source, v, end);
    }
    return end;
  }

  private void endValue(long reg, int step, int region) {
    String hash = region >= 0 ? o.closeRegion(region) : null;
    while (reg != 0 && captures != null) {
      int s = Long.numberOfTrailingZeros(reg);
      reg &= reg - 1;
      captures.region(s, hash);
    }
    if (step >= 0 && captures != null) {
      captures.stepEnd(step, hash);
    }
    int d = depth;
    if (d > 0 && kind[d] == BUFFERED) {
      members.outEnd[members.top - 1] = o.pos;
    }
  }

  /** End of the scalar at {@code p}; sets {@link #escaped} for a string. */
  private int scalarEnd(int p, byte c) {
    switch (c) {
      case '"' -> {
        int e = JsonBytes.stringEnd(src, p, len);
        escaped = e < 0;
        return escaped ? ~e : e;
      }
      case 't', 'n' -> {
        return p + 4;
      }
      case 'f' -> {
        return p + 5;
      }
      default -> {
        return JsonBytes.numberEnd(src, p, len);
      }
    }
  }

  // ---- subtrees without patterns --------------------------------------------------------------

  private boolean[] plainObject = new boolean[16];
  private int[] plainOut = new int[16];
  private int[] plainBase = new int[16];
  private int[] plainCount = new int[16];
  private int[] plainSeen = new int[16];
  private boolean[] plainUnsorted = new boolean[16];

  /**
   * Writes the container at {@code p}, below which no pattern can match (only volatile names
   * apply), in one loop: an object's members in source order, put in order in place when it
   * closes. The container is small (under {@link #BIG_BYTES}) or the input is canonical already,
   * where nothing is reordered and output may be flushed on the way. Returns where it ends.
   */
  private int plain(int p) throws GoldenParseException {
    byte[] s = src;
    NameSet names = slots.names;
    boolean flushable = sortedInput && buffering == 0 && hashing;
    int top = 0;
    int base0 = members.top;
    plainPush(0, s[p] == '{');
    p++;
    while (true) {
      p = JsonBytes.skipWs(s, p, len);
      byte c = s[p];
      boolean object = plainObject[top];
      if (c == '}' || c == ']') {
        if (object) {
          plainFinish(top);
        }
        o.put(c);
        p++;
        if (top == 0) {
          members.top = base0;
          return p;
        }
        top--;
        if (plainObject[top] && !sortedInput) {
          members.outEnd[members.top - 1] = o.pos;
        }
        continue;
      }
      if (plainSeen[top]++ > 0) {
        p = JsonBytes.skipWs(s, p + 1, len); // the comma
        if (flushable) {
          o.flushIfDue();
        }
      }
      int m = -1;
      if (object) {
        int e = JsonBytes.stringEnd(s, p, len);
        boolean esc = e < 0;
        int keyEnd = esc ? ~e : e;
        int v = JsonBytes.skipWs(s, JsonBytes.skipWs(s, keyEnd, len) + 1, len);
        boolean masked;
        if (esc) {
          if (nameBuf.length < keyEnd - p) {
            nameBuf = new byte[(keyEnd - p) * 2];
          }
          masked = names.contains(nameBuf, 0, CanonicalString.canonicalContent(s, p + 1, keyEnd - 1, nameBuf));
        } else {
          masked = names.contains(s, p + 1, keyEnd - p - 2);
        }
        if (!sortedInput) {
          m = members.push(s, p + 1, keyEnd - 1, esc, v);
          if (plainSeen[top] > 1 && outOfOrder(m)) {
            plainUnsorted[top] = true;
          }
        }
        if (masked) {
          int end = JsonBytes.valueEnd(s, v, len, layout);
          if (!sortedInput && (s[v] == '{' || s[v] == '[')) {
            members.checkNames(src, len, layout, source, v, end);
          }
          p = end;
          continue;
        }
        if (plainCount[top]++ > 0) {
          o.put((byte) ',');
        }
        if (m >= 0) {
          members.outStart[m] = o.pos;
        }
        o.writeName(src, p, keyEnd, esc);
        p = v;
      } else if (plainCount[top]++ > 0) {
        o.put((byte) ',');
      }
      c = s[p];
      if (c == '{' || c == '[') {
        top++;
        plainPush(top, c == '{');
        p++;
        continue;
      }
      int end = scalarEnd(p, c);
      o.writeScalar(src, p, end, c, escaped);
      p = end;
      if (m >= 0) {
        members.outEnd[m] = o.pos;
      }
    }
  }

  private void plainPush(int top, boolean object) {
    if (top == plainObject.length) {
      int n = top * 2;
      plainObject = Arrays.copyOf(plainObject, n);
      plainOut = Arrays.copyOf(plainOut, n);
      plainBase = Arrays.copyOf(plainBase, n);
      plainCount = Arrays.copyOf(plainCount, n);
      plainSeen = Arrays.copyOf(plainSeen, n);
      plainUnsorted = Arrays.copyOf(plainUnsorted, n);
    }
    o.put((byte) (object ? '{' : '['));
    plainObject[top] = object;
    plainOut[top] = o.pos;
    plainBase[top] = members.top;
    plainCount[top] = 0;
    plainSeen[top] = 0;
    plainUnsorted[top] = false;
  }

  /** Puts the members of plain object {@code top} in order when they did not come so. */
  private void plainFinish(int top) throws GoldenParseException {
    if (plainUnsorted[top]) {
      permute(plainBase[top], members.top - plainBase[top], plainOut[top]);
    }
    members.top = plainBase[top];
  }

  private void ensureFrames(int n) {
    if (n < kind.length) {
      return;
    }
    int m = Math.max(n + 1, kind.length * 2);
    kind = Arrays.copyOf(kind, m);
    count = Arrays.copyOf(count, m);
    seen = Arrays.copyOf(seen, m);
    memBase = Arrays.copyOf(memBase, m);
    memCount = Arrays.copyOf(memCount, m);
    next = Arrays.copyOf(next, m);
    srcEnd = Arrays.copyOf(srcEnd, m);
    outStart = Arrays.copyOf(outStart, m);
    unsorted = Arrays.copyOf(unsorted, m);
    stepsArray = Arrays.copyOf(stepsArray, m);
    regionSlots = Arrays.copyOf(regionSlots, m);
    regionIndex = Arrays.copyOf(regionIndex, m);
    stepPosition = Arrays.copyOf(stepPosition, m);
    noState = Arrays.copyOf(noState, m);
    acceptedAt = Arrays.copyOf(acceptedAt, m);
    states = Arrays.copyOf(states, m * words);
  }

  /** Bytes of working memory held besides the input: for tests of the memory bound. */
  long workingBytes() {
    return o.workingBytes() + (long) members.keyStart.length * 37 + states.length * 8L;
  }
}
