package dev.lockstep.agent.watch;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Golden files already reported (path, size, mtime, run id), kept across restarts in an
 * append-only log in the state dir that is compacted at open. A file whose size or mtime changes
 * is reported again. Memory: one small record per reported file still present in a watched
 * directory (files removed, e.g. by retention, are forgotten).
 */
final class SeenFiles implements AutoCloseable {
  record Entry(Path path, long sizeBytes, long mtimeMillis, String runId) {}

  private record Rec(long sizeBytes, long mtimeMillis, String runId) {}

  private static final long SYNC_EVERY_NANOS = 5_000_000_000L;
  private final Path file;
  private final Map<String, Rec> entries = new ConcurrentHashMap<>();
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
            entries.put(f[4], new Rec(Long.parseLong(f[1]), Long.parseLong(f[2]), f[3]));
          } else if (f.length == 2 && f[0].equals("F")) {
            entries.remove(f[1]);
          }
        } catch (RuntimeException e) {
          // a torn last line after a crash: ignore it
        }
      }
    }
    entries.keySet().removeIf(p -> !Files.exists(Path.of(p)));
    // compact: rewrite only what still exists
    Path tmp = stateDir.resolve(".golden-seen.log.tmp");
    try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      for (Map.Entry<String, Rec> e : entries.entrySet()) {
        w.write(line(e.getKey(), e.getValue()));
      }
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    out = new BufferedWriter(Channels.newWriter(channel, StandardCharsets.UTF_8));
  }

  private static String line(String path, Rec r) {
    return "R\t" + r.sizeBytes() + "\t" + r.mtimeMillis() + "\t" + r.runId() + "\t" + path + "\n";
  }

  boolean contains(Path p) {
    return entries.containsKey(p.toString());
  }

  boolean isSeen(Path p, long size, long mtimeMillis) {
    Rec r = entries.get(p.toString());
    return r != null && r.sizeBytes() == size && r.mtimeMillis() == mtimeMillis;
  }

  /**
   * Records reported files. Written at once (a killed agent loses nothing: the page cache keeps
   * it) and fsync'd at most every few seconds; files whose record a power cut loses are found in
   * the spool's retained events at the next start, or at worst reported once more.
   */
  synchronized void recordAll(Collection<Entry> reported) throws IOException {
    for (Entry e : reported) {
      String key = e.path().toString();
      Rec r = new Rec(e.sizeBytes(), e.mtimeMillis(), e.runId() == null ? "" : e.runId());
      entries.put(key, r);
      out.write(line(key, r));
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
    entries.putIfAbsent(e.path().toString(), new Rec(e.sizeBytes(), e.mtimeMillis(), e.runId() == null ? "" : e.runId()));
  }

  synchronized void forget(Path p) throws IOException {
    if (entries.remove(p.toString()) != null) {
      out.write("F\t" + p + "\n");
      out.flush();
    }
  }

  /** Reported files of a run (a scan: capture requests are rare). */
  List<Path> filesOfRun(String runId) {
    List<Path> out = new ArrayList<>(2);
    if (runId == null || runId.isEmpty()) {
      return out;
    }
    for (Map.Entry<String, Rec> e : entries.entrySet()) {
      if (runId.equals(e.getValue().runId())) {
        out.add(Path.of(e.getKey()));
      }
    }
    return out;
  }

  String runIdOf(Path p) {
    Rec r = entries.get(p.toString());
    return r == null || r.runId().isEmpty() ? null : r.runId();
  }

  /** Paths recorded directly under dir that are not in present. */
  List<Path> missingUnder(Path dir, Set<Path> present) {
    String prefix = dir.toString() + "/";
    List<Path> gone = new ArrayList<>();
    for (String p : entries.keySet()) {
      if (p.startsWith(prefix) && p.indexOf('/', prefix.length()) < 0) {
        Path path = Path.of(p);
        if (!present.contains(path)) {
          gone.add(path);
        }
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
