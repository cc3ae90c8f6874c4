package dev.lockstep.golden;

import java.util.List;
import java.util.Map;

/**
 * The pattern slots of one configuration: which paths are masked, and where the mapped fields
 * are. Built once per {@link GoldenConfig} and shared by every walk (immutable).
 */
final class Slots {
  static final int MASK = 0;
  static final int RUN_ID = 1;
  static final int WORKFLOW = 2;
  static final int ROLE = 3;
  static final int SEED = 4;
  static final int RUN_HASH = 5;
  static final int OUTPUT = 6;
  static final int STEPS = 7;
  static final int STEP_INDEX = 8;
  static final int STEP_NAME = 9;
  static final int STEP_KIND = 10;
  static final int STEP_HASH = 11;
  static final int RESPONSE = 12;
  /** Volatile (diff walks only: marked, not removed). */
  static final int VOLATILE = 13;
  /** The replica's role (diff walks only: skipped). */
  static final int IDENTITY = 14;
  static final int RNG = 16;
  static final int MAX_RNG_KEYS = 16;
  static final int ARRAY_KEY = 32;
  static final int MAX_ARRAY_KEYS = 32;

  static final long SCALARS = bit(RUN_ID) | bit(WORKFLOW) | bit(ROLE) | bit(SEED) | bit(RUN_HASH)
      | bit(STEP_INDEX) | bit(STEP_NAME) | bit(STEP_KIND) | bit(STEP_HASH);

  final PathPatterns patterns;
  final NameSet names;
  final long regions;

  private Slots(PathPatterns patterns, NameSet names, long regions) {
    this.patterns = patterns;
    this.names = names;
    this.regions = regions;
  }

  static long bit(int slot) {
    return 1L << slot;
  }

  /**
   * For hashing: volatile names and globs, the role, the run hash and each step's hash are masked
   * (removed); the mapped fields are captured.
   */
  static Slots forHashing(GoldenConfig config) {
    Object[] last = lastHashing;
    if (last != null && last[0] == config) {
      return (Slots) last[1];
    }
    Slots s = compileHashing(config);
    lastHashing = new Object[] {config, s};
    return s;
  }

  /**
   * The config compiled last, by identity: a program uses one config at a time, and comparing
   * records by value would cost their first equals/hashCode (method-handle bootstraps) at start-up.
   */
  private static volatile Object[] lastHashing;

  private static Slots compileHashing(GoldenConfig config) {
    GoldenConfig.Mapping m = config.mapping();
    PathPatterns.Builder b = new PathPatterns.Builder();
    for (String glob : config.mask().pointerGlobs()) {
      b.glob(glob, MASK);
    }
    b.glob(m.role(), MASK).glob(m.runHash(), MASK).underElements(m.steps(), m.stepHash(), MASK);
    b.glob(m.runId(), RUN_ID).glob(m.workflow(), WORKFLOW).glob(m.role(), ROLE).glob(m.seed(), SEED)
        .glob(m.runHash(), RUN_HASH).glob(m.output(), OUTPUT).glob(m.steps(), STEPS)
        .underElements(m.steps(), m.stepIndex(), STEP_INDEX).underElements(m.steps(), m.stepName(), STEP_NAME)
        .underElements(m.steps(), m.stepKind(), STEP_KIND).underElements(m.steps(), m.stepHash(), STEP_HASH)
        .underElements(m.steps(), m.responseKey(), RESPONSE);
    long regions = bit(OUTPUT) | bit(RESPONSE);
    List<String> rng = m.rngKeys();
    for (int i = 0; i < rng.size(); i++) {
      b.underElements(m.steps(), rng.get(i), RNG + i);
      regions |= bit(RNG + i);
    }
    return new Slots(b.build(), new NameSet(config.mask().names()), regions);
  }

  /** For canonical bytes with nothing removed (the form documents are diffed in). */
  static Slots none() {
    return new Slots(new PathPatterns.Builder().build(), NameSet.EMPTY, 0);
  }

  /** For diff walks: volatile paths (marked), the role (skipped), the steps array, keyed arrays. */
  static Slots forDiff(GoldenConfig config) {
    GoldenConfig.Mapping m = config.mapping();
    PathPatterns.Builder b = new PathPatterns.Builder();
    for (String glob : config.mask().pointerGlobs()) {
      b.glob(glob, VOLATILE);
    }
    b.glob(m.role(), IDENTITY).glob(m.steps(), STEPS);
    int i = 0;
    for (Map.Entry<String, String> e : config.diff().arrayKeys().entrySet()) {
      b.glob(e.getKey(), ARRAY_KEY + i++);
    }
    return new Slots(b.build(), new NameSet(config.mask().names()), 0);
  }
}
