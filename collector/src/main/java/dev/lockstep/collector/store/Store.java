package dev.lockstep.collector.store;

import dev.lockstep.proto.v1.Event;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.Env;
import org.rocksdb.SstFileManager;
import org.rocksdb.FlushOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;

/**
 * The collector's store: two RocksDBs, each with one column family per kind of record, sharing an
 * LRU block cache (memtables charged to it, so memory stays bounded however many families grow)
 * and one SST file manager (one cap). Agents' events and marks (EVENTS, AGENTS) are in the ingest
 * RocksDB ({@code dir/ingest}); the core's state in the main one ({@code dir}). In one RocksDB all
 * writers share one write queue and WAL: a stop decision's commit waited behind the fleet's
 * fsync'd ingest batches (and stopped with them in a write stall). Nothing is written to both in
 * one batch: the core's state records how far it has processed the events, and events are written
 * (and acked) before the core sees them, so the ingest RocksDB is always ahead.
 *
 * <p>Invariant: an agent's events are acked only after {@link #ingest} returned, and {@code
 * ingest} writes the events and the agent's high-water mark in ONE WriteBatch. With {@code
 * syncWrites} (the default) that batch is fsync'd: acked events survive kill -9 of the process
 * (which plain WAL writes also survive, the OS still holds the page cache) and also a crash of
 * the machine or a power loss, which only the fsync covers. The agent deletes its spool on the
 * ack, so the ack must mean "on disk". RocksDB group commit shares one fsync among concurrent
 * writers, which keeps the cost per event small at fleet scale.
 */
public final class Store implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Store.class.getName());
  /** Column families. META holds counters; AGENTS holds agent rows and high-water marks. */
  public enum Family {
    EVENTS, RUNS, INCIDENTS, EVIDENCE, STOP, AUDIT, OUTBOX, AGENTS, META;

    String cfName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * Result of one ingested batch: the events that were new, how many were duplicates, the agent's
   * stored high seq, and — when non-null — why the whole batch was refused (nothing written).
   */
  public record IngestResult(List<Event> stored, int duplicates, long highWaterMark,
      String refusal) {}

  private static final byte[] HWM_PREFIX = "hwm/".getBytes(StandardCharsets.UTF_8);
  private static final byte[] GAPS_PREFIX = "gaps/".getBytes(StandardCharsets.UTF_8);

  static {
    RocksDB.loadLibrary();
  }

  private final Path dir;
  private final SstFileManager sstFiles;
  private volatile long maxSpaceBytes;
  private final LRUCache cache;
  /** Whether this store made (and closes) its SST file manager and cache. */
  private final boolean ownsShared;
  /** Everything but ingest: the core's state (runs, incidents, stop orders, audit, outbox). */
  private final Db db;
  /**
   * Agents' events and their high-water marks (EVENTS, AGENTS): its own RocksDB in {@code
   * dir/ingest}, so the fleet's fsync'd ingest writes (and their write stalls) never queue ahead
   * of a commit of the core's state — a stop decision among them. The same RocksDB as {@link #db}
   * for a store opened beside another.
   */
  private final Db ingestDb;
  private final WriteOptions syncWrite;
  private final WriteOptions ingestWrite;
  private final WriteOptions plainWrite;
  private final Map<String, SeqLedger> ledgers = new ConcurrentHashMap<>();
  private volatile String fault;
  private final java.util.concurrent.atomic.AtomicLong lastIngestMillis =
      new java.util.concurrent.atomic.AtomicLong();

  private Store(Path dir, boolean syncIngest, long blockCacheBytes, long writeBufferBytes,
      long maxSpaceBytes) throws RocksDBException, IOException {
    this(dir, syncIngest, blockCacheBytes, writeBufferBytes, maxSpaceBytes, null, true);
  }

  /**
   * {@code beside}: a store whose SST file manager (its cap) and block cache this one shares.
   * {@code split}: ingest in a RocksDB of its own (in {@code dir/ingest}).
   */
  private Store(Path dir, boolean syncIngest, long blockCacheBytes, long writeBufferBytes,
      long maxSpaceBytes, Store beside, boolean split) throws RocksDBException, IOException {
    this.dir = dir;
    Files.createDirectories(dir);
    // Tracks the SST files (free-space watermarks read it); also what RocksDB's own recovery
    // from a full disk polls. maxSpaceBytes caps the store (0 = only the disk's size).
    ownsShared = beside == null;
    if (beside == null) {
      sstFiles = new SstFileManager(Env.getDefault());
      if (maxSpaceBytes > 0) sstFiles.setMaxAllowedSpaceUsage(maxSpaceBytes);
      this.maxSpaceBytes = maxSpaceBytes;
      cache = new LRUCache(blockCacheBytes);
    } else {
      sstFiles = beside.sstFiles;
      this.maxSpaceBytes = beside.maxSpaceBytes;
      cache = beside.cache;
    }
    try {
      if (split) {
        // the ingest RocksDB takes most of the memtable budget: it takes the fleet's writes
        long coreBuffers = Math.max(8L << 20, writeBufferBytes / 4);
        db = new Db(dir, coreBuffers, cache, sstFiles, false);
        Db in = null;
        try {
          in = new Db(dir.resolve(INGEST_DIR), Math.max(8L << 20, writeBufferBytes - coreBuffers),
              cache, sstFiles, true);
          String noRoom = in.rocks.get(in.handle(Family.META), MOVED) == null ? noRoomToMove() : null;
          if (noRoom != null) {
            // Not moved yet, so the ingest RocksDB holds at most a partial copy: dropped, and the
            // move is tried again at the next start. Until then ingest shares the main RocksDB.
            LOG.log(System.Logger.Level.WARNING, "not moving the events and agents' marks of " + dir
                + " to a RocksDB of their own: " + noRoom + ". Ingest stays in the main RocksDB"
                + " (its write stalls can hold up a commit of the core's state, a stop decision"
                + " among them); free space and restart the collector to move them.");
            in.close();
            Db dropped = in;
            in = db;
            deleteTree(dropped.dir);
          }
        } catch (RocksDBException | IOException | RuntimeException e) {
          if (in != null && in != db) in.close();
          db.close();
          throw e;
        }
        ingestDb = in;
      } else {
        db = new Db(dir, writeBufferBytes, cache, sstFiles, false);
        ingestDb = db;
      }
    } catch (RocksDBException | IOException | RuntimeException e) {
      if (ownsShared) {
        cache.close();
        sstFiles.close();
      }
      throw e;
    }
    syncWrite = new WriteOptions().setSync(true);
    plainWrite = new WriteOptions();
    ingestWrite = syncIngest ? syncWrite : plainWrite;
    try {
      if (ingestDb != db) moveIngestFamilies();
      try (RocksIterator it = ingestDb.rocks.newIterator(ingestDb.handle(Family.EVENTS))) {
        it.seekToLast();
        if (it.isValid() && it.key().length >= 8) {
          lastIngestMillis.set(ByteBuffer.wrap(it.key()).getLong());
        }
      }
    } catch (RocksDBException | RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Opens (creating when missing) the store in {@code dir}. */
  public static Store open(Path dir, boolean syncIngest, long blockCacheBytes,
      long writeBufferBytes) throws IOException {
    return open(dir, syncIngest, blockCacheBytes, writeBufferBytes, 0);
  }

  /** As {@link #open(Path, boolean, long, long)}, the store capped at {@code maxSpaceBytes} (0: none). */
  public static Store open(Path dir, boolean syncIngest, long blockCacheBytes,
      long writeBufferBytes, long maxSpaceBytes) throws IOException {
    try {
      return new Store(dir, syncIngest, blockCacheBytes, writeBufferBytes, maxSpaceBytes);
    } catch (RocksDBException e) {
      throw new IOException("cannot open store " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Opens (creating when missing) a second store in {@code dir} beside {@code main}: its own
   * RocksDB (own WAL, memtables and write stalls, so bulk writes to it never hold up a write to
   * {@code main}), counted against {@code main}'s cap (one SST file manager) and sharing its block
   * cache. Close it before {@code main}.
   */
  public static Store openBeside(Path dir, Store main, long writeBufferBytes) throws IOException {
    try {
      return new Store(dir, false, 0, writeBufferBytes, 0, main, false);
    } catch (RocksDBException e) {
      throw new IOException("cannot open store " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Where a split store keeps its ingest RocksDB, inside the store's directory. */
  static final String INGEST_DIR = "ingest";
  /** In the ingest RocksDB: the ingest families were moved out of the main one (a one-off). */
  private static final byte[] MOVED = "moved_from_main".getBytes(StandardCharsets.UTF_8);

  /** One RocksDB with every family; the store routes each family to one of its two. */
  private static final class Db implements AutoCloseable {
    final Path dir;
    final WriteBufferManager writeBufferManager;
    final DBOptions options;
    final ColumnFamilyOptions cfOptions;
    final RocksDB rocks;
    final List<ColumnFamilyHandle> handles = new ArrayList<>();
    final Map<Family, ColumnFamilyHandle> families = new EnumMap<>(Family.class);

    Db(Path dir, long writeBufferBytes, LRUCache cache, SstFileManager sstFiles, boolean ingest)
        throws RocksDBException, IOException {
      this.dir = dir;
      Files.createDirectories(dir);
      writeBufferManager = new WriteBufferManager(writeBufferBytes, cache);
      options = new DBOptions()
          .setCreateIfMissing(true)
          .setCreateMissingColumnFamilies(true)
          .setWriteBufferManager(writeBufferManager)
          .setSstFileManager(sstFiles)
          .setMaxBackgroundJobs(ingest ? 2 : 1)
          .setKeepLogFileNum(3)
          .setEnablePipelinedWrite(false);
      cfOptions = new ColumnFamilyOptions()
          .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(cache))
          .setCompressionType(CompressionType.LZ4_COMPRESSION)
          .setWriteBufferSize(Math.max(4L << 20, writeBufferBytes / 4));
      List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
      descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions));
      for (Family f : Family.values()) {
        descriptors.add(
            new ColumnFamilyDescriptor(f.cfName().getBytes(StandardCharsets.UTF_8), cfOptions));
      }
      try {
        rocks = RocksDB.open(options, dir.toString(), descriptors, handles);
      } catch (RocksDBException e) {
        options.close();
        cfOptions.close();
        writeBufferManager.close();
        throw e;
      }
      for (Family f : Family.values()) {
        families.put(f, handles.get(f.ordinal() + 1));
      }
    }

    ColumnFamilyHandle handle(Family f) {
      return families.get(f);
    }

    @Override
    public void close() {
      try {
        rocks.flushWal(true);
      } catch (RocksDBException e) {
        // closing anyway; the WAL is replayed on open
      }
      for (ColumnFamilyHandle h : handles) {
        h.close();
      }
      rocks.close();
      options.close();
      cfOptions.close();
      writeBufferManager.close();
    }
  }

  /** Whether {@code f} lives in the ingest RocksDB. */
  private static boolean ingestFamily(Family f) {
    return f == Family.EVENTS || f == Family.AGENTS;
  }

  private Db dbFor(Family f) {
    return ingestFamily(f) ? ingestDb : db;
  }

  /** Room a move of the ingest families must leave for everything else. */
  static final long MOVE_MARGIN_BYTES = 64L << 20;

  /**
   * Why the main RocksDB's events and agents' marks cannot be moved to the ingest one now, or null
   * when they can (or there are none). The copy's peak is about twice their size (the copied SST
   * files, then a compaction rewriting them) before the main RocksDB's copies are deleted; it has
   * to fit in the smaller of the disk's free space and the cap's, with {@link #MOVE_MARGIN_BYTES}
   * left over. A move that ran out of space would leave a collector that cannot start.
   */
  private String noRoomToMove() throws RocksDBException {
    long need = 0;
    for (Family f : new Family[] {Family.EVENTS, Family.AGENTS}) {
      need += db.rocks.getLongProperty(db.handle(f), "rocksdb.total-sst-files-size")
          + db.rocks.getLongProperty(db.handle(f), "rocksdb.cur-size-all-mem-tables");
    }
    if (need == 0) return null;
    long room = StoreSpace.roomFor(this, dir);
    long capFree = maxSpaceBytes > 0 ? maxSpaceBytes - sstFiles.getTotalSize() : Long.MAX_VALUE;
    if (room - 2 * need >= MOVE_MARGIN_BYTES) return null;
    return String.format(java.util.Locale.ROOT,
        "they take %d MiB, so the move needs about %d MiB with %d MiB to spare, and %d MiB is free (%s)",
        need >> 20, (2 * need) >> 20, MOVE_MARGIN_BYTES >> 20, Math.max(0, room) >> 20,
        capFree <= room ? "under the store's cap of " + (maxSpaceBytes >> 20) + " MiB" : "on the disk");
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (var walk = Files.walk(p)) {
      for (Path f : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.delete(f);
      }
    }
  }

  /**
   * A store written before ingest had a RocksDB of its own keeps its events and agents' marks in
   * the main one: they are copied across (synced), the copy is marked done in the ingest RocksDB,
   * and only then deleted from the main one. A crash before the mark copies again (the same keys,
   * the same values: nothing was ingested since); after it, the leftovers are only deleted — never
   * copied over marks that moved on since.
   */
  private void moveIngestFamilies() throws RocksDBException {
    boolean moved = ingestDb.rocks.get(ingestDb.handle(Family.META), MOVED) != null;
    boolean any = false;
    long t0 = System.nanoTime();
    long copied = 0;
    for (Family f : new Family[] {Family.EVENTS, Family.AGENTS}) {
      try (RocksIterator it = db.rocks.newIterator(db.handle(f))) {
        it.seekToFirst();
        if (!it.isValid()) continue;
        if (!any) {
          LOG.log(System.Logger.Level.INFO, (moved ? "deleting the events and agents' marks left in "
              : "moving the events and agents' marks of ") + dir + " to " + ingestDb.dir
              + " (once, for a store written before ingest had a RocksDB of its own)");
        }
        any = true;
        if (moved) continue;
        WriteBatch batch = new WriteBatch();
        try {
          for (; it.isValid(); it.next()) {
            batch.put(ingestDb.handle(f), it.key(), it.value());
            if (++copied % 10_000 == 0) {
              ingestDb.rocks.write(syncWrite, batch);
              batch.close();
              batch = new WriteBatch();
              if (copied % 1_000_000 == 0) {
                LOG.log(System.Logger.Level.INFO, "moved " + copied + " records to " + ingestDb.dir);
              }
            }
          }
          ingestDb.rocks.write(syncWrite, batch);
        } finally {
          batch.close();
        }
      }
    }
    if (!moved) ingestDb.rocks.put(ingestDb.handle(Family.META), syncWrite, MOVED, new byte[] {1});
    if (!any) return;
    byte[] end = new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    for (Family f : new Family[] {Family.EVENTS, Family.AGENTS}) {
      db.rocks.deleteRange(db.handle(f), new byte[0], end);
      try (RocksIterator it = db.rocks.newIterator(db.handle(f))) {
        // keys at or past the range's end (none are written so; deleted one by one if ever)
        for (it.seekToFirst(); it.isValid(); it.next()) db.rocks.delete(db.handle(f), it.key());
      }
      db.rocks.compactRange(db.handle(f)); // the space the copies took, back now
    }
    db.rocks.flushWal(true);
    LOG.log(System.Logger.Level.INFO, "moved " + copied + " records to " + ingestDb.dir + " in "
        + (System.nanoTime() - t0) / 1_000_000 + " ms");
  }

  public Path dir() {
    return dir;
  }

  // ------------------------------------------------------------------ ingest

  /**
   * Writes the events of one EventBatch of {@code agentId} (seqs strictly increasing) with seq
   * above the agent's stored high-water mark, plus the new mark and any seqs skipped, in one
   * WriteBatch. A seq at or below the mark that was stored is a duplicate (dropped); one that was
   * never stored refuses the whole batch ({@link IngestResult#refusal()}, see {@link SeqLedger}).
   */
  public IngestResult ingest(String agentId, List<Event> events, long nowMillis)
      throws IOException {
    return ingest(agentId, events, nowMillis, r -> { });
  }

  /**
   * As {@link #ingest(String, List, long)}, and hands the result to {@code stored} while still
   * holding the agent's lock, so what it does happens in the agent's seq order.
   */
  public IngestResult ingest(String agentId, List<Event> events, long nowMillis,
      java.util.function.Consumer<IngestResult> storedCallback) throws IOException {
    enter();
    try {
      SeqLedger ledger = ledger(agentId);
      synchronized (ledger) {
        SeqLedger.Plan plan = ledger.plan(events);
        if (plan.refusal() != null) {
          return new IngestResult(List.of(), 0, ledger.highWaterMark(), plan.refusal());
        }
        if (!plan.stored().isEmpty()) {
          try (WriteBatch batch = new WriteBatch()) {
            for (Event e : plan.stored()) {
              batch.put(ingestDb.handle(Family.EVENTS), eventKey(nowMillis, agentId, e.getSeq()),
                  e.toByteArray());
            }
            batch.put(ingestDb.handle(Family.AGENTS), hwmKey(agentId), longBytes(plan.highWaterMark()));
            byte[] gaps = ledger.gapsAfter(plan);
            if (gaps != null) batch.put(ingestDb.handle(Family.AGENTS), key(GAPS_PREFIX, agentId), gaps);
            checkFault();
            ingestDb.rocks.write(ingestWrite, batch);
          } catch (RocksDBException e) {
            throw new IOException("ingest write failed: " + e.getMessage(), e);
          }
          ledger.apply(plan);
        }
        IngestResult result = new IngestResult(plan.stored(), plan.duplicates(),
            ledger.highWaterMark(), null);
        storedCallback.accept(result);
        return result;
      }
    } finally {
      exit();
    }
  }

  /**
   * The ingest time to stamp a batch with: {@code nowMillis}, but never earlier than an earlier
   * stamp (events are keyed by it, and replay after a restart scans from a time: a wall clock
   * stepping back must not hide a batch before the scan's start).
   */
  public long ingestMillis(long nowMillis) {
    return lastIngestMillis.accumulateAndGet(nowMillis, Math::max);
  }

  /** Highest seq of {@code agentId} stored (0 when none). */
  public long highWaterMark(String agentId) {
    SeqLedger ledger = ledger(agentId);
    synchronized (ledger) {
      return ledger.highWaterMark();
    }
  }

  private SeqLedger ledger(String agentId) {
    return ledgers.computeIfAbsent(agentId, a -> {
      byte[] v = get(Family.AGENTS, hwmKey(a));
      return SeqLedger.decode(v == null ? 0 : ByteBuffer.wrap(v).getLong(),
          get(Family.AGENTS, key(GAPS_PREFIX, a)));
    });
  }

  private static byte[] hwmKey(String agentId) {
    return key(HWM_PREFIX, agentId);
  }

  private static byte[] key(byte[] prefix, String agentId) {
    byte[] a = agentId.getBytes(StandardCharsets.UTF_8);
    byte[] k = Arrays.copyOf(prefix, prefix.length + a.length);
    System.arraycopy(a, 0, k, prefix.length, a.length);
    return k;
  }

  /** Events are keyed by ingest time first, so retention is one DeleteRange. */
  static byte[] eventKey(long millis, String agentId, long seq) {
    byte[] a = agentId.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + a.length + 1 + 8).putLong(millis).put(a).put((byte) 0)
        .putLong(seq).array();
  }

  /** A stored event with the agent that sent it, when it was ingested, and its store key. */
  public record StoredEvent(long ingestedAtMillis, String agentId, Event event, byte[] key) {}

  /** Visits stored events ingested at or after {@code fromMillis}, in ingest order. */
  public void scanEvents(long fromMillis, java.util.function.Predicate<StoredEvent> visitor) {
    scanEventsFrom(ByteBuffer.allocate(8).putLong(fromMillis).array(), visitor);
  }

  /** Visits stored events at or after the store key {@code start}, in ingest order. */
  public void scanEventsFrom(byte[] start, java.util.function.Predicate<StoredEvent> visitor) {
    scanFrom(Family.EVENTS, start, (k, v) -> {
      ByteBuffer b = ByteBuffer.wrap(k);
      long millis = b.getLong();
      String agent = new String(k, 8, k.length - 8 - 1 - 8, StandardCharsets.UTF_8);
      try {
        return visitor.test(new StoredEvent(millis, agent, Event.parseFrom(v), k));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        return true;
      }
    });
  }

  /** Deletes events ingested before {@code cutoffMillis}. */
  public void deleteEventsBefore(long cutoffMillis) throws IOException {
    deleteRange(Family.EVENTS, new byte[] {0}, ByteBuffer.allocate(8).putLong(cutoffMillis).array());
  }

  // ------------------------------------------------------------------ generic access

  public byte[] get(Family f, byte[] key) {
    enter();
    try {
      return dbFor(f).rocks.get(dbFor(f).handle(f), key);
    } catch (RocksDBException e) {
      throw new StoreException("read failed: " + e.getMessage(), e);
    } finally {
      exit();
    }
  }

  public byte[] get(Family f, String key) {
    return get(f, key.getBytes(StandardCharsets.UTF_8));
  }

  public void put(Family f, String key, byte[] value, boolean sync) {
    put(f, key.getBytes(StandardCharsets.UTF_8), value, sync);
  }

  public void put(Family f, byte[] key, byte[] value, boolean sync) {
    enter();
    try {
      checkFault();
      dbFor(f).rocks.put(dbFor(f).handle(f), sync ? syncWrite : plainWrite, key, value);
    } catch (RocksDBException e) {
      throw new StoreException("write failed: " + e.getMessage(), e);
    } finally {
      exit();
    }
  }

  public void delete(Family f, String key) {
    enter();
    try {
      dbFor(f).rocks.delete(dbFor(f).handle(f), plainWrite, key.getBytes(StandardCharsets.UTF_8));
    } catch (RocksDBException e) {
      throw new StoreException("delete failed: " + e.getMessage(), e);
    } finally {
      exit();
    }
  }

  /**
   * Several puts and deletes across families, atomically. One batch writes to one RocksDB: the
   * ingest families (EVENTS, AGENTS) or the others, never both (an {@link IllegalStateException}).
   */
  public final class Batch implements AutoCloseable {
    private final WriteBatch batch = new WriteBatch();
    private Db target;

    private ColumnFamilyHandle handle(Family f) {
      Db d = dbFor(f);
      if (target == null) {
        target = d;
      } else if (target != d) {
        throw new IllegalStateException("one batch cannot write " + f
            + " with the families of the other RocksDB (ingest: EVENTS, AGENTS)");
      }
      return d.handle(f);
    }

    public Batch put(Family f, String key, byte[] value) {
      return put(f, key.getBytes(StandardCharsets.UTF_8), value);
    }

    public Batch put(Family f, byte[] key, byte[] value) {
      enter();
      try {
        batch.put(handle(f), key, value);
      } catch (RocksDBException e) {
        throw new StoreException("batch failed: " + e.getMessage(), e);
      } finally {
        exit();
      }
      return this;
    }

    public Batch delete(Family f, byte[] key) {
      enter();
      try {
        batch.delete(handle(f), key);
      } catch (RocksDBException e) {
        throw new StoreException("batch failed: " + e.getMessage(), e);
      } finally {
        exit();
      }
      return this;
    }

    public Batch delete(Family f, String key) {
      return delete(f, key.getBytes(StandardCharsets.UTF_8));
    }

    public void commit(boolean sync) {
      enter();
      try {
        checkFault();
        if (target == null) return;
        target.rocks.write(sync ? syncWrite : plainWrite, batch);
      } catch (RocksDBException e) {
        throw new StoreException("batch write failed: " + e.getMessage(), e);
      } finally {
        exit();
      }
    }

    @Override
    public void close() {
      batch.close();
    }
  }

  public Batch batch() {
    return new Batch();
  }

  /** Visitor over key/value pairs; returns false to stop. */
  public interface Visitor {
    boolean visit(byte[] key, byte[] value);
  }

  /** Visits keys starting with {@code prefix} in key order. */
  public void scan(Family f, String prefix, Visitor visitor) {
    enter();
    try {
      byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
      try (ReadOptions ro = new ReadOptions(); RocksIterator it = dbFor(f).rocks.newIterator(dbFor(f).handle(f), ro)) {
        for (it.seek(p); it.isValid(); it.next()) {
          byte[] k = it.key();
          if (!startsWith(k, p)) break;
          if (!visitor.visit(k, it.value())) break;
        }
      }
    } finally {
      exit();
    }
  }

  /** Visits keys at or after {@code start} in key order. */
  public void scanFrom(Family f, byte[] start, Visitor visitor) {
    enter();
    try {
      try (ReadOptions ro = new ReadOptions(); RocksIterator it = dbFor(f).rocks.newIterator(dbFor(f).handle(f), ro)) {
        for (it.seek(start); it.isValid(); it.next()) {
          if (!visitor.visit(it.key(), it.value())) break;
        }
      }
    } finally {
      exit();
    }
  }

  /** Visits keys before {@code end} from the last backwards. */
  public void scanBackwards(Family f, byte[] end, Visitor visitor) {
    enter();
    try {
      try (ReadOptions ro = new ReadOptions(); RocksIterator it = dbFor(f).rocks.newIterator(dbFor(f).handle(f), ro)) {
        if (end == null) {
          it.seekToLast();
        } else {
          it.seekForPrev(end);
          if (it.isValid() && Arrays.equals(it.key(), end)) it.prev();
        }
        for (; it.isValid(); it.prev()) {
          if (!visitor.visit(it.key(), it.value())) break;
        }
      }
    } finally {
      exit();
    }
  }

  public void deleteRange(Family f, byte[] from, byte[] to) throws IOException {
    enter();
    try {
      dbFor(f).rocks.deleteRange(dbFor(f).handle(f), from, to);
    } catch (RocksDBException e) {
      throw new IOException("delete range failed: " + e.getMessage(), e);
    } finally {
      exit();
    }
  }

  static boolean startsWith(byte[] k, byte[] p) {
    if (k.length < p.length) return false;
    for (int i = 0; i < p.length; i++) {
      if (k[i] != p[i]) return false;
    }
    return true;
  }

  public static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  public static long bytesLong(byte[] v) {
    return v == null ? 0 : ByteBuffer.wrap(v).getLong();
  }

  // ------------------------------------------------------------------ space

  /** Bytes of SST files (what a cap counts). */
  public long sstBytes() {
    return sstFiles.getTotalSize();
  }

  /** Bytes in memtables, which a flush will write to disk. */
  public long memtableBytes() {
    enter();
    try {
      long total = 0;
      for (Db d : dbs()) {
        for (ColumnFamilyHandle h : d.handles) {
          try {
            total += d.rocks.getLongProperty(h, "rocksdb.cur-size-all-mem-tables");
          } catch (RocksDBException e) {
            // unknown: count nothing for this family
          }
        }
      }
      return total;
    } finally {
      exit();
    }
  }

  /** Makes every write so far durable (fsyncs the WAL), as a synced write would. */
  public void syncWal() {
    enter();
    try {
      checkFault();
      for (Db d : dbs()) d.rocks.flushWal(true);
    } catch (RocksDBException e) {
      throw new StoreException("WAL sync failed: " + e.getMessage(), e);
    } finally {
      exit();
    }
  }

  /** Bytes of SST files of one family (estimate from RocksDB's own count). */
  public long familySstBytes(Family f) {
    enter();
    try {
      return dbFor(f).rocks.getLongProperty(dbFor(f).handle(f), "rocksdb.total-sst-files-size");
    } catch (RocksDBException e) {
      return 0;
    } finally {
      exit();
    }
  }

  /**
   * Whether RocksDB is stopping writes to this store's main RocksDB now (a write stall: memtables,
   * L0 files); {@link #ingestWritesStopped()} for the ingest one.
   */
  public boolean writesStopped() {
    return writesStopped(db);
  }

  /** Whether the ingest RocksDB is stopping writes now (the main one for a store beside). */
  public boolean ingestWritesStopped() {
    return writesStopped(ingestDb);
  }

  private static boolean writesStopped(Db d) {
    try {
      return d.rocks.getLongProperty("rocksdb.is-write-stopped") != 0;
    } catch (RocksDBException e) {
      return false;
    }
  }

  /** Tests: no flush or compaction runs until {@link #continueBackgroundWork()}. */
  void pauseBackgroundWork() throws RocksDBException {
    db.rocks.pauseBackgroundWork();
  }

  void continueBackgroundWork() throws RocksDBException {
    db.rocks.continueBackgroundWork();
  }

  /** Tests: as {@link #pauseBackgroundWork()}, for the ingest RocksDB. */
  void pauseIngestBackgroundWork() throws RocksDBException {
    ingestDb.rocks.pauseBackgroundWork();
  }

  void continueIngestBackgroundWork() throws RocksDBException {
    ingestDb.rocks.continueBackgroundWork();
  }

  private List<Db> dbs() {
    return ingestDb == db ? List.of(db) : List.of(db, ingestDb);
  }

  /** The cap on the store's SST bytes, 0 when only the disk limits it. */
  public long maxSpaceBytes() {
    return maxSpaceBytes;
  }

  /** Changes the cap (an operator growing the store's quota; tests simulating a full disk). */
  public void maxSpaceBytes(long bytes) {
    if (!ownsShared) throw new IllegalStateException("a store opened beside another has its cap");
    sstFiles.setMaxAllowedSpaceUsage(bytes);
    maxSpaceBytes = bytes;
  }

  /**
   * Fault injection for tests and drills: while set, every write fails with this reason, as a
   * store that ran out of space would ({@code null} clears it).
   */
  public void injectWriteFault(String reason) {
    fault = reason;
  }

  private void checkFault() throws RocksDBException {
    String f = fault;
    if (f != null) {
      throw new RocksDBException("injected write fault: " + f,
          new org.rocksdb.Status(org.rocksdb.Status.Code.IOError, org.rocksdb.Status.SubCode.NoSpace, f));
    }
  }

  /**
   * A small synced write to each of the store's RocksDBs: whether the store takes writes now.
   * Throws when it does not.
   */
  public void probe() {
    enter();
    try {
      byte[] now = longBytes(System.nanoTime());
      for (Db d : dbs()) {
        try {
          checkFault();
          d.rocks.put(d.handle(Family.META), syncWrite, "store_probe".getBytes(StandardCharsets.UTF_8), now);
        } catch (RocksDBException e) {
          throw new StoreException("write failed: " + e.getMessage(), e);
        }
      }
    } finally {
      exit();
    }
  }

  /** Whether {@code t} (or a cause) is the store running out of space. */
  public static boolean isNoSpace(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof RocksDBException r && r.getStatus() != null
          && r.getStatus().getSubCode() == org.rocksdb.Status.SubCode.NoSpace) {
        return true;
      }
      String m = String.valueOf(c.getMessage());
      if (m.contains("No space left") || m.contains("Max allowed space") || m.contains("NoSpace")
          || m.contains("no space")) {
        return true;
      }
    }
    return false;
  }

  /** Approximate number of keys in a family (RocksDB's estimate). */
  public long estimateKeys(Family f) {
    enter();
    try {
      return dbFor(f).rocks.getLongProperty(dbFor(f).handle(f), "rocksdb.estimate-num-keys");
    } catch (RocksDBException e) {
      return -1;
    } finally {
      exit();
    }
  }

  // ------------------------------------------------------------------ backup

  /**
   * Writes a consistent checkpoint of the whole store to {@code target} (which must not exist).
   * Restore = stop the collector and use a copy of the checkpoint directory as its data dir's
   * {@code db} directory. The ingest RocksDB's checkpoint (in {@code target/ingest}) is taken
   * after the main one's, so it holds every event the main one's state has processed.
   */
  public void checkpoint(Path target) throws IOException {
    enter();
    try {
      checkpoint(db, target);
      if (ingestDb != db) checkpoint(ingestDb, target.resolve(INGEST_DIR));
    } finally {
      exit();
    }
  }

  private static void checkpoint(Db d, Path target) throws IOException {
    try (Checkpoint cp = Checkpoint.create(d.rocks);
        FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
      d.rocks.flush(fo, d.handles);
      cp.createCheckpoint(target.toString());
    } catch (RocksDBException e) {
      throw new IOException("checkpoint to " + target + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * Backs up the store in {@code dbDir} to {@code target} (which must not exist). When no collector
   * holds the store, this is a RocksDB checkpoint (flush, then hard links). While a collector runs
   * on it, the store is opened read-only (no lock; the WAL is replayed into that view, so it is a
   * consistent point-in-time snapshot including unflushed writes) and copied key by key into a
   * fresh store at {@code target}. Either way {@code target} opens as a data dir's {@code db}.
   */
  public static void backup(Path dbDir, Path target) throws IOException {
    backup(dbDir, target, true);
  }

  /** As {@link #backup(Path, Path)}, for a store opened with {@link #openBeside}. */
  public static void backupBeside(Path dbDir, Path target) throws IOException {
    backup(dbDir, target, false);
  }

  private static void backup(Path dbDir, Path target, boolean split) throws IOException {
    Store store;
    try {
      store = new Store(dbDir, true, 16L << 20, 16L << 20, 0, null, split);
    } catch (RocksDBException e) {
      if (!String.valueOf(e.getMessage()).contains("lock")) {
        throw new IOException("cannot open store " + dbDir + ": " + e.getMessage(), e);
      }
      try (Store out = new Store(target, false, 16L << 20, 16L << 20, 0, null, split)) {
        copyLive(dbDir, out);
        // after the main RocksDB: the ingest one's copy holds every event the state processed
        if (split && Files.isDirectory(dbDir.resolve(INGEST_DIR))) {
          copyLive(dbDir.resolve(INGEST_DIR), out);
        }
      } catch (RocksDBException e2) {
        throw new IOException("cannot create " + target + ": " + e2.getMessage(), e2);
      }
      return;
    }
    try (store) {
      store.checkpoint(target);
    }
  }

  private static void copyLive(Path dbDir, Store out) throws IOException {
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    try (org.rocksdb.Options listOptions = new org.rocksdb.Options();
        ColumnFamilyOptions cfo = new ColumnFamilyOptions();
        DBOptions dbo = new DBOptions()) {
      List<byte[]> names = RocksDB.listColumnFamilies(listOptions, dbDir.toString());
      for (byte[] name : names) descriptors.add(new ColumnFamilyDescriptor(name, cfo));
      List<ColumnFamilyHandle> hs = new ArrayList<>();
      try (RocksDB ro = RocksDB.openReadOnly(dbo, dbDir.toString(), descriptors, hs)) {
        for (int i = 0; i < names.size(); i++) {
          String cf = new String(names.get(i), StandardCharsets.UTF_8);
          Family family = null;
          for (Family f : Family.values()) {
            if (f.cfName().equals(cf)) family = f;
          }
          if (family == null) continue;
          Db to = out.dbFor(family);
          try (ReadOptions r = new ReadOptions(); RocksIterator it = ro.newIterator(hs.get(i), r)) {
            WriteBatch batch = new WriteBatch();
            int n = 0;
            for (it.seekToFirst(); it.isValid(); it.next()) {
              batch.put(to.handle(family), it.key(), it.value());
              if (++n % 10_000 == 0) {
                to.rocks.write(out.syncWrite, batch);
                batch.close();
                batch = new WriteBatch();
              }
            }
            to.rocks.write(out.syncWrite, batch);
            batch.close();
          }
        }
      } finally {
        hs.forEach(ColumnFamilyHandle::close);
      }
    } catch (RocksDBException e) {
      throw new IOException("backup of " + dbDir + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * Guards the RocksDB handles: operations hold the read side, {@link #close} the write side. A
   * call after close (a stream's cancel callback still running during shutdown) gets a {@link
   * StoreException} instead of reaching freed native handles, which crashed the JVM (SIGSEGV).
   */
  private final java.util.concurrent.locks.ReentrantReadWriteLock life =
      new java.util.concurrent.locks.ReentrantReadWriteLock();
  private boolean closed;

  private void enter() {
    life.readLock().lock();
    if (closed) {
      life.readLock().unlock();
      throw new StoreException("store " + dir + " is closed", null);
    }
  }

  private void exit() {
    life.readLock().unlock();
  }

  /** Waits for operations in flight, then closes; later calls get a {@link StoreException}. */
  @Override
  public void close() {
    life.writeLock().lock();
    try {
      if (closed) return;
      closed = true;
      if (ingestDb != db) ingestDb.close();
      db.close();
      syncWrite.close();
      plainWrite.close();
      if (ownsShared) {
        cache.close();
        sstFiles.close();
      }
    } finally {
      life.writeLock().unlock();
    }
  }

  /** An unexpected RocksDB failure after start-up. */
  public static final class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StoreException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
