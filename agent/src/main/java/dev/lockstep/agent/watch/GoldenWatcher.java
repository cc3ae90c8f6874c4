package dev.lockstep.agent.watch;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.internal.ProtoTime;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.agent.spool.Spool;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.GoldenParseException;
import dev.lockstep.golden.RunSummary;
import dev.lockstep.golden.StepSummary;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.GoldenError;
import dev.lockstep.proto.v1.GoldenReport;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Finds complete golden files in the watched directories (inotify WatchService plus a periodic
 * rescan, which also re-registers directories that were deleted and recreated), parses each with
 * the golden library and spools a GoldenReport. A file is read once as soon as it is seen: a
 * golden file is one JSON object, so a file renamed into place parses whole at once, while a
 * half-written one cannot (its prefix is never a complete object) and is left alone. Otherwise a
 * file counts as complete when its size and mtime stayed unchanged for the settle time; a file
 * that then fails to parse is only reported as
 * malformed once it stayed unchanged for the malformed grace too (a slow writer may still append).
 * Invariant: a file is recorded as reported only after its event is durable in the spool, so a
 * full spool or a crash never loses one.
 */
public final class GoldenWatcher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(GoldenWatcher.class.getName());
  private static final int MAX_BATCH = 200;

  private static final class Candidate {
    long size = -1;
    long mtime = -1;
    long stableSinceNanos;
    long retryAtNanos;
    /** The one look taken on first sight, before the settle time (see the class comment). */
    boolean earlyLookTaken;
    boolean earlyLookNow;
  }

  private final AgentConfig.GoldenWatch config;
  private final GoldenConfig goldenConfig;
  private final Spool spool;
  private final AgentMetrics metrics;
  private final Clock clock;
  private final SeenFiles seen;
  private final PathMatcher fileMatcher;
  private final WatchService watchService;
  private final Map<Path, WatchKey> keys = new HashMap<>();
  private final Map<Path, Candidate> candidates = new LinkedHashMap<>();
  private final Thread thread;
  private volatile boolean closed;
  private volatile long rescanRequested;

  public GoldenWatcher(AgentConfig.GoldenWatch config, GoldenConfig goldenConfig, Path stateDir, Spool spool,
      AgentMetrics metrics, Clock clock) throws IOException {
    this.config = config;
    this.goldenConfig = goldenConfig;
    this.spool = spool;
    this.metrics = metrics;
    this.clock = clock;
    this.seen = new SeenFiles(stateDir);
    this.fileMatcher = FileSystems.getDefault().getPathMatcher("glob:" + config.fileGlob());
    this.watchService = FileSystems.getDefault().newWatchService();
    // events spooled but maybe not yet recorded before a crash count as reported
    spool.forEachRetained(e -> {
      if (e.hasGolden()) {
        GoldenReport g = e.getGolden();
        seen.adopt(new SeenFiles.Entry(Path.of(g.getPath()), g.getSizeBytes(),
            ProtoTime.toInstant(g.getModifiedAt()).toEpochMilli(), g.getRunId()));
      }
    });
    this.thread = new Thread(this::run, "lockstep-golden-watch");
    this.thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  /** Golden files this agent reported for a run (any role), as far as they still exist. */
  public List<Path> filesOfRun(String runId) {
    List<Path> out = new ArrayList<>();
    for (Path p : seen.filesOfRun(runId)) {
      if (Files.exists(p)) {
        out.add(p);
      }
    }
    return out;
  }

  /** The run id a reported file belongs to, or null. */
  public String runIdOf(Path file) {
    return seen.runIdOf(file);
  }

  /** Retention removed a file: stop remembering it. */
  public void forget(Path file) {
    try {
      seen.forget(file);
    } catch (IOException e) {
      metrics.errors.labelValues("golden").inc();
    }
  }

  /** The directories currently matching the configured dirs (globs expanded). */
  public List<Path> directories() {
    List<Path> out = new ArrayList<>();
    for (String d : config.dirs()) {
      out.addAll(expand(d));
    }
    return out;
  }

  /** Whether a file name is one this watcher reads. */
  public boolean isGoldenFile(Path file) {
    Path name = file.getFileName();
    return name != null && !name.toString().startsWith(".") && fileMatcher.matches(name);
  }

  private void run() {
    long nextRescan = 0;
    long tickNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(20, Math.min(250, config.settle().toMillis() / 4)));
    long nextCheck = System.nanoTime();
    while (!closed) {
      try {
        long now = System.nanoTime();
        if (now - nextRescan >= 0 || rescanRequested != 0) {
          rescanRequested = 0;
          rescan();
          nextRescan = System.nanoTime() + config.rescanInterval().toNanos();
        }
        // events only register candidates; candidates are examined once per tick, so a burst of
        // thousands of files costs a few stats per file, not one per event
        long wait = Math.max(1, nextCheck - System.nanoTime());
        WatchKey key = watchService.poll(wait, TimeUnit.NANOSECONDS);
        while (key != null) {
          drain(key);
          key = watchService.poll();
        }
        if (System.nanoTime() - nextCheck >= 0) {
          checkCandidates();
          nextCheck = System.nanoTime() + tickNanos;
        }
      } catch (ClosedWatchServiceException | InterruptedException e) {
        return;
      } catch (IOException | RuntimeException e) {
        metrics.errors.labelValues("golden").inc();
        LOG.log(System.Logger.Level.ERROR, "golden watcher: " + e);
        try {
          Thread.sleep(TimeUnit.NANOSECONDS.toMillis(tickNanos));
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  private void drain(WatchKey key) {
    Path dir = (Path) key.watchable();
    for (WatchEvent<?> ev : key.pollEvents()) {
      if (ev.kind() == OVERFLOW) {
        rescanRequested = 1;
        continue;
      }
      Path f = dir.resolve((Path) ev.context());
      if (isGoldenFile(f)) {
        candidates.computeIfAbsent(f, k -> new Candidate());
      }
    }
    if (!key.reset()) {
      // the directory is gone; the rescan re-registers it when it comes back
      keys.remove(dir);
      rescanRequested = 1;
    }
  }

  private void rescan() throws IOException {
    Set<Path> live = new HashSet<>();
    for (Path dir : directories()) {
      live.add(dir);
      WatchKey k = keys.get(dir);
      if (k == null || !k.isValid()) {
        try {
          keys.put(dir, dir.register(watchService, ENTRY_CREATE, ENTRY_MODIFY));
        } catch (NoSuchFileException e) {
          continue;
        }
      }
      Set<Path> present = new HashSet<>();
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
        for (Path f : ds) {
          if (!isGoldenFile(f)) {
            continue;
          }
          present.add(f);
          // a file already reported is not stat'ed again by the rescan (a rewrite of it still
          // arrives as a MODIFY event); this keeps a rescan of a big directory to one listing
          if (!candidates.containsKey(f) && !seen.contains(f)) {
            try {
              BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
              if (a.isRegularFile() && !seen.isSeen(f, a.size(), a.lastModifiedTime().toMillis())) {
                candidates.put(f, new Candidate());
              }
            } catch (NoSuchFileException e) {
              present.remove(f);
            }
          }
        }
      } catch (NoSuchFileException e) {
        continue;
      }
      for (Path gone : seen.missingUnder(dir, present)) {
        seen.forget(gone);
      }
    }
    for (Iterator<Map.Entry<Path, WatchKey>> it = keys.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Path, WatchKey> e = it.next();
      if (!live.contains(e.getKey())) {
        e.getValue().cancel();
        it.remove();
      }
    }
  }

  private void checkCandidates() throws IOException {
    if (candidates.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    long settle = config.settle().toNanos();
    List<Path> ready = new ArrayList<>();
    for (Iterator<Map.Entry<Path, Candidate>> it = candidates.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Path, Candidate> e = it.next();
      Candidate c = e.getValue();
      boolean early = !c.earlyLookTaken;
      if (!early && c.size >= 0 && (now - c.stableSinceNanos < settle || now - c.retryAtNanos < 0)) {
        continue; // look again when its settle time (or retry time) is over
      }
      BasicFileAttributes a;
      try {
        a = Files.readAttributes(e.getKey(), BasicFileAttributes.class);
      } catch (NoSuchFileException ex) {
        it.remove();
        continue;
      }
      long mtime = a.lastModifiedTime().toMillis();
      if (!a.isRegularFile() || seen.isSeen(e.getKey(), a.size(), mtime)) {
        it.remove();
        continue;
      }
      if (a.size() != c.size || mtime != c.mtime) {
        c.size = a.size();
        c.mtime = mtime;
        c.stableSinceNanos = now;
        c.retryAtNanos = 0;
        if (!early || a.size() == 0) {
          continue;
        }
      }
      if (early && a.size() > 0 && ready.size() < MAX_BATCH) {
        c.earlyLookTaken = true;
        c.earlyLookNow = now - c.stableSinceNanos < settle;
        ready.add(e.getKey());
        continue;
      }
      if (now - c.stableSinceNanos >= settle && now - c.retryAtNanos >= 0 && ready.size() < MAX_BATCH) {
        ready.add(e.getKey());
      }
    }
    if (ready.isEmpty()) {
      return;
    }
    List<Event> events = new ArrayList<>(ready.size());
    List<SeenFiles.Entry> entries = new ArrayList<>(ready.size());
    long grace = config.malformedGrace().toNanos();
    for (Path p : ready) {
      Candidate c = candidates.get(p);
      GoldenReport.Builder r = GoldenReport.newBuilder().setPath(p.toAbsolutePath().toString())
          .setSizeBytes(c.size).setModifiedAt(ProtoTime.of(Instant.ofEpochMilli(c.mtime)));
      String runId = "";
      try {
        RunSummary s = Golden.read(p, goldenConfig).summary();
        if (nz(s.role()).isBlank()) {
          // the collector refuses a report without a role (docs/protocol.md): send it as bad
          throw new GoldenParseException(p.toString(), 0, 0, GoldenParseException.Code.MISSING_FIELD,
              "no role: neither \"" + goldenConfig.mapping().role() + "\" in the document nor a"
                  + " role in the file name (<run>.<role>.golden.json)");
        }
        fill(r, s);
        runId = nz(s.runId());
      } catch (GoldenParseException ex) {
        if (c.earlyLookNow) {
          // not complete yet (or not settled): the settle time decides from here on
          c.earlyLookNow = false;
          continue;
        }
        if (now - c.stableSinceNanos < grace) {
          // maybe still being written; look again when it changes or the grace is over
          c.retryAtNanos = c.stableSinceNanos + grace;
          continue;
        }
        r.setError(GoldenError.newBuilder().setPath(r.getPath()).setLine(ex.line()).setColumn(ex.column())
            .setCode(ex.code().name()).setMessage(nz(ex.getMessage())));
      } catch (RuntimeException ex) {
        metrics.errors.labelValues("golden").inc();
        r.setError(GoldenError.newBuilder().setPath(r.getPath()).setCode("INTERNAL")
            .setMessage(r.getPath() + ": golden library failed: " + ex));
      }
      events.add(Event.newBuilder().setObservedAt(ProtoTime.of(clock.instant())).setGolden(r).build());
      entries.add(new SeenFiles.Entry(p, c.size, c.mtime, runId));
    }
    if (events.isEmpty()) {
      return;
    }
    Spool.Appended a = spool.append(events);
    if (!a.accepted()) {
      // spool full: keep them as candidates and try again later
      for (Path p : ready) {
        Candidate c = candidates.get(p);
        if (c != null) {
          c.retryAtNanos = now + TimeUnit.SECONDS.toNanos(1);
        }
      }
      return;
    }
    seen.recordAll(entries);
    for (int i = 0; i < entries.size(); i++) {
      candidates.remove(entries.get(i).path());
      metrics.goldenFiles.labelValues(events.get(i).getGolden().hasError() ? "malformed" : "ok").inc();
    }
  }

  private static void fill(GoldenReport.Builder r, RunSummary s) {
    r.setRunId(nz(s.runId())).setWorkflow(nz(s.workflow())).setRole(nz(s.role()))
        .setCanonicalHash(nz(s.canonicalHash())).setEngineHash(nz(s.engineHash())).setOutputHash(nz(s.outputHash()));
    if (s.seed() != null) {
      r.setHasSeed(true).setSeed(s.seed());
    }
    for (StepSummary st : s.steps()) {
      r.addSteps(dev.lockstep.proto.v1.StepSummary.newBuilder().setIndex(st.index()).setName(nz(st.name()))
          .setKind(nz(st.kind())).setExternal(st.external()).setCanonicalHash(nz(st.canonicalHash()))
          .setEngineHash(nz(st.engineHash())).setRngHash(nz(st.rngHash())).setResponseHash(nz(st.responseHash())));
    }
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  /** Expands a directory pattern whose segments may hold glob characters. */
  static List<Path> expand(String pattern) {
    Path p = Path.of(pattern);
    if (!hasGlob(pattern)) {
      return Files.isDirectory(p) ? List.of(p.toAbsolutePath()) : List.of();
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
          // unreadable or vanished: nothing there
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
    closed = true;
    watchService.close();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    seen.close();
  }
}
