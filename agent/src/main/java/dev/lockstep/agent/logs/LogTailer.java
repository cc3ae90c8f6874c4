package dev.lockstep.agent.logs;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.internal.AtomicFiles;
import dev.lockstep.agent.internal.CrashPoint;
import dev.lockstep.agent.internal.Json;
import dev.lockstep.agent.internal.ProtoTime;
import dev.lockstep.agent.internal.RegularFiles;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.agent.spool.Spool;
import dev.lockstep.proto.lite.v1.AgentNotice;
import dev.lockstep.proto.lite.v1.Event;
import dev.lockstep.proto.lite.v1.LogMatch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Tails the watched logs and spools a LogMatch for every line that matches a rule, with up to 5
 * lines of context and the nearest run id. Survives rename rotation (the old file is read to its
 * end before the new one is opened) and copytruncate (a truncation is detected by size or by the
 * head of the file changing; the rest of the old content is read from the rotated copy).
 *
 * <p>Offsets move only past complete lines and only after the matches are durable in the spool;
 * they are saved (with the spool's seq) right after each append, and at start-up the matches the
 * spool holds above that seq are not spooled again, so a kill -9 between the two neither loses
 * nor repeats a line. A file that no longer matches its pattern is read to its end, closed and
 * forgotten (its disk space is freed). On the first start of a watch, files already there are
 * read from their end ({@code start_at: end}, the default) or from their beginning.
 *
 * <p>Errors are per file: a file that cannot be read is reported once (SOURCE_FAILED) and retried
 * with backoff while the others are tailed. Not thread-safe: {@link #poll()} runs on one thread;
 * {@link #stats} and {@link #problem} are safe.
 */
public final class LogTailer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(LogTailer.class.getName());
  private static final int HEAD_BYTES = 64;
  private static final int MAX_LINE = 64 * 1024;
  private static final int MAX_READ_PER_POLL = 1 << 20;
  private static final int CONTEXT_LINES = 5;
  private static final int MAX_EVENTS_PER_POLL = 500;
  private static final long MAX_BACKOFF_NANOS = 60_000_000_000L;

  private final class Watch {
    final AgentConfig.LogWatch config;
    final LineRules rules;
    final LogStats stats = new LogStats();
    boolean started;
    // start_at end on a first start: the files there at start-up, as they were then
    final Map<Path, StartPoint> atStart = new HashMap<>();

    Watch(AgentConfig.LogWatch config) {
      this.config = config;
      this.rules = new LineRules(config, (rule, length, what) -> overflowed(config.path(), rule, length, what));
    }
  }

  private static final class FileState {
    final Path path;
    final Watch watch;
    String fileKey;
    long offset;
    long lineNumber;
    byte[] head = new byte[0];
    String runId = "";
    FileChannel channel;
    final ArrayDeque<String> context = new ArrayDeque<>();

    FileState(Path path, Watch watch) {
      this.path = path;
      this.watch = watch;
    }
  }

  private record StartPoint(String fileKey, long size) {}

  private static final class Failure {
    final Watch watch;
    int count;
    long retryAtNanos;
    String reason;

    Failure(Watch watch) {
      this.watch = watch;
    }
  }

  private final List<Watch> watches = new ArrayList<>();
  private final Map<Path, FileState> files = new LinkedHashMap<>();
  private final Map<Path, Object> restored = new HashMap<>();
  private final Map<Path, Failure> failures = new HashMap<>();
  private final Set<String> overflowNoticed = new HashSet<>();
  // matches spooled before a crash that the saved offsets do not cover yet: path, line number, text
  private final Set<String> spooledAfterSave = new HashSet<>();
  private final Path stateFile;
  private final Spool spool;
  private final AgentMetrics metrics;
  private final Clock clock;
  private final Consumer<AgentNotice> notices;
  private long savedSpoolSeq;
  private long spoolSeq;
  private boolean dirty;
  private boolean firstPollDone;
  private volatile String problem;

  public LogTailer(List<AgentConfig.LogWatch> logs, Path stateDir, Spool spool, AgentMetrics metrics, Clock clock,
      Consumer<AgentNotice> notices) throws IOException {
    this.stateFile = stateDir.resolve("log-offsets.json");
    this.spool = spool;
    this.metrics = metrics;
    this.clock = clock;
    this.notices = notices;
    for (AgentConfig.LogWatch l : logs) {
      watches.add(new Watch(l));
    }
    Object root = null;
    if (Files.exists(stateFile)) {
      try {
        root = Json.parse(Files.readAllBytes(stateFile));
      } catch (IOException e) {
        LOG.log(System.Logger.Level.ERROR, "log tailer: " + stateFile + " is unreadable (" + e.getMessage()
            + "); logs are read from the start of their files");
        root = Map.of();
      }
    }
    if (root != null) {
      Json.map(root, "files").forEach((k, v) -> restored.put(Path.of(k), v));
      savedSpoolSeq = Json.number(root, "spool_seq", 0);
      // a state file from before start_at existed: every watch in it has started
      boolean legacy = !Json.has(root, "watches");
      List<Object> started = Json.list(root, "watches");
      for (Watch w : watches) {
        Map<String, Object> s = Json.map(Json.map(root, "stats"), w.config.path());
        w.stats.restore(Json.number(s, "cycles", 0), Json.number(s, "clean_cycles", 0));
        w.started = legacy || started.contains(w.config.path());
      }
    }
    spoolSeq = savedSpoolSeq;
    for (Watch w : watches) {
      if (!w.started && w.config.startAt() == AgentConfig.StartAt.END) {
        for (Path p : expand(w.config.path())) {
          try {
            w.atStart.put(p, new StartPoint(fileKey(p), Files.size(p)));
          } catch (IOException e) {
            // gone again: nothing to skip
          }
        }
      }
    }
  }

  /**
   * A retained spool event at start-up: a match spooled after the offsets were last saved is
   * already delivered (or will be) and must not be spooled again when its line is read again.
   */
  public void adopt(Event e) {
    if (e.hasLogMatch() && e.getSeq() > savedSpoolSeq) {
      LogMatch m = e.getLogMatch();
      spooledAfterSave.add(matchKey(m.getPath(), m.getLineNumber(), m.getLine()));
    }
  }

  private static String matchKey(String path, long lineNumber, String line) {
    return path + "\u0000" + lineNumber + "\u0000" + line;
  }

  /** Cycle counts and recent lines of a watched log (path or glob as configured), or null. */
  public LogStats stats(String logPattern) {
    for (Watch w : watches) {
      if (w.config.path().equals(logPattern)) {
        return w.stats;
      }
    }
    return null;
  }

  /** Why tailing is degraded right now (files that cannot be read), or null. */
  public String problem() {
    return problem;
  }

  /** Files currently matching a configured log path (glob in the file name allowed). */
  public static List<Path> expand(String pattern) {
    Path p = Path.of(pattern).toAbsolutePath();
    String name = p.getFileName().toString();
    if (name.indexOf('*') < 0 && name.indexOf('?') < 0 && name.indexOf('[') < 0 && name.indexOf('{') < 0) {
      return RegularFiles.isRegular(p) ? List.of(p) : List.of();
    }
    List<Path> out = new ArrayList<>();
    PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + name);
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(p.getParent())) {
      for (Path c : ds) {
        if (m.matches(c.getFileName()) && RegularFiles.isRegular(c)) {
          out.add(c);
        }
      }
    } catch (IOException e) {
      // no directory: no files
    }
    out.sort(null);
    return out;
  }

  /** Every file of every watched log right now. */
  public List<Path> currentFiles() {
    List<Path> out = new ArrayList<>();
    for (Watch w : watches) {
      out.addAll(expand(w.config.path()));
    }
    return out;
  }

  /** Reads what was appended since the last poll. Throws only a java.lang.Error. */
  public void poll() {
    long now = System.nanoTime();
    for (Watch w : watches) {
      Set<Path> current = new HashSet<>();
      for (Path p : expand(w.config.path())) {
        current.add(p);
        Failure f = failures.get(p);
        if (f != null && now - f.retryAtNanos < 0) {
          continue;
        }
        try {
          pollFile(w, p);
          if (f != null) {
            recovered(p, f);
          }
        } catch (IOException | RuntimeException e) {
          failed(w, p, e);
        }
      }
      for (Iterator<FileState> it = files.values().iterator(); it.hasNext(); ) {
        FileState st = it.next();
        if (st.watch == w && !current.contains(st.path)) {
          finishGone(st);
          it.remove();
          dirty = true;
        }
      }
      failures.entrySet().removeIf(e -> e.getValue().watch == w && !current.contains(e.getKey()));
      if (!w.started) {
        w.started = true;
        w.atStart.clear();
        dirty = true;
      }
    }
    if (!firstPollDone) {
      // saved offsets of files that are gone: a file that comes back under the name is new
      firstPollDone = true;
      if (!restored.isEmpty()) {
        restored.clear();
        dirty = true;
      }
    }
    metrics.logFiles.set(files.size());
    problem = failures.isEmpty() ? null : failures.size() + " log file(s) failing: "
        + failures.entrySet().iterator().next().getKey() + ": " + failures.values().iterator().next().reason;
    if (dirty) {
      try {
        save();
      } catch (IOException e) {
        metrics.errors.labelValues("logs").inc();
      }
    }
  }

  private void failed(Watch w, Path p, Exception e) {
    metrics.errors.labelValues("logs").inc();
    Failure f = failures.computeIfAbsent(p, k -> new Failure(w));
    f.count++;
    f.reason = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    long backoff = Math.min(MAX_BACKOFF_NANOS, 1_000_000_000L << Math.min(f.count - 1, 6));
    f.retryAtNanos = System.nanoTime() + backoff;
    if (f.count == 1) {
      LOG.log(System.Logger.Level.WARNING, "log tailer: " + p + ": " + f.reason + " (retried with backoff)");
      notices.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.SOURCE_FAILED)
          .setMessage("log " + p + " cannot be read: " + f.reason + "; retried with backoff, other logs are tailed")
          .setCount(1).build());
    }
  }

  private void recovered(Path p, Failure f) {
    failures.remove(p);
    LOG.log(System.Logger.Level.INFO, "log tailer: " + p + " readable again after " + f.count + " failures");
    notices.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.SOURCE_RECOVERED)
        .setMessage("log " + p + " is read again (after " + f.count + " failed attempts)").setCount(f.count).build());
  }

  private void overflowed(String pattern, String rule, int length, String what) {
    metrics.errors.labelValues("logs").inc();
    if (overflowNoticed.add(pattern + "\u0000" + rule)) {
      String m = "log " + pattern + ": rule " + rule + " " + what + " on a line of " + length
          + " characters; such lines are not matched by it (the other rules still are)";
      LOG.log(System.Logger.Level.ERROR, "log tailer: " + m);
      notices.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.SOURCE_FAILED).setMessage(m).setCount(1).build());
    }
  }

  private static String fileKey(Path p) throws IOException {
    Object k = Files.readAttributes(p, BasicFileAttributes.class).fileKey();
    return k == null ? "" : k.toString();
  }

  private void pollFile(Watch w, Path p) throws IOException {
    FileState st = files.get(p);
    if (st == null) {
      st = open(w, p);
      if (st == null) {
        return;
      }
    }
    // 1. copytruncate: the open file is shorter than our offset or its head changed. Salvage the
    //    rest of the old content from the rotated copy, then start the file over.
    long size = st.channel.size();
    if (size < st.offset || !headMatches(st.channel, st.head)) {
      Path copy = findCopy(w, p, st);
      if (copy != null) {
        try (FileChannel c = RegularFiles.open(copy)) {
          FileChannel live = st.channel;
          st.channel = c;
          boolean ok;
          try {
            ok = readAvailable(st);
          } finally {
            st.channel = live;
          }
          if (!ok) {
            return;
          }
        }
      }
      reset(st);
      dirty = true;
    }
    // 2. whatever the open file (maybe already renamed away) has beyond our offset
    if (!readAvailable(st)) {
      return;
    }
    // 3. rename rotation: a new file under the name; the old one was read to its end above
    String key;
    try {
      key = fileKey(p);
    } catch (NoSuchFileException e) {
      return;
    }
    if (!key.equals(st.fileKey)) {
      st.channel.close();
      reset(st);
      st.fileKey = key;
      st.channel = RegularFiles.open(p);
      dirty = true;
      readAvailable(st);
    }
  }

  /** Opens a file seen for the first time (or again after a restart); null if the spool refused. */
  private FileState open(Watch w, Path p) throws IOException {
    FileState st = new FileState(p, w);
    Object saved = restored.get(p);
    String key = fileKey(p);
    if (saved != null) {
      String savedKey = Json.text(saved, "file_key", "");
      st.offset = Json.number(saved, "offset", 0);
      st.lineNumber = Json.number(saved, "line", 0);
      st.head = Base64.getDecoder().decode(Json.text(saved, "head", ""));
      st.runId = Json.text(saved, "run_id", "");
      if (!savedKey.equals(key)) {
        // rotated while we were down: finish the old file from its rotated name
        Path old = findByKey(w, p, savedKey);
        if (old != null) {
          st.fileKey = savedKey;
          try (FileChannel c = RegularFiles.open(old)) {
            st.channel = c;
            if (!readAvailable(st)) {
              return null;
            }
          }
        }
        reset(st);
      }
    }
    st.fileKey = key;
    st.channel = RegularFiles.open(p);
    StartPoint atStart = w.atStart.get(p);
    if (saved == null && atStart != null && atStart.fileKey().equals(key)) {
      skipHistory(st, atStart.size());
    }
    restored.remove(p);
    files.put(p, st);
    dirty = true;
    return st;
  }

  /** start_at end: begin after the last complete line the file had at start-up. */
  private void skipHistory(FileState st, long sizeAtStart) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    long pos = 0;
    long lastLineEnd = 0;
    long lines = 0;
    while (pos < sizeAtStart) {
      buf.clear().limit((int) Math.min(buf.capacity(), sizeAtStart - pos));
      int n = st.channel.read(buf, pos);
      if (n <= 0) {
        break;
      }
      for (int i = 0; i < n; i++) {
        if (buf.get(i) == '\n') {
          lines++;
          lastLineEnd = pos + i + 1;
        }
      }
      pos += n;
    }
    st.offset = lastLineEnd;
    st.lineNumber = lines;
    st.head = head(st.channel, sizeAtStart);
    LOG.log(System.Logger.Level.INFO, "log tailer: " + st.path + ": first start, " + lines
        + " lines already there are not read (start_at: end)");
  }

  /** Reads a file that left its pattern to its end (rename rotation), then closes it. */
  private void finishGone(FileState st) {
    try {
      readAvailable(st);
    } catch (IOException | RuntimeException e) {
      metrics.errors.labelValues("logs").inc();
    }
    try {
      st.channel.close();
    } catch (IOException e) {
      // closing anyway
    }
    LOG.log(System.Logger.Level.INFO, "log tailer: " + st.path + " is gone: closed");
  }

  private static void reset(FileState st) {
    st.offset = 0;
    st.lineNumber = 0;
    st.head = new byte[0];
    st.context.clear();
  }

  private Path findByKey(Watch w, Path p, String key) {
    for (String suffix : w.config.rotatedSuffixes()) {
      Path c = p.resolveSibling(p.getFileName() + suffix);
      try {
        if (Files.exists(c) && fileKey(c).equals(key)) {
          return c;
        }
      } catch (IOException e) {
        // vanished
      }
    }
    return null;
  }

  private Path findCopy(Watch w, Path p, FileState st) throws IOException {
    for (String suffix : w.config.rotatedSuffixes()) {
      Path c = p.resolveSibling(p.getFileName() + suffix);
      if (!RegularFiles.isRegular(c)) {
        continue;
      }
      try (FileChannel ch = RegularFiles.open(c)) {
        if (ch.size() >= st.offset && headMatches(ch, st.head)) {
          return c;
        }
      }
    }
    return null;
  }

  private static boolean headMatches(FileChannel ch, byte[] head) throws IOException {
    if (head.length == 0) {
      return true;
    }
    ByteBuffer b = ByteBuffer.allocate(head.length);
    while (b.hasRemaining()) {
      if (ch.read(b, b.position()) < 0) {
        return false;
      }
    }
    return Arrays.equals(b.array(), head);
  }

  private static byte[] head(FileChannel ch, long size) throws IOException {
    ByteBuffer h = ByteBuffer.allocate((int) Math.min(HEAD_BYTES, size));
    while (h.hasRemaining() && ch.read(h, h.position()) >= 0) {
      // fill
    }
    return Arrays.copyOf(h.array(), h.position());
  }

  /**
   * Reads complete lines from st.channel at st.offset, spools matches, advances. Returns false if
   * the spool refused (nothing advanced; try again later).
   */
  private boolean readAvailable(FileState st) throws IOException {
    Watch w = st.watch;
    for (int round = 0; round < 64; round++) {
      long size = st.channel.size();
      if (size <= st.offset) {
        return true;
      }
      int want = (int) Math.min(MAX_READ_PER_POLL, size - st.offset);
      ByteBuffer buf = ByteBuffer.allocate(want);
      while (buf.hasRemaining()) {
        if (st.channel.read(buf, st.offset + buf.position()) < 0) {
          break;
        }
      }
      byte[] data = buf.array();
      int length = buf.position();
      if (st.head.length < HEAD_BYTES) {
        st.head = head(st.channel, size);
      }
      // split complete lines
      long lineNumber = st.lineNumber;
      String runId = st.runId;
      ArrayDeque<String> context = new ArrayDeque<>(st.context);
      List<Event> events = new ArrayList<>();
      long statCycles = 0;
      long statClean = 0;
      List<String> recent = new ArrayList<>();
      List<String> errors = new ArrayList<>();
      int start = 0;
      int consumed = 0;
      for (int i = 0; i < length; i++) {
        boolean eol = data[i] == '\n';
        boolean cut = !eol && i - start + 1 >= MAX_LINE;
        if (!eol && !cut) {
          continue;
        }
        int end = eol && i > start && data[i - 1] == '\r' ? i - 1 : i + (cut ? 1 : 0);
        String line = new String(data, start, end - start, StandardCharsets.UTF_8);
        start = i + 1;
        consumed = start;
        lineNumber++;
        String id = w.rules.runId(line);
        if (id != null) {
          runId = id;
        }
        LineRules.Match m = w.rules.first(line);
        if (m != null) {
          switch (m.kind()) {
            case CYCLE -> statCycles++;
            case CLEAN_CYCLE -> statClean++;
            case ERROR, MISMATCH_COUNT -> errors.add(line);
            default -> { }
          }
          if (!spooledAfterSave.remove(matchKey(st.path.toString(), lineNumber, line))) {
            LogMatch.Builder lm = LogMatch.newBuilder().setPath(st.path.toString()).setRule(m.rule().name())
                .setKind(m.kind()).setLineNumber(lineNumber).setLine(line).addAllContext(context).setRunId(runId)
                .addAllCaptures(m.captures());
            if (m.count() >= 0) {
              lm.setCount(m.count());
            }
            events.add(Event.newBuilder().setObservedAt(ProtoTime.of(clock.instant())).setLogMatch(lm).build());
          }
        }
        context.addLast(line);
        if (context.size() > CONTEXT_LINES) {
          context.removeFirst();
        }
        recent.add(line);
        if (events.size() >= MAX_EVENTS_PER_POLL) {
          break;
        }
      }
      if (consumed == 0) {
        return true;
      }
      if (!events.isEmpty()) {
        Spool.Appended a = spool.append(events);
        if (!a.accepted()) {
          return false;
        }
        spoolSeq = a.seqs().get(a.seqs().size() - 1);
        CrashPoint.reach("logs.spooled-before-save");
        for (Event e : events) {
          metrics.logMatches.labelValues(e.getLogMatch().getKind().name()).inc();
        }
      }
      st.offset += consumed;
      st.lineNumber = lineNumber;
      st.runId = runId;
      st.context.clear();
      st.context.addAll(context);
      w.stats.add(statCycles, statClean, recent, errors);
      dirty = true;
      if (!events.isEmpty()) {
        // right after the append: a crash now repeats nothing (see adopt)
        save();
      }
    }
    return true;
  }

  private void save() throws IOException {
    AtomicFiles.write(stateFile, Json.compact(g -> {
      g.writeStartObject();
      g.writeNumberField("version", 2);
      g.writeNumberField("spool_seq", spoolSeq);
      g.writeArrayFieldStart("watches");
      for (Watch w : watches) {
        if (w.started) {
          g.writeString(w.config.path());
        }
      }
      g.writeEndArray();
      g.writeObjectFieldStart("files");
      for (FileState st : files.values()) {
        g.writeObjectFieldStart(st.path.toString());
        g.writeStringField("file_key", st.fileKey);
        g.writeNumberField("offset", st.offset);
        g.writeNumberField("line", st.lineNumber);
        g.writeStringField("head", Base64.getEncoder().encodeToString(st.head));
        g.writeStringField("run_id", st.runId);
        g.writeEndObject();
      }
      for (Map.Entry<Path, Object> e : restored.entrySet()) {
        g.writeFieldName(e.getKey().toString());
        writeValue(g, e.getValue());
      }
      g.writeEndObject();
      g.writeObjectFieldStart("stats");
      for (Watch w : watches) {
        g.writeObjectFieldStart(w.config.path());
        g.writeNumberField("cycles", w.stats.cycles());
        g.writeNumberField("clean_cycles", w.stats.cleanCycles());
        g.writeEndObject();
      }
      g.writeEndObject();
      g.writeEndObject();
    }));
    savedSpoolSeq = spoolSeq;
    dirty = false;
  }

  private static void writeValue(com.fasterxml.jackson.core.JsonGenerator g, Object v) throws IOException {
    if (v instanceof Map<?, ?> m) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        g.writeFieldName(String.valueOf(e.getKey()));
        writeValue(g, e.getValue());
      }
      g.writeEndObject();
    } else if (v instanceof Number n) {
      g.writeNumber(n.longValue());
    } else if (v == null) {
      g.writeNull();
    } else {
      g.writeString(v.toString());
    }
  }

  /** The last {@code lines} lines of a file, reading at most maxBytes from its end. */
  public static byte[] tail(Path file, int lines, long maxBytes) throws IOException {
    try (FileChannel ch = RegularFiles.open(file)) {
      long size = ch.size();
      long from = Math.max(0, size - maxBytes);
      ByteBuffer b = ByteBuffer.allocate((int) (size - from));
      while (b.hasRemaining()) {
        if (ch.read(b, from + b.position()) < 0) {
          break;
        }
      }
      byte[] data = b.array();
      int count = 0;
      int i = data.length - 1;
      if (i >= 0 && data[i] == '\n') {
        i--;
      }
      for (; i >= 0; i--) {
        if (data[i] == '\n' && ++count >= lines) {
          break;
        }
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.write(data, i + 1, data.length - i - 1);
      return out.toByteArray();
    }
  }

  @Override
  public void close() {
    for (FileState st : files.values()) {
      try {
        if (st.channel != null) {
          st.channel.close();
        }
      } catch (IOException e) {
        // closing anyway
      }
    }
    try {
      save();
    } catch (IOException e) {
      // best effort at shutdown
    }
  }
}
