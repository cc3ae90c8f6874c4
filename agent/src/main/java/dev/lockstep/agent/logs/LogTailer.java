package dev.lockstep.agent.logs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.internal.AtomicFiles;
import dev.lockstep.agent.internal.ProtoTime;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.agent.spool.Spool;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.LogMatch;
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
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tails the watched logs and spools a LogMatch for every line that matches a rule, with up to 5
 * lines of context and the nearest run id. Survives rename rotation (the old file is read to its
 * end before the new one is opened) and copytruncate (a truncation is detected by size or by the
 * head of the file changing; the rest of the old content is read from the rotated copy). Offsets
 * move only past complete lines and only after the matches are durable in the spool; they are
 * persisted in the state dir, so a restart neither loses nor repeats a line.
 *
 * <p>Not thread-safe: {@link #poll()} runs on one scheduler thread; {@link #stats} is safe.
 */
public final class LogTailer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(LogTailer.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int HEAD_BYTES = 64;
  private static final int MAX_LINE = 64 * 1024;
  private static final int MAX_READ_PER_POLL = 1 << 20;
  private static final int CONTEXT_LINES = 5;
  private static final int MAX_EVENTS_PER_POLL = 500;

  private record Rule(AgentConfig.LogRule config, Pattern pattern, LogMatch.Kind kind) {}

  private final class Watch {
    final AgentConfig.LogWatch config;
    final List<Rule> rules = new ArrayList<>();
    final Pattern runId;
    final LogStats stats = new LogStats();

    Watch(AgentConfig.LogWatch config) {
      this.config = config;
      for (AgentConfig.LogRule r : config.rules()) {
        rules.add(new Rule(r, Pattern.compile(r.regex()), LogMatch.Kind.valueOf(r.kind().name())));
      }
      this.runId = Pattern.compile(config.runIdRegex());
    }
  }

  private static final class FileState {
    final Path path;
    String fileKey;
    long offset;
    long lineNumber;
    byte[] head = new byte[0];
    String runId = "";
    FileChannel channel;
    final ArrayDeque<String> context = new ArrayDeque<>();

    FileState(Path path) {
      this.path = path;
    }
  }

  private final List<Watch> watches = new ArrayList<>();
  private final Map<Path, FileState> files = new HashMap<>();
  private final Map<Path, JsonNode> restored = new HashMap<>();
  private final Path stateFile;
  private final Spool spool;
  private final AgentMetrics metrics;
  private final Clock clock;
  private boolean dirty;

  public LogTailer(List<AgentConfig.LogWatch> logs, Path stateDir, Spool spool, AgentMetrics metrics, Clock clock)
      throws IOException {
    this.stateFile = stateDir.resolve("log-offsets.json");
    this.spool = spool;
    this.metrics = metrics;
    this.clock = clock;
    for (AgentConfig.LogWatch l : logs) {
      watches.add(new Watch(l));
    }
    if (Files.exists(stateFile)) {
      JsonNode root = JSON.readTree(Files.readAllBytes(stateFile));
      root.path("files").properties().forEach(e -> restored.put(Path.of(e.getKey()), e.getValue()));
      for (Watch w : watches) {
        JsonNode s = root.path("stats").path(w.config.path());
        w.stats.restore(s.path("cycles").asLong(), s.path("clean_cycles").asLong());
      }
    }
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

  /** Files currently matching a configured log path (glob in the file name allowed). */
  public static List<Path> expand(String pattern) {
    Path p = Path.of(pattern).toAbsolutePath();
    String name = p.getFileName().toString();
    if (name.indexOf('*') < 0 && name.indexOf('?') < 0 && name.indexOf('[') < 0 && name.indexOf('{') < 0) {
      return Files.isRegularFile(p) ? List.of(p) : List.of();
    }
    List<Path> out = new ArrayList<>();
    PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + name);
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(p.getParent())) {
      for (Path c : ds) {
        if (m.matches(c.getFileName()) && Files.isRegularFile(c)) {
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

  /** Reads what was appended since the last poll. Never throws. */
  public void poll() {
    for (Watch w : watches) {
      for (Path p : expand(w.config.path())) {
        try {
          pollFile(w, p);
        } catch (IOException | RuntimeException e) {
          metrics.errors.labelValues("logs").inc();
          LOG.log(System.Logger.Level.WARNING, "log tailer: " + p + ": " + e);
        }
      }
    }
    if (dirty) {
      try {
        save();
        dirty = false;
      } catch (IOException e) {
        metrics.errors.labelValues("logs").inc();
      }
    }
  }

  private static String fileKey(Path p) throws IOException {
    Object k = Files.readAttributes(p, BasicFileAttributes.class).fileKey();
    return k == null ? "" : k.toString();
  }

  private void pollFile(Watch w, Path p) throws IOException {
    FileState st = files.get(p);
    if (st == null) {
      st = new FileState(p);
      files.put(p, st);
      JsonNode saved = restored.remove(p);
      String key = fileKey(p);
      if (saved != null) {
        String savedKey = saved.path("file_key").asText();
        st.offset = saved.path("offset").asLong();
        st.lineNumber = saved.path("line").asLong();
        st.head = Base64.getDecoder().decode(saved.path("head").asText(""));
        st.runId = saved.path("run_id").asText("");
        if (!savedKey.equals(key)) {
          // rotated while we were down: finish the old file from its rotated name
          Path old = findByKey(w, p, savedKey);
          if (old != null) {
            st.fileKey = savedKey;
            st.channel = FileChannel.open(old, StandardOpenOption.READ);
            if (!readAvailable(w, st)) {
              return;
            }
            st.channel.close();
          }
          reset(st);
        }
      }
      st.fileKey = key;
      st.channel = FileChannel.open(p, StandardOpenOption.READ);
      dirty = true;
    }
    // 1. copytruncate: the open file is shorter than our offset or its head changed. Salvage the
    //    rest of the old content from the rotated copy, then start the file over.
    long size = st.channel.size();
    if (size < st.offset || !headMatches(st.channel, st.head)) {
      Path copy = findCopy(w, p, st);
      if (copy != null) {
        try (FileChannel c = FileChannel.open(copy, StandardOpenOption.READ)) {
          FileChannel live = st.channel;
          st.channel = c;
          boolean ok;
          try {
            ok = readAvailable(w, st);
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
    if (!readAvailable(w, st)) {
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
      st.channel = FileChannel.open(p, StandardOpenOption.READ);
      dirty = true;
      readAvailable(w, st);
    }
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
      if (!Files.isRegularFile(c)) {
        continue;
      }
      try (FileChannel ch = FileChannel.open(c, StandardOpenOption.READ)) {
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

  /**
   * Reads complete lines from st.channel at st.offset, spools matches, advances. Returns false if
   * the spool refused (nothing advanced; try again later).
   */
  private boolean readAvailable(Watch w, FileState st) throws IOException {
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
      byte[] data = Arrays.copyOf(buf.array(), buf.position());
      if (st.head.length < HEAD_BYTES) {
        ByteBuffer h = ByteBuffer.allocate((int) Math.min(HEAD_BYTES, size));
        while (h.hasRemaining() && st.channel.read(h, h.position()) >= 0) {
          // fill
        }
        st.head = Arrays.copyOf(h.array(), h.position());
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
      for (int i = 0; i < data.length; i++) {
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
        Matcher rm = w.runId.matcher(line);
        if (rm.find() && rm.groupCount() >= 1 && rm.group(1) != null) {
          runId = rm.group(1);
        }
        for (Rule r : w.rules) {
          Matcher m = r.pattern.matcher(line);
          if (!m.find()) {
            continue;
          }
          LogMatch.Builder lm = LogMatch.newBuilder().setPath(st.path.toString()).setRule(r.config.name())
              .setKind(r.kind).setLineNumber(lineNumber).setLine(line).addAllContext(context).setRunId(runId);
          for (int g = 1; g <= m.groupCount(); g++) {
            lm.addCaptures(m.group(g) == null ? "" : m.group(g));
          }
          if (r.config.countGroup() > 0 && m.group(r.config.countGroup()) != null) {
            try {
              lm.setCount(Long.parseLong(m.group(r.config.countGroup())));
            } catch (NumberFormatException e) {
              // not a number: no count
            }
          }
          events.add(Event.newBuilder().setObservedAt(ProtoTime.of(clock.instant())).setLogMatch(lm).build());
          switch (r.kind) {
            case CYCLE -> statCycles++;
            case CLEAN_CYCLE -> statClean++;
            case ERROR, MISMATCH_COUNT -> errors.add(line);
            default -> { }
          }
          break;
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
    }
    return true;
  }

  private void save() throws IOException {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode f = root.putObject("files");
    for (FileState st : files.values()) {
      ObjectNode n = f.putObject(st.path.toString());
      n.put("file_key", st.fileKey);
      n.put("offset", st.offset);
      n.put("line", st.lineNumber);
      n.put("head", Base64.getEncoder().encodeToString(st.head));
      n.put("run_id", st.runId);
    }
    for (Map.Entry<Path, JsonNode> e : restored.entrySet()) {
      f.set(e.getKey().toString(), e.getValue());
    }
    ObjectNode s = root.putObject("stats");
    for (Watch w : watches) {
      ObjectNode n = s.putObject(w.config.path());
      n.put("cycles", w.stats.cycles());
      n.put("clean_cycles", w.stats.cleanCycles());
    }
    AtomicFiles.write(stateFile, JSON.writeValueAsBytes(root));
  }

  /** The last {@code lines} lines of a file, reading at most maxBytes from its end. */
  public static byte[] tail(Path file, int lines, long maxBytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
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
    for (Iterator<FileState> it = files.values().iterator(); it.hasNext(); ) {
      FileState st = it.next();
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
