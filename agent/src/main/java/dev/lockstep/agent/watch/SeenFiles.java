package dev.lockstep.agent.watch;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Golden files already reported (path, size, mtime, run id), kept across restarts in an
 * append-only log in the state dir that is compacted at open. A file whose size or mtime changes
 * is reported again.
 */
final class SeenFiles implements AutoCloseable {
  record Entry(Path path, long sizeBytes, long mtimeMillis, String runId) {}

  private final Path file;
  private final Map<Path, Entry> entries = new ConcurrentHashMap<>();
  private final Map<String, List<Path>> byRun = new HashMap<>();
  private static final long SYNC_EVERY_NANOS = 5_000_000_000L;
  private long lastSyncNanos;
  private FileChannel channel;
  private BufferedWriter out;

  SeenFiles(Path stateDir) throws IOException {
    Files.createDirectories(stateDir);
    this.file = stateDir.resolve("golden-seen.log");
    if (Files.exists(file)) {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        String[] f = line.split("\t", 5);
        try {
          if (f.length == 5 && f[0].equals("R")) {
            Path p = Path.of(f[4]);
            entries.put(p, new Entry(p, Long.parseLong(f[1]), Long.parseLong(f[2]), f[3]));
          } else if (f.length == 2 && f[0].equals("F")) {
            entries.remove(Path.of(f[1]));
          }
        } catch (RuntimeException e) {
          // a torn last line after a crash: ignore it
        }
      }
    }
    entries.values().removeIf(e -> !Files.exists(e.path()));
    // compact: rewrite only what still exists
    Path tmp = stateDir.resolve(".golden-seen.log.tmp");
    try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      for (Entry e : entries.values()) {
        w.write(line(e));
      }
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    for (Entry e : entries.values()) {
      index(e);
    }
    channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    out = new BufferedWriter(Channels.newWriter(channel, StandardCharsets.UTF_8));
  }

  private static String line(Entry e) {
    return "R\t" + e.sizeBytes() + "\t" + e.mtimeMillis() + "\t" + (e.runId() == null ? "" : e.runId()) + "\t" + e.path() + "\n";
  }

  boolean contains(Path p) {
    return entries.containsKey(p);
  }

  boolean isSeen(Path p, long size, long mtimeMillis) {
    Entry e = entries.get(p);
    return e != null && e.sizeBytes() == size && e.mtimeMillis() == mtimeMillis;
  }

  /**
   * Records reported files. Written at once (a killed agent loses nothing: the page cache keeps
   * it) and fsync'd at most every few seconds; files whose record a power cut loses are found in
   * the spool's retained events at the next start, or at worst reported once more.
   */
  synchronized void recordAll(Collection<Entry> reported) throws IOException {
    for (Entry e : reported) {
      entries.put(e.path(), e);
      index(e);
      out.write(line(e));
    }
    out.flush();
    long now = System.nanoTime();
    if (now - lastSyncNanos > SYNC_EVERY_NANOS) {
      channel.force(false);
      lastSyncNanos = now;
    }
  }

  /** Adds without writing (entries recovered from the spool at start). */
  synchronized void adopt(Entry e) {
    if (!entries.containsKey(e.path())) {
      entries.put(e.path(), e);
      index(e);
    }
  }

  synchronized void forget(Path p) throws IOException {
    Entry e = entries.remove(p);
    if (e != null) {
      List<Path> l = byRun.get(e.runId());
      if (l != null) {
        l.remove(p);
        if (l.isEmpty()) {
          byRun.remove(e.runId());
        }
      }
      out.write("F\t" + p + "\n");
      out.flush();
    }
  }

  private void index(Entry e) {
    if (e.runId() != null && !e.runId().isEmpty()) {
      List<Path> l = byRun.computeIfAbsent(e.runId(), k -> new ArrayList<>(2));
      if (!l.contains(e.path())) {
        l.add(e.path());
      }
    }
  }

  synchronized List<Path> filesOfRun(String runId) {
    return List.copyOf(byRun.getOrDefault(runId, List.of()));
  }

  String runIdOf(Path p) {
    Entry e = entries.get(p);
    return e == null ? null : e.runId();
  }

  /** Paths recorded under dir that are not in present. */
  List<Path> missingUnder(Path dir, java.util.Set<Path> present) {
    List<Path> gone = new ArrayList<>();
    for (Path p : entries.keySet()) {
      if (dir.equals(p.getParent()) && !present.contains(p)) {
        gone.add(p);
      }
    }
    return gone;
  }

  int size() {
    return entries.size();
  }

  @Override
  public synchronized void close() throws IOException {
    out.flush();
    channel.force(false);
    out.close();
  }
}
