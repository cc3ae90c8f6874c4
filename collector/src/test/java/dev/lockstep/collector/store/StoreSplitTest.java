package dev.lockstep.collector.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockstep.collector.Eventually;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;

/** Ingest (events, agents' marks) in a RocksDB of its own, beside the core's state. */
class StoreSplitTest {
  @TempDir Path dir;

  /**
   * The fleet's ingest stalled (its memtables full, no flush can run) must not hold up a synced
   * commit of the core's state — a stop decision. In one RocksDB a write stall stops every writer,
   * and every writer waits in one write queue for the fsyncs ahead of it.
   */
  @Test
  void anIngestStallDoesNotHoldUpACommitOfTheCoresState() throws Exception {
    ExecutorService writer = Executors.newSingleThreadExecutor();
    try (Store store = Store.open(dir.resolve("db"), true, 8 << 20, 8 << 20)) {
      store.pauseIngestBackgroundWork();
      boolean paused = true;
      try {
        AtomicLong batches = new AtomicLong();
        CompletableFuture<Void> ingest = CompletableFuture.runAsync(() -> {
          try {
            for (int i = 0; i < 400; i++) {
              store.ingest("a", big(i * 4L + 1, 4), 1000 + i);
              batches.incrementAndGet();
            }
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }, writer);
        Eventually.await(Duration.ofSeconds(30), "ingest stops on its full memtables",
            store::ingestWritesStopped);
        assertThat(ingest).as("the ingest writer is held by the stall").isNotDone();
        CompletableFuture.runAsync(() -> {
          try (Store.Batch b = store.batch()) {
            b.put(Store.Family.STOP, "order/1", new byte[] {1})
                .put(Store.Family.META, "processed", new byte[] {2}).commit(true);
          }
        }).get(30, TimeUnit.SECONDS);
        assertThat(store.get(Store.Family.STOP, "order/1")).containsExactly(1);
        assertThat(store.writesStopped()).isFalse();
        assertThat(ingest).as("ingest was held while the core committed").isNotDone();
        paused = false;
        store.continueIngestBackgroundWork();
        ingest.get(60, TimeUnit.SECONDS);
        assertThat(batches.get()).isEqualTo(400);
        assertThat(store.highWaterMark("a")).isEqualTo(1600);
      } finally {
        if (paused) store.continueIngestBackgroundWork();
        writer.shutdown();
        writer.awaitTermination(60, TimeUnit.SECONDS); // before the store closes
      }
    } finally {
      writer.shutdownNow();
    }
  }

  /** Events of 16 KiB each, seqs {@code from}…{@code from + n - 1}. */
  private static List<Event> big(long from, int n) {
    java.util.Random r = new java.util.Random(from);
    List<Event> out = new ArrayList<>();
    for (long s = from; s < from + n; s++) {
      char[] text = new char[16 << 10];
      for (int i = 0; i < text.length; i++) text[i] = (char) ('a' + r.nextInt(26));
      out.add(Event.newBuilder().setSeq(s)
          .setNotice(AgentNotice.newBuilder().setMessage(new String(text))).build());
    }
    return out;
  }

  @Test
  void oneBatchCannotWriteBothRocksDbs() throws Exception {
    try (Store store = Store.open(dir.resolve("db"), true, 8 << 20, 8 << 20);
        Store.Batch b = store.batch()) {
      b.put(Store.Family.STOP, "order/1", new byte[] {1});
      assertThatThrownBy(() -> b.put(Store.Family.AGENTS, "agent/a", new byte[] {1}))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("AGENTS");
    }
  }

  /**
   * A data dir written before the split keeps events and marks in the main RocksDB: they are
   * moved on open (deduplication goes on from the same marks), and gone from the main one.
   */
  @Test
  void aStoreWrittenBeforeTheSplitHasItsEventsAndMarksMoved() throws Exception {
    Path db = oldLayout();
    try (Store store = Store.open(db, true, 8 << 20, 8 << 20)) {
      assertOldLayoutReadAndIngestGoesOn(store);
    }
    try (Raw raw = new Raw(db)) {
      assertThat(raw.count(Store.Family.EVENTS)).isZero();
      assertThat(raw.count(Store.Family.AGENTS)).isZero();
      assertThat(raw.count(Store.Family.RUNS)).isEqualTo(1);
    }
    try (Store store = Store.open(db, true, 8 << 20, 8 << 20)) {
      assertThat(store.highWaterMark("a")).isEqualTo(13);
      assertThat(StoreTest.count(store, "a")).isEqualTo(13);
    }
  }

  /**
   * A store written before the split whose events and marks do not fit a second time with room to
   * spare (under its cap here; the disk's free space counts the same way) opens with ingest in the
   * main RocksDB instead of running out of space mid-move and not starting at all. A partial copy
   * left by an earlier move is dropped, never read; the move happens at a later open with room.
   */
  @Test
  void aStoreWithoutRoomToMoveItsEventsOpensWithIngestInTheMainRocksDbAndMovesThemLater()
      throws Exception {
    Path db = oldLayout();
    // what a move that stopped part-way left: a mark older than the main RocksDB's, not marked moved
    try (Raw partial = new Raw(db.resolve(Store.INGEST_DIR))) {
      partial.put(Store.Family.AGENTS, "hwm/a".getBytes(StandardCharsets.UTF_8), Store.longBytes(3));
    }
    long cap = Store.MOVE_MARGIN_BYTES / 2;
    try (Store store = Store.open(db, true, 8 << 20, 8 << 20, cap)) {
      assertOldLayoutReadAndIngestGoesOn(store);
      assertThat(db.resolve(Store.INGEST_DIR)).as("the partial copy is dropped").doesNotExist();
    }
    try (Raw raw = new Raw(db)) {
      assertThat(raw.count(Store.Family.EVENTS)).as("not moved").isEqualTo(13);
    }
    try (Store store = Store.open(db, true, 8 << 20, 8 << 20)) {
      assertThat(store.highWaterMark("a")).isEqualTo(13);
      assertThat(StoreTest.count(store, "a")).isEqualTo(13);
      assertThat(store.ingest("a", StoreTest.events(1, 13), 6000).stored()).isEmpty();
    }
    try (Raw raw = new Raw(db)) {
      assertThat(raw.count(Store.Family.EVENTS)).as("moved at the open with room").isZero();
      assertThat(raw.count(Store.Family.AGENTS)).isZero();
    }
  }

  /**
   * A crash after the move was marked done but before the main RocksDB's copies were deleted:
   * the leftovers are deleted, never copied over the marks that moved on since.
   */
  @Test
  void leftoversOfAMoveMarkedDoneAreDeletedNotCopiedOverNewerMarks() throws Exception {
    Path db = dir.resolve("db");
    try (Store store = Store.open(db, true, 8 << 20, 8 << 20)) {
      store.ingest("a", StoreTest.events(1, 20), 1000);
    }
    try (Raw raw = new Raw(db)) {
      raw.put(Store.Family.AGENTS, "hwm/a".getBytes(StandardCharsets.UTF_8), Store.longBytes(5));
      raw.put(Store.Family.EVENTS, Store.eventKey(900, "a", 3), StoreTest.events(3, 3).get(0)
          .toByteArray());
    }
    try (Store store = Store.open(db, true, 8 << 20, 8 << 20)) {
      assertThat(store.highWaterMark("a")).isEqualTo(20);
      assertThat(StoreTest.count(store, "a")).isEqualTo(20);
      assertThat(store.ingest("a", StoreTest.events(6, 20), 5000).stored()).isEmpty();
    }
    try (Raw raw = new Raw(db)) {
      assertThat(raw.count(Store.Family.EVENTS)).isZero();
      assertThat(raw.count(Store.Family.AGENTS)).isZero();
    }
  }

  /**
   * A data dir in the layout before the split: a run, and agent a's events 1-12 and marks written
   * into the main RocksDB as the collector before the split did.
   */
  private Path oldLayout() throws Exception {
    Path db = dir.resolve("db");
    try (Store store = Store.open(db, true, 8 << 20, 8 << 20)) {
      store.put(Store.Family.RUNS, "run/1", new byte[] {3}, true);
    }
    deleteTree(db.resolve(Store.INGEST_DIR));
    try (Raw raw = new Raw(db)) {
      for (long s = 1; s <= 12; s++) {
        raw.put(Store.Family.EVENTS, Store.eventKey(1000 + s, "a", s), StoreTest.events(s, s).get(0)
            .toByteArray());
      }
      raw.put(Store.Family.AGENTS, "hwm/a".getBytes(StandardCharsets.UTF_8), Store.longBytes(12));
      raw.put(Store.Family.AGENTS, "agent/a".getBytes(StandardCharsets.UTF_8), new byte[] {9});
    }
    return db;
  }

  /** What {@link #oldLayout()} wrote reads back, and agent a's next event is stored once. */
  private static void assertOldLayoutReadAndIngestGoesOn(Store store) throws Exception {
      assertThat(store.highWaterMark("a")).isEqualTo(12);
      assertThat(StoreTest.count(store, "a")).isEqualTo(12);
      assertThat(store.get(Store.Family.AGENTS, "agent/a")).containsExactly(9);
      assertThat(store.get(Store.Family.RUNS, "run/1")).containsExactly(3);
      assertThat(store.ingest("a", StoreTest.events(1, 13), 5000).stored())
          .extracting(Event::getSeq).containsExactly(13L);
  }

  private static void deleteTree(Path p) throws java.io.IOException {
    try (var walk = java.nio.file.Files.walk(p)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }

  /** The main RocksDB opened directly, as the store before the split wrote it. */
  private static final class Raw implements AutoCloseable {
    private final DBOptions options = new DBOptions().setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true);
    private final List<ColumnFamilyHandle> handles = new ArrayList<>();
    private final RocksDB rocks;

    Raw(Path dir) throws Exception {
      List<ColumnFamilyDescriptor> d = new ArrayList<>();
      d.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY));
      for (Store.Family f : Store.Family.values()) {
        d.add(new ColumnFamilyDescriptor(f.cfName().getBytes(StandardCharsets.UTF_8)));
      }
      rocks = RocksDB.open(options, dir.toString(), d, handles);
    }

    void put(Store.Family f, byte[] k, byte[] v) throws Exception {
      rocks.put(handles.get(f.ordinal() + 1), k, v);
    }

    int count(Store.Family f) {
      int n = 0;
      try (RocksIterator it = rocks.newIterator(handles.get(f.ordinal() + 1))) {
        for (it.seekToFirst(); it.isValid(); it.next()) n++;
      }
      return n;
    }

    @Override
    public void close() {
      handles.forEach(ColumnFamilyHandle::close);
      rocks.close();
      options.close();
    }
  }
}
