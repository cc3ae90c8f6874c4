package dev.lockstep.agent.evidence;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.internal.AtomicFiles;
import dev.lockstep.agent.internal.RegularFiles;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.agent.watch.GoldenWatcher;
import dev.lockstep.proto.lite.v1.AgentNotice;
import dev.lockstep.proto.lite.v1.Pins;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Incident-aware retention (playbook "disk full"): golden files older than archive_after go into a
 * tar.gz under archive_dir, and are deleted from the watched directory only after the archive is
 * complete, fsync'd and renamed into place. Invariant: a file pinned by an open incident (by path
 * or run id) is never archived or deleted.
 */
public final class Retention {
  private static final System.Logger LOG = System.getLogger(Retention.class.getName());
  private static final int MAX_FILES_PER_ARCHIVE = 5000;
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

  private final AgentConfig.Retention config;
  private final GoldenWatcher watcher;
  private final AgentMetrics metrics;
  private final Clock clock;
  private final Consumer<AgentNotice> noticeSink;
  private volatile Pins pins = Pins.getDefaultInstance();
  private int archiveCounter;

  public Retention(AgentConfig.Retention config, GoldenWatcher watcher, AgentMetrics metrics, Clock clock,
      Consumer<AgentNotice> noticeSink) {
    this.config = config;
    this.watcher = watcher;
    this.metrics = metrics;
    this.clock = clock;
    this.noticeSink = noticeSink;
  }

  /** Level-triggered: replaces the previous pins. */
  public void pins(Pins p) {
    this.pins = p;
  }

  public Pins pins() {
    return pins;
  }

  boolean pinned(Path file, Pins p) {
    if (p.getPathsList().contains(file.toAbsolutePath().toString())) {
      return true;
    }
    if (p.getRunIdsCount() == 0) {
      return false;
    }
    String name = file.getFileName().toString();
    for (String r : p.getRunIdsList()) {
      if (!r.isEmpty() && name.contains(r)) {
        return true;
      }
    }
    // the run id from the recent reports, or read from the file (only files retention would take)
    String runId = watcher.runIdOf(file.toAbsolutePath());
    return runId != null && p.getRunIdsList().contains(runId);
  }

  /** One retention pass. Returns how many files were archived and removed. Never throws. */
  public synchronized int runOnce() {
    if (!config.enabled()) {
      return 0;
    }
    Instant cutoff = clock.instant().minus(config.archiveAfter());
    Pins p = pins;
    List<Path> old = new ArrayList<>();
    try {
      for (Path dir : watcher.directories()) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
          for (Path f : ds) {
            // the name itself a regular file: a workload's symlink is never archived (nor read)
            if (watcher.isGoldenFile(f) && RegularFiles.isRegular(f)
                && Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(cutoff)
                && !pinned(f, p)) {
              old.add(f.toAbsolutePath());
            }
          }
        }
      }
      int done = 0;
      for (int i = 0; i < old.size(); i += MAX_FILES_PER_ARCHIVE) {
        done += archive(old.subList(i, Math.min(old.size(), i + MAX_FILES_PER_ARCHIVE)), p);
      }
      if (done > 0) {
        noticeSink.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.RETENTION)
            .setMessage("archived " + done + " golden files older than " + config.archiveAfter().toHours()
                + " h to " + config.archiveDir()).setCount(done).build());
      }
      return done;
    } catch (IOException | RuntimeException e) {
      metrics.errors.labelValues("retention").inc();
      LOG.log(System.Logger.Level.ERROR, "retention: " + e);
      return 0;
    }
  }

  private int archive(List<Path> files, Pins p) throws IOException {
    Files.createDirectories(config.archiveDir());
    String base = "golden-" + STAMP.format(clock.instant()) + "-" + (++archiveCounter);
    Path tmp = config.archiveDir().resolve("." + base + ".tar.gz.tmp");
    Path target = config.archiveDir().resolve(base + ".tar.gz");
    List<Path> archived = new ArrayList<>();
    // the archive dir may be one the workload writes (its default is under /var/lib/aos): a link
    // planted at the temporary name is removed, never written through (O_EXCL)
    try (FileChannel ch = AtomicFiles.createNew(tmp)) {
      TarGz tar = new TarGz(Channels.newOutputStream(ch));
      for (Path f : files) {
        try {
          tar.add(f.toString().substring(1), f);
          archived.add(f);
        } catch (java.nio.file.NoSuchFileException e) {
          // gone meanwhile
        }
      }
      tar.finish();
      ch.force(true);
    } catch (IOException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    AtomicFiles.syncDir(config.archiveDir());
    // the archive is durable: only now remove originals, re-checking pins that may have arrived
    Set<Path> dirs = new java.util.HashSet<>();
    int removed = 0;
    Pins now = pins;
    for (Path f : archived) {
      if (pinned(f, now) || pinned(f, p)) {
        continue;
      }
      if (Files.deleteIfExists(f)) {
        removed++;
        dirs.add(f.getParent());
        watcher.forget(f);
      }
    }
    for (Path d : dirs) {
      AtomicFiles.syncDir(d);
    }
    metrics.archivedFiles.inc(removed);
    LOG.log(System.Logger.Level.INFO, "retention: archived " + archived.size() + " files into " + target + ", removed " + removed);
    return removed;
  }
}
