package dev.lockstep.agent.watch;

import dev.lockstep.agent.internal.AtomicFiles;
import dev.lockstep.agent.internal.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Which golden files are reported, per directory, in constant space: a watermark {@code through}
 * on the files' ctime (every file whose ctime is below it was reported) plus the few files
 * reported above it (name and ctime). A file changed after it was reported (rewritten, renamed
 * in, copied in with an old mtime) has a new ctime, so it is reported again. ctime rather than
 * mtime: it cannot be set back (touch, cp -p, tar and rsync set mtime, not ctime).
 *
 * <p>Kept in {@code state_dir/golden-watermarks.json}, replaced at most once a second (each
 * replacement is a file creation and a rename: at 100 files/s, one per batch measured ~0.3 % of a
 * core) and fsync'd at most every few seconds; at close it is written and fsync'd. What a kill -9 or
 * a power cut loses is found again in the spool at start-up, and a file reported twice is an exact
 * repeat the collector drops. Used on the watcher's thread only.
 */
final class Watermarks {
  private static final System.Logger LOG = System.getLogger(Watermarks.class.getName());
  private static final long SYNC_EVERY_NANOS = 5_000_000_000L;
  private static final long REPLACE_EVERY_NANOS = 1_000_000_000L;

  /** One directory's watermark. */
  static final class Mark {
    /** Files with a ctime (ns since the epoch) below this are reported. */
    long through = Long.MIN_VALUE;
    /** The newest ctime seen in the directory. */
    long maxCtime = Long.MIN_VALUE;
    /** Files reported with a ctime at or above {@link #through}. */
    final Map<String, Long> recent = new HashMap<>();
  }

  private final Path file;
  private final boolean existed;
  private final Map<String, Mark> dirs = new HashMap<>();
  private boolean dirty;
  private long lastSyncNanos;
  private long lastReplaceNanos = System.nanoTime() - REPLACE_EVERY_NANOS;

  Watermarks(Path stateDir) throws IOException {
    this.file = stateDir.resolve("golden-watermarks.json");
    this.existed = Files.exists(file);
    if (existed) {
      Object root;
      try {
        root = Json.parse(Files.readAllBytes(file));
      } catch (IOException e) {
        // not torn (it is replaced by rename), so the disk lost it: report everything again
        LOG.log(System.Logger.Level.ERROR, "golden watcher: " + file + " is unreadable (" + e.getMessage()
            + "); golden files still there are reported again (the collector drops exact repeats)");
        root = Map.of();
      }
      for (Map.Entry<String, Object> d : Json.map(root, "dirs").entrySet()) {
        Mark m = new Mark();
        m.through = Json.number(d.getValue(), "through", Long.MIN_VALUE);
        m.maxCtime = Json.number(d.getValue(), "max_ctime", Long.MIN_VALUE);
        Json.map(d.getValue(), "recent").forEach((name, ctime) -> m.recent.put(name, ((Number) ctime).longValue()));
        dirs.put(d.getKey(), m);
      }
    }
  }

  /** Whether the agent ran with this state dir before (false on its first start). */
  boolean existed() {
    return existed;
  }

  /** The mark of a directory, or null if it has none yet. */
  Mark get(String dir) {
    return dirs.get(dir);
  }

  Mark create(String dir) {
    dirty = true;
    return dirs.computeIfAbsent(dir, k -> new Mark());
  }

  /** The directory is gone: forget it (a directory made again under the name is new). */
  void drop(String dir) {
    dirty |= dirs.remove(dir) != null;
  }

  static boolean seen(Mark m, String name, long ctime) {
    if (ctime < m.through) {
      return true;
    }
    Long r = m.recent.get(name);
    return r != null && r == ctime;
  }

  void observe(Mark m, long ctime) {
    if (ctime > m.maxCtime) {
      m.maxCtime = ctime;
      dirty = true;
    }
  }

  void reported(Mark m, String name, long ctime) {
    observe(m, ctime);
    if (ctime >= m.through) {
      m.recent.put(name, ctime);
    }
    dirty = true;
  }

  /** Every file with a ctime below {@code bound} is reported: move the watermark up to it. */
  void advance(Mark m, long bound) {
    if (bound > m.through) {
      m.through = bound;
      m.recent.values().removeIf(c -> c < bound);
      dirty = true;
    }
  }

  /** Everything already there counts as reported (start_at: end on a first start). */
  void skipTo(Mark m, long maxCtime, Iterable<String> namesAtMax) {
    m.through = maxCtime;
    m.maxCtime = Math.max(m.maxCtime, maxCtime);
    m.recent.clear();
    for (String n : namesAtMax) {
      m.recent.put(n, maxCtime);
    }
    dirty = true;
  }

  int recentCount() {
    int n = 0;
    for (Mark m : dirs.values()) {
      n += m.recent.size();
    }
    return n;
  }

  /**
   * Writes the marks if they changed: when {@code durable} (fsync'd), otherwise at most once a
   * second (fsync'd every few seconds); a change not written yet is written by a later call.
   */
  void save(boolean durable) throws IOException {
    long now = System.nanoTime();
    if (!dirty || (!durable && now - lastReplaceNanos < REPLACE_EVERY_NANOS)) {
      return;
    }
    byte[] json = Json.compact(g -> {
      g.writeStartObject();
      g.writeNumberField("version", 1);
      g.writeObjectFieldStart("dirs");
      for (Map.Entry<String, Mark> d : dirs.entrySet()) {
        Mark m = d.getValue();
        g.writeObjectFieldStart(d.getKey());
        g.writeNumberField("through", m.through);
        g.writeNumberField("max_ctime", m.maxCtime);
        g.writeObjectFieldStart("recent");
        for (Map.Entry<String, Long> r : m.recent.entrySet()) {
          g.writeNumberField(r.getKey(), r.getValue());
        }
        g.writeEndObject();
        g.writeEndObject();
      }
      g.writeEndObject();
      g.writeEndObject();
    });
    if (durable || now - lastSyncNanos > SYNC_EVERY_NANOS) {
      AtomicFiles.write(file, json);
      lastSyncNanos = now;
    } else {
      AtomicFiles.replace(file, json);
    }
    lastReplaceNanos = now;
    dirty = false;
  }
}
