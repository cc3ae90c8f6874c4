package dev.lockstep.agent.watch;

import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.internal.ProtoTime;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.agent.spool.Spool;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.GoldenParseException;
import dev.lockstep.golden.GoldenReader;
import dev.lockstep.golden.ReportLimits;
import dev.lockstep.golden.RunSummary;
import dev.lockstep.golden.StepSummary;
import dev.lockstep.proto.lite.v1.AgentNotice;
import dev.lockstep.proto.lite.v1.Event;
import dev.lockstep.proto.lite.v1.GoldenError;
import dev.lockstep.proto.lite.v1.GoldenReport;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.function.Consumer;

/**
 * Finds complete golden files in the watched directories, parses each with the golden library and
 * spools a GoldenReport. Runs on the agent's work thread: {@link #tick} drains inotify events
 * (WatchService), lists directories when needed (first sight, after an inotify overflow, when a
 * watch is lost, and periodically for directories that are polled), and examines the candidates
 * that are due, within a time budget. A file is read once as soon as it is seen: a golden file is
 * one JSON object, so a file renamed into place parses whole at once, while a half-written one
 * cannot and is left alone until its size and mtime stayed unchanged for the settle time (then a
 * file that still fails to parse is reported as malformed only after the malformed grace).
 *
 * <p>What is reported is kept per directory as a watermark ({@link Watermarks}), not per file, so
 * memory and state stay bounded however many files a directory holds; candidates are due-time
 * ordered, so a backlog of n files costs n stats and n reads, in ctime order.
 *
 * <p>Failures are per directory: a directory that cannot be listed is reported once
 * (SOURCE_FAILED) and retried with backoff while the others keep working; a directory inotify
 * cannot watch (watch limit, no inotify instance left) is polled instead (WATCH_POLLING).
 * Invariant: a file is recorded as reported only after its event is durable in the spool, so a
 * full spool or a crash never loses one.
 */
public final class GoldenWatcher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(GoldenWatcher.class.getName());
  private static final int MAX_BATCH = 500;
  /** Candidates one listing takes at most; the rest wait for the next listing. */
  static final int MAX_LISTED = 50_000;
  // MAX_LISTED, smaller in tests
  int maxListed = MAX_LISTED;
  private static final long TICK_BUDGET_NANOS = 200_000_000L;
  /** ctimes are coarse and events arrive late: the watermark stays this far behind. */
  private static final long MARGIN_NANOS = 2_000_000_000L;
  private static final long POLL_NANOS = 2_000_000_000L;
  private static final long MAX_BACKOFF_NANOS = 60_000_000_000L;
  /** A listing takes the watch service's events every this many entries (see pumpEvents). */
  static final int LISTING_PUMP = 64;

  enum Mode { INOTIFY, POLLING }

  private final class Dir {
    final Path path;
    final String key;
    final String pattern;
    Mode mode = Mode.POLLING;
    WatchKey watchKey;
    Watermarks.Mark mark;
    boolean needsListing = true;
    boolean listedOnce;
    long coveredUpToWall = Long.MIN_VALUE;
    long dirMtime = Long.MIN_VALUE;
    long lastListingNanos;
    // a listing that stopped at MAX_LISTED: nothing at or above this ctime is known
    long listBound = Long.MAX_VALUE;
    int failures;
    long retryAtNanos;
    String failure;
    boolean pollingNoticed;
    final java.util.TreeMap<Long, Integer> pendingCtimes = new java.util.TreeMap<>();
    // taken from the watch service by pumpEvents, handled by drainEvents
    final List<Path> eventNames = new ArrayList<>();
    boolean relist;

    Dir(Path path, String pattern) {
      this.path = path;
      this.key = path.toString();
      this.pattern = pattern;
    }

    void pending(long ctime, int delta) {
      pendingCtimes.merge(ctime, delta, (a, b) -> a + b == 0 ? null : a + b);
    }
  }

  private static final class Candidate {
    final Dir dir;
    final String name;
    final Path path;
    Directories.Attrs attrs;
    long attrsAtNanos = Long.MIN_VALUE;
    long size = -1;
    long mtime = -1;
    long ctime = Long.MIN_VALUE;
    long stableSinceNanos;
    long retryAtNanos;
    long dueAtNanos;
    boolean earlyLookTaken;
    boolean earlyLookNow;

    Candidate(Dir dir, String name) {
      this.dir = dir;
      this.name = name;
      this.path = dir.path.resolve(name);
    }
  }

  private final AgentConfig.GoldenWatch config;
  private final GoldenConfig goldenConfig;
  private final GoldenReader reader;
  private final Spool spool;
  private final AgentMetrics metrics;
  private final Clock clock;
  private final Consumer<AgentNotice> notices;
  private final Directories fs;
  private final Path stateDir;
  private final PathMatcher fileMatcher;
  private final Watermarks marks;
  // ~200 bytes of heap each; 4,096 is 41 s at 100 files/s, far longer than an incident's capture
  // request takes to arrive (older runs are found by file name or by reading the file)
  private final RecentRuns recent = new RecentRuns(4_096);
  private final WatchService watchService;
  private final Map<String, Dir> dirs = new LinkedHashMap<>();
  private final Map<WatchKey, Dir> byKey = new HashMap<>();
  private final Map<Path, Candidate> candidates = new HashMap<>();
  private final PriorityQueue<Candidate> queue = new PriorityQueue<>(Comparator
      .comparingLong((Candidate c) -> c.dueAtNanos).thenComparingLong(c -> c.ctime).thenComparing(c -> c.name));
  // reported before a crash but maybe not in the watermarks: path -> size, mtime
  private Map<String, long[]> adopted = new HashMap<>();
  private final Map<String, String> patternFailures = new LinkedHashMap<>();
  private final boolean firstStart;
  private boolean firstRescanDone;
  private long nextRescanNanos;
  private boolean rescanRequested = true;
  private volatile String problem;
  private volatile boolean blind;

  public GoldenWatcher(AgentConfig.GoldenWatch config, GoldenConfig goldenConfig, Path stateDir, Spool spool,
      AgentMetrics metrics, Clock clock, Consumer<AgentNotice> notices) throws IOException {
    this(config, goldenConfig, stateDir, spool, metrics, clock, notices, Directories.REAL);
  }

  GoldenWatcher(AgentConfig.GoldenWatch config, GoldenConfig goldenConfig, Path stateDir, Spool spool,
      AgentMetrics metrics, Clock clock, Consumer<AgentNotice> notices, Directories fs) throws IOException {
    this.config = config;
    this.goldenConfig = goldenConfig;
    this.reader = new GoldenReader(goldenConfig);
    this.spool = spool;
    this.metrics = metrics;
    this.clock = clock;
    this.notices = notices;
    this.fs = fs;
    this.stateDir = stateDir;
    this.fileMatcher = FileSystems.getDefault().getPathMatcher("glob:" + config.fileGlob());
    Files.createDirectories(stateDir);
    this.marks = new Watermarks(stateDir);
    Path legacy = stateDir.resolve("golden-seen.log");
    this.firstStart = !marks.existed() && !Files.exists(legacy);
    if (!marks.existed() && Files.exists(legacy)) {
      adoptLegacy(legacy);
    }
    WatchService ws = null;
    try {
      ws = FileSystems.getDefault().newWatchService();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "golden watcher: no inotify (" + e.getMessage() + "); directories are polled");
      notices.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.WATCH_POLLING)
          .setMessage("inotify unavailable (" + e.getMessage() + "): every golden directory is polled every "
              + POLL_NANOS / 1_000_000_000L + " s").build());
    }
    this.watchService = ws;
  }

  /** golden-seen.log of an older agent: its files count as reported when unchanged. */
  private void adoptLegacy(Path legacy) throws IOException {
    for (String line : Files.readAllLines(legacy)) {
      String[] f = line.split("\t", 5);
      try {
        if (f.length == 5 && f[0].equals("R")) {
          adopted.put(f[4], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
        } else if (f.length == 2 && f[0].equals("F")) {
          adopted.remove(f[1]);
        }
      } catch (NumberFormatException e) {
        // a torn line
      }
    }
  }

  /**
   * A retained spool event at start-up: a golden file whose report is in the spool counts as
   * reported even if the watermarks written before the crash do not show it yet.
   */
  public void adopt(Event e) {
    if (e.hasGolden() && adopted != null) {
      GoldenReport g = e.getGolden();
      adopted.put(g.getPath(), new long[] {g.getSizeBytes(), ProtoTime.toInstant(g.getModifiedAt()).toEpochMilli()});
      recent.add(Path.of(g.getPath()), g.getRunId());
    }
  }

  // ------------------------------------------------------------------------------ queries

  /** Golden files this agent reported lately for a run (any role), as far as they still exist. */
  public List<Path> filesOfRun(String runId) {
    List<Path> out = new ArrayList<>();
    for (Path p : recent.filesOf(runId)) {
      if (Files.exists(p)) {
        out.add(p);
      }
    }
    return out;
  }

  /** The run id of a golden file: from the recent reports, else read from the file; null if none. */
  public String runIdOf(Path file) {
    String r = recent.runOf(file);
    if (r != null) {
      return r;
    }
    try {
      String id = Golden.read(file, GoldenConfig.DEFAULT).summary().runId();
      return id == null || id.isEmpty() ? null : id;
    } catch (GoldenParseException | RuntimeException e) {
      return null;
    }
  }

  /** Retention removed a file. */
  public void forget(Path file) {
    recent.forget(file);
  }

  /** The directories currently matching the configured dirs (globs expanded). */
  public List<Path> directories() {
    List<Path> out = new ArrayList<>();
    for (String d : config.dirs()) {
      out.addAll(expand(d, null));
    }
    return out;
  }

  /** Whether a file name is one this watcher reads. */
  public boolean isGoldenFile(Path file) {
    Path name = file.getFileName();
    return name != null && !name.toString().startsWith(".") && fileMatcher.matches(name);
  }

  /** Why golden detection is degraded (failing or polled directories), or null. */
  public String problem() {
    return problem;
  }

  /** True when every golden directory fails: the agent sees no golden file at all. */
  public boolean blind() {
    return blind;
  }

  /** Files remembered one by one in the watermarks (those reported within the margin). */
  int recentMarks() {
    return marks.recentCount();
  }

  /** How long until the next tick should run, given what is due. */
  public long tickDelayMillis() {
    long tick = Math.max(20, Math.min(250, config.settle().toMillis() / 4));
    Candidate next = queue.peek();
    if (next != null && next.dueAtNanos - System.nanoTime() <= 0) {
      return 0;
    }
    return tick;
  }

  // ------------------------------------------------------------------------------ the tick

  /** One round: rescan when due, drain events, examine due candidates, move the watermarks. */
  public void tick() throws IOException {
    long now = System.nanoTime();
    if (rescanRequested || now - nextRescanNanos >= 0) {
      rescanRequested = false;
      rescan();
      firstRescanDone = true;
      long period = config.rescanInterval().toNanos();
      now = System.nanoTime();
      nextRescanNanos = now + period;
      for (Dir d : dirs.values()) {
        if (d.failure != null) {
          nextRescanNanos = Math.min(nextRescanNanos, Math.max(now, d.retryAtNanos));
        } else if (d.mode == Mode.POLLING) {
          nextRescanNanos = Math.min(nextRescanNanos, now + POLL_NANOS);
        }
      }
    }
    drainEvents();
    process(System.nanoTime() + TICK_BUDGET_NANOS);
    for (Dir d : dirs.values()) {
      if (d.needsListing && d.listBound != Long.MAX_VALUE && d.pendingCtimes.isEmpty() && d.failure == null) {
        // a listing stopped at maxListed and what it took is reported: list the rest now, not at the
        // next periodic rescan (which left a backlog of 100,000 files idle for up to 30 s at 50,000)
        rescanRequested = true;
      }
    }
    advanceWatermarks();
    marks.save(false);
    if (adopted != null && queue.isEmpty() && dirs.values().stream().allMatch(d -> d.listedOnce)) {
      adopted = null; // every directory was listed and every candidate settled
      Files.deleteIfExists(stateDir.resolve("golden-seen.log"));
    }
    status();
  }

  private void rescan() {
    Map<String, Dir> live = new LinkedHashMap<>();
    patternFailures.clear();
    for (String pattern : config.dirs()) {
      // a directory named outright is kept while missing (it fails until it is there again);
      // directories a glob matched come and go with it
      List<Path> paths = hasGlob(pattern) ? expand(pattern, patternFailures)
          : List.of(Path.of(pattern).toAbsolutePath());
      for (Path p : paths) {
        String key = p.toString();
        Dir d = dirs.get(key);
        if (d == null) {
          d = new Dir(p, pattern);
          d.mark = marks.get(key);
        }
        live.put(key, d);
      }
    }
    for (Dir gone : dirs.values()) {
      if (!live.containsKey(gone.key)) {
        if (patternFailures.containsKey(gone.pattern)) {
          live.put(gone.key, gone); // its parent could not be listed: not known to be gone
        } else {
          forgetDir(gone);
        }
      }
    }
    dirs.clear();
    dirs.putAll(live);
    long now = System.nanoTime();
    for (Dir d : dirs.values()) {
      if (d.failure != null && now - d.retryAtNanos < 0) {
        continue;
      }
      if (d.mode == Mode.POLLING || d.watchKey == null || !d.watchKey.isValid()) {
        register(d);
      }
      if (!d.needsListing && d.mode == Mode.POLLING) {
        d.needsListing = polledDirChanged(d) || now - d.lastListingNanos >= config.rescanInterval().toNanos();
      }
      if (d.needsListing) {
        list(d);
      }
    }
  }

  private void forgetDir(Dir d) {
    if (d.watchKey != null) {
      d.watchKey.cancel();
      byKey.remove(d.watchKey);
    }
    candidates.values().removeIf(c -> {
      if (c.dir == d) {
        queue.remove(c);
        return true;
      }
      return false;
    });
    marks.drop(d.key);
    LOG.log(System.Logger.Level.INFO, "golden watcher: " + d.path + " is gone");
  }

  private void register(Dir d) {
    if (watchService == null) {
      pollingNotice(d, "no inotify instance");
      return;
    }
    try {
      WatchKey k = fs.register(d.path, watchService);
      if (d.watchKey != null && d.watchKey != k) {
        byKey.remove(d.watchKey);
      }
      d.watchKey = k;
      byKey.put(k, d);
      if (d.mode == Mode.POLLING && d.pollingNoticed) {
        notices.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.SOURCE_RECOVERED)
            .setMessage("golden dir " + d.path + " is watched with inotify again").build());
        d.pollingNoticed = false;
      }
      d.mode = Mode.INOTIFY;
      d.needsListing = true; // events may have been missed before the watch existed
    } catch (NoSuchFileException e) {
      d.needsListing = true; // listing will say what is wrong
    } catch (IOException | RuntimeException e) {
      d.mode = Mode.POLLING;
      pollingNotice(d, e.getMessage() == null ? e.toString() : e.getMessage());
    }
  }

  private void pollingNotice(Dir d, String why) {
    d.mode = Mode.POLLING;
    if (!d.pollingNoticed) {
      d.pollingNoticed = true;
      LOG.log(System.Logger.Level.WARNING, "golden watcher: cannot watch " + d.path + " with inotify (" + why
          + "); polling it every " + POLL_NANOS / 1_000_000_000L + " s");
      notices.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.WATCH_POLLING)
          .setMessage("golden dir " + d.path + " cannot be watched with inotify (" + why + "): polled every "
              + POLL_NANOS / 1_000_000_000L + " s, new files are seen later").setCount(1).build());
    }
  }

  private boolean polledDirChanged(Dir d) {
    try {
      long m = fs.dirMtime(d.path);
      boolean changed = m != d.dirMtime;
      return changed;
    } catch (IOException e) {
      return true; // the listing will report it
    }
  }

  /** Lists a directory: every golden file not yet reported becomes a candidate (in ctime order). */
  private void list(Dir d) {
    long wallStart = wallNanos();
    long started = System.nanoTime();
    long dirMtime;
    List<Candidate> found = new ArrayList<>();
    boolean skipHistory = firstStart && !firstRescanDone && !d.listedOnce && d.mark == null
        && config.startAt() == AgentConfig.StartAt.END;
    long maxCtime = Long.MIN_VALUE;
    List<String> atMax = new ArrayList<>();
    try {
      dirMtime = fs.dirMtime(d.path);
      if (d.mark == null) {
        d.mark = marks.create(d.key);
      }
      int entries = 0;
      try (DirectoryStream<Path> ds = fs.list(d.path)) {
        for (Path f : ds) {
          if (++entries % LISTING_PUMP == 0) {
            pumpEvents();
          }
          if (!isGoldenFile(f) || candidates.containsKey(f)) {
            continue;
          }
          Directories.Attrs a;
          try {
            a = fs.stat(f);
          } catch (NoSuchFileException e) {
            continue;
          }
          if (!a.regular()) {
            continue;
          }
          String name = f.getFileName().toString();
          marks.observe(d.mark, a.ctimeNanos());
          if (skipHistory) {
            if (a.ctimeNanos() > maxCtime) {
              maxCtime = a.ctimeNanos();
              atMax.clear();
            }
            if (a.ctimeNanos() == maxCtime) {
              atMax.add(name);
            }
            continue;
          }
          if (Watermarks.seen(d.mark, name, a.ctimeNanos()) || adoptedNow(d, f, name, a)) {
            continue;
          }
          Candidate c = new Candidate(d, name);
          c.attrs = a;
          c.attrsAtNanos = System.nanoTime();
          c.ctime = a.ctimeNanos();
          found.add(c);
        }
      }
    } catch (IOException | RuntimeException e) {
      dirFailed(d, e);
      return;
    }
    if (skipHistory && maxCtime != Long.MIN_VALUE) {
      marks.skipTo(d.mark, maxCtime, atMax);
      LOG.log(System.Logger.Level.INFO, "golden watcher: " + d.path + ": first start, files already there are not"
          + " reported (start_at: end)");
    }
    d.listBound = Long.MAX_VALUE;
    if (found.size() > maxListed) {
      found.sort(Comparator.comparingLong((Candidate c) -> c.ctime).thenComparing(c -> c.name));
      d.listBound = found.get(maxListed).ctime;
      found = new ArrayList<>(found.subList(0, maxListed));
      LOG.log(System.Logger.Level.INFO, "golden watcher: " + d.path + ": taking the " + maxListed
          + " oldest unreported files now, the rest after them");
    }
    long now = System.nanoTime();
    for (Candidate c : found) {
      c.dueAtNanos = now;
      add(c);
    }
    d.needsListing = d.listBound != Long.MAX_VALUE;
    d.listedOnce = true;
    d.coveredUpToWall = wallStart;
    d.dirMtime = dirMtime;
    d.lastListingNanos = started;
    if (d.failure != null) {
      dirRecovered(d);
    }
  }

  private boolean adoptedNow(Dir d, Path f, String name, Directories.Attrs a) {
    if (adopted == null) {
      return false;
    }
    long[] r = adopted.remove(f.toString());
    if (r != null && r[0] == a.size() && r[1] == a.mtimeMillis()) {
      marks.reported(d.mark, name, a.ctimeNanos());
      return true;
    }
    return false;
  }

  private void dirFailed(Dir d, Exception e) {
    metrics.errors.labelValues("golden").inc();
    d.failures++;
    String reason = e instanceof NoSuchFileException ? "does not exist"
        : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    boolean first = d.failure == null;
    d.failure = reason;
    d.retryAtNanos = System.nanoTime() + Math.min(MAX_BACKOFF_NANOS, 1_000_000_000L << Math.min(d.failures - 1, 6));
    d.needsListing = true;
    if (first) {
      LOG.log(System.Logger.Level.WARNING, "golden watcher: " + d.path + ": " + reason + " (retried with backoff)");
      notices.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.SOURCE_FAILED)
          .setMessage("golden dir " + d.path + " cannot be read: " + reason
              + "; retried with backoff, the other directories are watched").setCount(1).build());
    }
  }

  private void dirRecovered(Dir d) {
    LOG.log(System.Logger.Level.INFO, "golden watcher: " + d.path + " readable again");
    notices.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.SOURCE_RECOVERED)
        .setMessage("golden dir " + d.path + " is read again (after " + d.failures + " failed attempts)")
        .setCount(d.failures).build());
    d.failure = null;
    d.failures = 0;
  }

  /**
   * Takes the watch service's events into each directory's list, to be handled by drainEvents.
   * The JDK keeps at most 512 events per watch key and then drops them for an OVERFLOW, which
   * costs a listing of the whole directory (a stat per file). A file written and renamed into
   * place makes 3 events, so at 100 files/s 1.7 s without taking them overflow the key: a listing
   * of a large directory takes that long on a busy host, and without taking them as it goes each
   * listing's overflow would start the next one (seen in the soak: minutes of back-to-back
   * listings of 40,000 files after one long pause).
   */
  private void pumpEvents() {
    if (watchService == null) {
      return;
    }
    WatchKey key;
    while ((key = watchService.poll()) != null) {
      Dir d = byKey.get(key);
      List<WatchEvent<?>> events = key.pollEvents();
      if (d == null) {
        key.cancel();
        continue;
      }
      for (WatchEvent<?> ev : events) {
        if (ev.kind() == OVERFLOW) {
          d.relist = true;
        } else {
          d.eventNames.add((Path) ev.context());
        }
      }
      if (!key.reset()) {
        // the directory is gone or unwatchable; the rescan re-registers it when it comes back
        byKey.remove(key);
        d.watchKey = null;
        d.relist = true;
      }
    }
  }

  private void drainEvents() {
    if (watchService == null) {
      return;
    }
    long wallBefore = wallNanos();
    pumpEvents();
    for (Dir d : dirs.values()) {
      if (d.relist) {
        // after the listing that may have been under way when the events were lost
        d.relist = false;
        d.needsListing = true;
        rescanRequested = true;
      }
      for (Path name : d.eventNames) {
        Path f = d.path.resolve(name);
        if (isGoldenFile(f) && !candidates.containsKey(f)) {
          seenByEvent(d, f);
        }
      }
      d.eventNames.clear();
    }
    for (Dir d : dirs.values()) {
      if (d.mode == Mode.INOTIFY && d.watchKey != null && d.watchKey.isValid() && !d.needsListing) {
        d.coveredUpToWall = wallBefore;
      }
    }
  }

  /** A file an event named: stat it now (this is its one stat unless it changes). */
  private void seenByEvent(Dir d, Path f) {
    Directories.Attrs a;
    try {
      a = fs.stat(f);
    } catch (IOException e) {
      return; // gone again, or not readable: a listing will show it
    }
    if (!a.regular() || d.mark == null) {
      return;
    }
    String name = f.getFileName().toString();
    marks.observe(d.mark, a.ctimeNanos());
    if (Watermarks.seen(d.mark, name, a.ctimeNanos())) {
      return;
    }
    Candidate c = new Candidate(d, name);
    c.attrs = a;
    c.attrsAtNanos = System.nanoTime();
    c.ctime = a.ctimeNanos();
    c.dueAtNanos = c.attrsAtNanos;
    add(c);
  }

  private void add(Candidate c) {
    candidates.put(c.path, c);
    c.dir.pending(c.ctime, 1);
    queue.add(c);
  }

  private void remove(Candidate c) {
    if (candidates.remove(c.path) == c) {
      c.dir.pending(c.ctime, -1);
    }
  }

  // ------------------------------------------------------------------------------ candidates

  private void process(long budgetEnd) throws IOException {
    List<Candidate> batch = new ArrayList<>();
    List<Event> events = new ArrayList<>();
    while (!queue.isEmpty()) {
      long now = System.nanoTime();
      if (queue.peek().dueAtNanos - now > 0 || now - budgetEnd > 0) {
        break;
      }
      Candidate c = queue.poll();
      if (candidates.get(c.path) != c) {
        continue;
      }
      Event e = look(c, now);
      if (e != null) {
        batch.add(c);
        events.add(e);
        if (events.size() >= MAX_BATCH && !flush(batch, events)) {
          return;
        }
      }
    }
    flush(batch, events);
  }

  /** Examines a due candidate: the event to report, or null (dropped, or queued again). */
  private Event look(Candidate c, long now) {
    Directories.Attrs a = c.attrs;
    c.attrs = null;
    if (a == null) {
      try {
        a = fs.stat(c.path);
      } catch (IOException e) {
        remove(c);
        return null;
      }
    }
    if (!a.regular()) {
      remove(c);
      return null;
    }
    if (a.ctimeNanos() != c.ctime) {
      c.dir.pending(c.ctime, -1);
      c.ctime = a.ctimeNanos();
      c.dir.pending(c.ctime, 1);
      marks.observe(c.dir.mark, c.ctime);
    }
    if (Watermarks.seen(c.dir.mark, c.name, c.ctime)) {
      remove(c);
      return null;
    }
    long settle = config.settle().toNanos();
    boolean early = !c.earlyLookTaken;
    if (a.size() != c.size || a.mtimeMillis() != c.mtime) {
      c.size = a.size();
      c.mtime = a.mtimeMillis();
      c.stableSinceNanos = now;
      c.retryAtNanos = now;
      if (!early || a.size() == 0) {
        return later(c, now + settle);
      }
    }
    if (early && a.size() > 0) {
      c.earlyLookTaken = true;
      c.earlyLookNow = now - c.stableSinceNanos < settle;
      return read(c, now);
    }
    if (now - c.stableSinceNanos >= settle && now - c.retryAtNanos >= 0) {
      return read(c, now);
    }
    return later(c, Math.max(c.stableSinceNanos + settle, c.retryAtNanos));
  }

  private Event later(Candidate c, long dueAt) {
    c.dueAtNanos = dueAt;
    queue.add(c);
    return null;
  }

  private Event read(Candidate c, long now) {
    GoldenReport.Builder r = GoldenReport.newBuilder().setPath(c.path.toAbsolutePath().toString())
        .setSizeBytes(c.size).setModifiedAt(ProtoTime.of(Instant.ofEpochMilli(c.mtime)));
    try {
      RunSummary s = reader.read(c.path, c.size);
      if (nz(s.role()).isBlank()) {
        // the collector refuses a report without a role (docs/protocol.md): send it as bad
        throw new GoldenParseException(c.path.toString(), 0, 0, GoldenParseException.Code.MISSING_FIELD,
            "no role: neither \"" + goldenConfig.mapping().role() + "\" in the document nor a"
                + " role in the file name (<run>.<role>.golden.json)");
      }
      Optional<ReportLimits.Over> over = ReportLimits.over(s);
      if (over.isPresent()) {
        // the collector refuses such a report, and with it every event batched after it: sent as
        // a bad golden file instead, without the summary holding the value it cannot take
        throw new GoldenParseException(c.path.toString(), 0, 0, GoldenParseException.Code.STRING_TOO_LONG,
            over.get().describe());
      }
      fill(r, s);
    } catch (GoldenParseException ex) {
      if (c.earlyLookNow) {
        // not complete yet (or not settled): the settle time decides from here on
        c.earlyLookNow = false;
        return later(c, c.stableSinceNanos + config.settle().toNanos());
      }
      long grace = config.malformedGrace().toNanos();
      if (now - c.stableSinceNanos < grace) {
        // maybe still being written; look again when it changes or the grace is over
        c.retryAtNanos = c.stableSinceNanos + grace;
        return later(c, c.retryAtNanos);
      }
      r.setError(GoldenError.newBuilder().setPath(r.getPath()).setLine(ex.line()).setColumn(ex.column())
          .setCode(ex.code().name()).setMessage(nz(ex.getMessage())));
    } catch (RuntimeException ex) {
      metrics.errors.labelValues("golden").inc();
      r.setError(GoldenError.newBuilder().setPath(r.getPath()).setCode("INTERNAL")
          .setMessage(r.getPath() + ": golden library failed: " + ex));
    }
    return Event.newBuilder().setObservedAt(ProtoTime.of(clock.instant())).setGolden(r).build();
  }

  /** Spools a batch; true when accepted (else every candidate waits a second and the tick stops). */
  private boolean flush(List<Candidate> batch, List<Event> events) throws IOException {
    if (events.isEmpty()) {
      return true;
    }
    Spool.Appended a = spool.append(events);
    long now = System.nanoTime();
    if (!a.accepted()) {
      for (Candidate c : batch) {
        later(c, now + 1_000_000_000L);
      }
      batch.clear();
      events.clear();
      return false;
    }
    for (int i = 0; i < batch.size(); i++) {
      Candidate c = batch.get(i);
      GoldenReport g = events.get(i).getGolden();
      marks.reported(c.dir.mark, c.name, c.ctime);
      recent.add(c.path, g.getRunId());
      remove(c);
      metrics.goldenFiles.labelValues(g.hasError() ? "malformed" : "ok").inc();
    }
    advanceWatermarks();
    marks.save(false);
    batch.clear();
    events.clear();
    return true;
  }

  /** Moves each fully tracked directory's watermark up to what is known to be reported. */
  private void advanceWatermarks() {
    for (Dir d : dirs.values()) {
      if (d.mark == null || !d.listedOnce || d.failure != null) {
        continue;
      }
      if (d.mark.maxCtime == Long.MIN_VALUE || d.coveredUpToWall == Long.MIN_VALUE) {
        continue;
      }
      long bound = Math.min(d.mark.maxCtime - MARGIN_NANOS, d.coveredUpToWall - MARGIN_NANOS);
      bound = Math.min(bound, d.listBound);
      if (!d.pendingCtimes.isEmpty()) {
        bound = Math.min(bound, d.pendingCtimes.firstKey());
      }
      marks.advance(d.mark, bound);
    }
  }

  private void status() {
    int inotify = 0;
    int polling = 0;
    int failing = 0;
    String first = null;
    for (Dir d : dirs.values()) {
      if (d.failure != null) {
        failing++;
        if (first == null) {
          first = d.path + ": " + d.failure;
        }
      } else if (d.mode == Mode.POLLING) {
        polling++;
      } else {
        inotify++;
      }
    }
    metrics.goldenDirs.labelValues("inotify").set(inotify);
    metrics.goldenDirs.labelValues("polling").set(polling);
    metrics.goldenDirs.labelValues("failing").set(failing);
    metrics.goldenBacklog.set(candidates.size());
    List<String> why = new ArrayList<>();
    if (failing > 0) {
      why.add(failing + " of " + dirs.size() + " golden dirs failing (" + first + ")");
    }
    if (polling > 0) {
      why.add(polling + " golden dirs polled (no inotify)");
    }
    for (Map.Entry<String, String> e : patternFailures.entrySet()) {
      why.add("golden dir " + e.getKey() + ": " + e.getValue());
    }
    problem = why.isEmpty() ? null : String.join("; ", why);
    blind = !dirs.isEmpty() && failing == dirs.size();
  }

  /**
   * An engine hash over the collector's limit is sent as its digest (ReportLimits.engineHash, as
   * the collector would store it): a long hash costs its bytes once per step and report.
   */
  private static void fill(GoldenReport.Builder r, RunSummary s) {
    r.setRunId(nz(s.runId())).setWorkflow(nz(s.workflow())).setRole(nz(s.role()))
        .setCanonicalHash(nz(s.canonicalHash())).setEngineHash(ReportLimits.engineHash(nz(s.engineHash())))
        .setOutputHash(nz(s.outputHash()));
    if (s.seed() != null) {
      r.setHasSeed(true).setSeed(s.seed());
    }
    for (StepSummary st : s.steps()) {
      r.addSteps(dev.lockstep.proto.lite.v1.StepSummary.newBuilder().setIndex(st.index()).setName(nz(st.name()))
          .setKind(nz(st.kind())).setExternal(st.external()).setCanonicalHash(nz(st.canonicalHash()))
          .setEngineHash(ReportLimits.engineHash(nz(st.engineHash()))).setRngHash(nz(st.rngHash())).setResponseHash(nz(st.responseHash())));
    }
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  private static long wallNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /**
   * Expands a directory pattern whose segments may hold glob characters. A configured directory
   * that does not exist, and a parent that cannot be listed, are put in {@code problems} (when
   * given) under the pattern.
   */
  static List<Path> expand(String pattern, Map<String, String> problems) {
    Path p = Path.of(pattern);
    if (!hasGlob(pattern)) {
      if (Files.isDirectory(p)) {
        return List.of(p.toAbsolutePath());
      }
      if (problems != null) {
        problems.put(pattern, Files.exists(p) ? "not a directory" : "does not exist");
      }
      return List.of();
    }
    Path root = p.isAbsolute() ? p.getRoot() : Path.of("").toAbsolutePath();
    List<Path> current = List.of(root);
    for (Path seg : p) {
      String s = seg.toString();
      List<Path> next = new ArrayList<>();
      for (Path base : current) {
        if (!hasGlob(s)) {
          Path c = base.resolve(s);
          if (Files.isDirectory(c)) {
            next.add(c);
          }
          continue;
        }
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + s);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(base)) {
          for (Path c : ds) {
            if (m.matches(c.getFileName()) && Files.isDirectory(c)) {
              next.add(c);
            }
          }
        } catch (IOException e) {
          if (problems != null) {
            problems.put(pattern, "cannot list " + base + ": " + e.getClass().getSimpleName()
                + (e.getMessage() == null ? "" : " " + e.getMessage()));
          }
        }
      }
      current = next;
    }
    return current;
  }

  static boolean hasGlob(String s) {
    return s.indexOf('*') >= 0 || s.indexOf('?') >= 0 || s.indexOf('[') >= 0 || s.indexOf('{') >= 0;
  }

  @Override
  public void close() throws IOException {
    if (watchService != null) {
      watchService.close();
    }
    marks.save(true);
  }
}
