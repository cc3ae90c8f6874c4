package dev.lockstep.agent.watch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.Eventually;
import dev.lockstep.agent.GoldenFiles;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.agent.spool.Spool;
import dev.lockstep.agent.spool.SpoolEvents;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.proto.lite.v1.AgentNotice;
import dev.lockstep.proto.lite.v1.Event;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watcher on real directories, a real spool and real inotify, ticked by the test. Failures a
 * root-run test cannot cause for real (a directory whose permission was taken away, the inotify
 * watch limit) come from a {@link Directories} that fails for one directory the way the JDK does.
 */
class GoldenWatcherTest {
  @TempDir Path root;
  Path a;
  Path b;
  Spool spool;
  final AgentMetrics metrics = new AgentMetrics();
  final List<AgentNotice> notices = new CopyOnWriteArrayList<>();
  final Set<Path> unreadable = ConcurrentHashMap.newKeySet();
  final Set<Path> unwatchable = ConcurrentHashMap.newKeySet();
  final AtomicLong stats = new AtomicLong();
  final AtomicLong listings = new AtomicLong();
  /** Called for each entry a listing reads, on the watcher's thread. */
  volatile java.util.function.Consumer<Path> onListedEntry = p -> { };
  GoldenWatcher watcher;

  final Directories failing = new Directories() {
    @Override
    public WatchKey register(Path dir, WatchService service) throws IOException {
      if (unwatchable.contains(dir)) {
        throw new IOException("User limit of inotify watches reached");
      }
      return REAL.register(dir, service);
    }

    @Override
    public DirectoryStream<Path> list(Path dir) throws IOException {
      if (unreadable.contains(dir)) {
        throw new AccessDeniedException(dir.toString());
      }
      listings.incrementAndGet();
      DirectoryStream<Path> real = REAL.list(dir);
      return new DirectoryStream<>() {
        @Override
        public java.util.Iterator<Path> iterator() {
          java.util.Iterator<Path> it = real.iterator();
          return new java.util.Iterator<>() {
            @Override
            public boolean hasNext() {
              return it.hasNext();
            }

            @Override
            public Path next() {
              Path p = it.next();
              onListedEntry.accept(p);
              return p;
            }
          };
        }

        @Override
        public void close() throws IOException {
          real.close();
        }
      };
    }

    @Override
    public Attrs stat(Path file) throws IOException {
      stats.incrementAndGet();
      return REAL.stat(file);
    }

    @Override
    public long dirMtime(Path dir) throws IOException {
      return REAL.dirMtime(dir);
    }
  };

  @BeforeEach
  void setUp() throws IOException {
    a = Files.createDirectories(root.resolve("a")).toAbsolutePath();
    b = Files.createDirectories(root.resolve("b")).toAbsolutePath();
    spool = Spool.open(root.resolve("spool"), 256L << 20, metrics, Clock.systemUTC());
  }

  @AfterEach
  void tearDown() throws IOException {
    if (watcher != null) {
      watcher.close();
    }
    spool.close();
  }

  private GoldenWatcher watcher(AgentConfig.StartAt startAt, Path... dirs) throws IOException {
    List<String> d = new ArrayList<>();
    for (Path p : dirs) {
      d.add(p.toString());
    }
    AgentConfig.GoldenWatch config = new AgentConfig.GoldenWatch(d, "*.json", Duration.ofMillis(100),
        Duration.ofMillis(200), Duration.ofMillis(300), startAt);
    return new GoldenWatcher(config, GoldenConfig.DEFAULT, root.resolve("state"), spool, metrics, Clock.systemUTC(),
        notices::add, failing);
  }

  private List<String> reported() throws IOException {
    List<String> out = new ArrayList<>();
    for (Event e : SpoolEvents.after(spool, 0)) {
      if (e.hasGolden()) {
        out.add(e.getGolden().getRunId());
      }
    }
    return out;
  }

  private void tickUntil(String what, java.util.function.BooleanSupplier done) {
    Eventually.await(what, Duration.ofSeconds(20), () -> {
      try {
        watcher.tick();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return done.getAsBoolean();
    });
  }

  private List<AgentNotice.Kind> noticeKinds() {
    return notices.stream().map(AgentNotice::getKind).toList();
  }

  @Test
  void aDirectoryThatCannotBeReadIsReportedAndRetriedWhileTheOthersKeepWorking() throws Exception {
    unreadable.add(b);
    GoldenFiles.writeAtomically(b, "run-b0", "primary");
    watcher = watcher(AgentConfig.StartAt.BEGINNING, a, b);
    watcher.tick();
    GoldenFiles.writeAtomically(a, "run-a1", "primary");
    tickUntil("a's file reported", () -> {
      try {
        return reported().contains("run-a1");
      } catch (IOException e) {
        return false;
      }
    });
    assertThat(noticeKinds()).containsExactly(AgentNotice.Kind.SOURCE_FAILED);
    assertThat(notices.get(0).getMessage()).contains(b.toString()).contains("AccessDeniedException");
    assertThat(watcher.problem()).contains("1 of 2 golden dirs failing").contains(b.toString());
    assertThat(watcher.blind()).isFalse();
    assertThat(metrics.goldenDirs.labelValues("failing").get()).isEqualTo(1);
    for (int i = 0; i < 5; i++) {
      watcher.tick();
    }
    assertThat(noticeKinds()).as("one notice per failure, not one per retry").hasSize(1);
    unreadable.remove(b);
    tickUntil("b's file reported once b can be read", () -> {
      try {
        return reported().contains("run-b0");
      } catch (IOException e) {
        return false;
      }
    });
    assertThat(noticeKinds()).containsExactly(AgentNotice.Kind.SOURCE_FAILED, AgentNotice.Kind.SOURCE_RECOVERED);
    assertThat(watcher.problem()).isNull();
    assertThat(reported()).containsExactlyInAnyOrder("run-a1", "run-b0");
  }

  @Test
  void everyDirectoryFailingMeansBlind() throws Exception {
    unreadable.add(a);
    watcher = watcher(AgentConfig.StartAt.BEGINNING, a, root.resolve("missing"));
    watcher.tick();
    assertThat(watcher.blind()).isTrue();
    assertThat(watcher.problem()).contains("2 of 2 golden dirs failing");
  }

  @Test
  void aDirectoryInotifyCannotWatchIsPolledAndStillReported() throws Exception {
    unwatchable.add(b);
    watcher = watcher(AgentConfig.StartAt.BEGINNING, a, b);
    watcher.tick();
    assertThat(noticeKinds()).containsExactly(AgentNotice.Kind.WATCH_POLLING);
    assertThat(notices.get(0).getMessage()).contains(b.toString()).contains("inotify watches");
    assertThat(watcher.problem()).contains("1 golden dirs polled");
    GoldenFiles.writeAtomically(b, "run-b1", "shadow");
    GoldenFiles.writeAtomically(a, "run-a1", "shadow");
    tickUntil("both reported", () -> {
      try {
        return reported().containsAll(List.of("run-a1", "run-b1"));
      } catch (IOException e) {
        return false;
      }
    });
    assertThat(metrics.goldenDirs.labelValues("polling").get()).isEqualTo(1);
    unwatchable.remove(b);
    tickUntil("b watched with inotify again", () -> watcher.problem() == null);
    assertThat(noticeKinds()).endsWith(AgentNotice.Kind.SOURCE_RECOVERED);
  }

  /**
   * Files keep coming while a large directory is listed: the listing takes the watch's events as
   * it goes, so the JDK's 512 events per watch key never overflow and no second listing follows
   * (each overflow costs a stat of every file in the directory; under load one listing's overflow
   * started the next, back to back). One file per 4 entries listed: 1,000 events in all, so a
   * listing that did not take them would overflow the key, while 32 between two takes leave the
   * JDK's poller thread room to be late (with a file per entry, a poller held off the CPU for a
   * few milliseconds on a loaded 2-core runner delivered over 512 at once, and the test failed).
   */
  @Test
  void filesWrittenDuringALongListingDoNotOverflowTheWatchIntoAnotherListing() throws Exception {
    int n = 2000;
    int every = 4;
    int m = n / every;
    for (int i = 0; i < n; i++) {
      Files.writeString(a.resolve("old-" + i + ".primary.golden.json"), GoldenFiles.json("old-" + i, "primary", 1, i));
    }
    java.util.concurrent.atomic.AtomicInteger listed = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger written = new java.util.concurrent.atomic.AtomicInteger();
    onListedEntry = p -> {
      if (listed.getAndIncrement() % every != 0 || written.get() >= m) {
        return;
      }
      int i = written.getAndIncrement();
      try { // create + modify: 2 events each, 1,000 during the listing
        Files.writeString(a.resolve("new-" + i + ".primary.golden.json"), GoldenFiles.json("new-" + i, "primary", 1, i));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    watcher = watcher(AgentConfig.StartAt.BEGINNING, a);
    tickUntil("old and new files reported", () -> metrics.goldenFiles.labelValues("ok").get() >= n + m);
    onListedEntry = p -> { };
    assertThat(written.get()).isEqualTo(m);
    assertThat(reported()).hasSize(n + m).doesNotHaveDuplicates();
    assertThat(listings.get()).as("listings of the directory").isEqualTo(1);
  }

  @Test
  void aBacklogLargerThanOneListingIsListedAgainAsSoonAsItsFirstPartIsReportedNotAtTheNextRescan() throws Exception {
    int n = 350;
    for (int i = 0; i < n; i++) {
      Files.writeString(a.resolve("run-" + i + ".primary.golden.json"), GoldenFiles.json("run-" + i, "primary", 1, i));
    }
    AgentConfig.GoldenWatch config = new AgentConfig.GoldenWatch(List.of(a.toString()), "*.json", Duration.ofMillis(100),
        Duration.ofHours(1), Duration.ofMillis(300), AgentConfig.StartAt.BEGINNING);
    watcher = new GoldenWatcher(config, GoldenConfig.DEFAULT, root.resolve("state"), spool, metrics, Clock.systemUTC(),
        notices::add, failing);
    watcher.maxListed = 100;
    tickUntil("the backlog reported", () -> metrics.goldenFiles.labelValues("ok").get() >= n);
    assertThat(reported()).hasSize(n).doesNotHaveDuplicates();
    assertThat(listings.get()).as("listings of 100 at most each").isEqualTo(4);
  }

  @Test
  void aBacklogCostsOneStatPerFileAndIsReportedInFull() throws Exception {
    int n = 3000;
    for (int i = 0; i < n; i++) {
      Files.writeString(a.resolve("run-" + i + ".primary.golden.json"), GoldenFiles.json("run-" + i, "primary", 1, i));
    }
    watcher = watcher(AgentConfig.StartAt.BEGINNING, a);
    tickUntil("the backlog reported", () -> metrics.goldenFiles.labelValues("ok").get() >= n);
    assertThat(reported()).hasSize(n).doesNotHaveDuplicates();
    assertThat(stats.get()).as("stats for " + n + " files").isLessThanOrEqualTo(n + 10);
  }

  @Test
  void stateIsAWatermarkNotAListOfFilesAndARestartReportsOnlyWhatChanged() throws Exception {
    watcher = watcher(AgentConfig.StartAt.BEGINNING, a);
    for (int i = 0; i < 500; i++) {
      GoldenFiles.writeAtomically(a, "run-" + i, "primary");
    }
    tickUntil("500 reported", () -> metrics.goldenFiles.labelValues("ok").get() >= 500);
    // a file newer than them by more than the margin: they leave the per-file part of the mark
    long wait = System.nanoTime() + 2_500_000_000L;
    tickUntil("the margin passed", () -> System.nanoTime() > wait);
    Path late = GoldenFiles.writeAtomically(a, "run-late", "primary");
    tickUntil("late reported", () -> metrics.goldenFiles.labelValues("ok").get() >= 501);
    assertThat(watcher.recentMarks()).as("files remembered one by one").isLessThan(50);
    watcher.close();
    long stateBytes = Files.size(root.resolve("state/golden-watermarks.json"));
    assertThat(stateBytes).as("state for 501 files").isLessThan(4096);

    // restart: nothing is reported again; a file rewritten while down and a new one are
    Files.writeString(late, GoldenFiles.json("run-late", "primary", 9, 9));
    GoldenFiles.writeAtomically(a, "run-new", "primary");
    watcher = watcher(AgentConfig.StartAt.BEGINNING, a);
    tickUntil("changes reported", () -> metrics.goldenFiles.labelValues("ok").get() >= 503);
    for (int i = 0; i < 10; i++) {
      watcher.tick();
    }
    Map<String, Integer> counts = new HashMap<>();
    reported().forEach(r -> counts.merge(r, 1, Integer::sum));
    assertThat(counts).hasSize(502);
    assertThat(counts.get("run-late")).isEqualTo(2);
    assertThat(counts.get("run-new")).isEqualTo(1);
    assertThat(counts.get("run-7")).isEqualTo(1);
  }

  @Test
  void theSeenLogOfAnOlderAgentIsAdoptedOnceAndWhatItListsUnchangedIsNeverReportedAgain() throws Exception {
    Path kept0 = GoldenFiles.writeAtomically(a, "kept-0", "primary");
    Path kept1 = GoldenFiles.writeAtomically(a, "kept-1", "primary");
    Path forgotten = GoldenFiles.writeAtomically(a, "forgotten", "primary");
    Path changed = GoldenFiles.writeAtomically(a, "changed", "primary");
    Files.createDirectories(root.resolve("state"));
    StringBuilder log = new StringBuilder();
    for (Path f : List.of(kept0, kept1, forgotten, changed)) {
      long size = Files.size(f) + (f.equals(changed) ? 1 : 0); // "changed" differs from what was reported
      log.append("R\t").append(size).append('\t').append(Files.getLastModifiedTime(f).toMillis()).append("\trun\t")
          .append(f.toAbsolutePath()).append('\n');
    }
    log.append("F\t").append(forgotten.toAbsolutePath()).append('\n').append("R\t12\ttorn");
    Files.writeString(root.resolve("state/golden-seen.log"), log);
    GoldenFiles.writeAtomically(a, "new", "primary");

    // start_at: end applies to a first start only; an agent with a seen log has run before
    watcher = watcher(AgentConfig.StartAt.END, a);
    tickUntil("three reported", () -> metrics.goldenFiles.labelValues("ok").get() >= 3);
    for (int i = 0; i < 10; i++) {
      watcher.tick();
    }
    assertThat(reported()).containsExactlyInAnyOrder("forgotten", "changed", "new");
    watcher.close();

    // migrated once: the log is gone, and a restart reports nothing again, from the watermarks alone
    assertThat(root.resolve("state/golden-seen.log")).doesNotExist();
    watcher = watcher(AgentConfig.StartAt.BEGINNING, a);
    GoldenFiles.writeAtomically(a, "after", "primary");
    tickUntil("the file after the restart", () -> metrics.goldenFiles.labelValues("ok").get() >= 4);
    for (int i = 0; i < 10; i++) {
      watcher.tick();
    }
    assertThat(reported()).containsExactlyInAnyOrder("forgotten", "changed", "new", "after");
  }

  @Test
  void startAtEndSkipsWhatIsThereOnTheFirstStartOnly() throws Exception {
    for (int i = 0; i < 20; i++) {
      GoldenFiles.writeAtomically(a, "old-" + i, "primary");
    }
    watcher = watcher(AgentConfig.StartAt.END, a);
    watcher.tick();
    GoldenFiles.writeAtomically(a, "new-1", "primary");
    tickUntil("the new file reported", () -> metrics.goldenFiles.labelValues("ok").get() >= 1);
    for (int i = 0; i < 5; i++) {
      watcher.tick();
    }
    assertThat(reported()).containsExactly("new-1");
    watcher.close();
    // not a first start any more: a directory that appears now is read from its beginning
    Path c = Files.createDirectories(root.resolve("c"));
    GoldenFiles.writeAtomically(c, "c-1", "primary");
    watcher = watcher(AgentConfig.StartAt.END, a, c);
    tickUntil("c's file reported", () -> metrics.goldenFiles.labelValues("ok").get() >= 2);
    assertThat(reported()).containsExactly("new-1", "c-1");
  }
}
