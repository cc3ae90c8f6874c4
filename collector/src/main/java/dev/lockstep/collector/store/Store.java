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
 * The collector's RocksDB: one column family per kind of record, a shared LRU block cache and a
 * WriteBufferManager charging memtables to that cache, so memory stays bounded however many
 * families grow.
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
  private final WriteBufferManager writeBufferManager;
  private final DBOptions dbOptions;
  private final ColumnFamilyOptions cfOptions;
  private final RocksDB db;
  private final List<ColumnFamilyHandle> handles;
  private final Map<Family, ColumnFamilyHandle> families = new EnumMap<>(Family.class);
  private final WriteOptions syncWrite;
  private final WriteOptions ingestWrite;
  private final WriteOptions plainWrite;
  private final Map<String, SeqLedger> ledgers = new ConcurrentHashMap<>();
  private volatile String fault;
  private final java.util.concurrent.atomic.AtomicLong lastIngestMillis =
      new java.util.concurrent.atomic.AtomicLong();

  private Store(Path dir, boolean syncIngest, long blockCacheBytes, long writeBufferBytes,
      long maxSpaceBytes) throws RocksDBException, IOException {
    this(dir, syncIngest, blockCacheBytes, writeBufferBytes, maxSpaceBytes, null);
  }

  /** {@code beside}: a store whose SST file manager (its cap) and block cache this one shares. */
  private Store(Path dir, boolean syncIngest, long blockCacheBytes, long writeBufferBytes,
      long maxSpaceBytes, Store beside) throws RocksDBException, IOException {
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
    writeBufferManager = new WriteBufferManager(writeBufferBytes, cache);
    dbOptions = new DBOptions()
        .setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true)
        .setWriteBufferManager(writeBufferManager)
        .setSstFileManager(sstFiles)
        .setMaxBackgroundJobs(2)
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
    handles = new ArrayList<>();
    db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
    for (Family f : Family.values()) {
      families.put(f, handles.get(f.ordinal() + 1));
    }
    syncWrite = new WriteOptions().setSync(true);
    plainWrite = new WriteOptions();
    ingestWrite = syncIngest ? syncWrite : plainWrite;
    try (RocksIterator it = db.newIterator(families.get(Family.EVENTS))) {
      it.seekToLast();
      if (it.isValid() && it.key().length >= 8) {
        lastIngestMillis.set(ByteBuffer.wrap(it.key()).getLong());
      }
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
      return new Store(dir, false, 0, writeBufferBytes, 0, main);
    } catch (RocksDBException e) {
      throw new IOException("cannot open store " + dir + ": " + e.getMessage(), e);
    }
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
    SeqLedger ledger = ledger(agentId);
    synchronized (ledger) {
      SeqLedger.Plan plan = ledger.plan(events);
      if (plan.refusal() != null) {
        return new IngestResult(List.of(), 0, ledger.highWaterMark(), plan.refusal());
      }
      if (!plan.stored().isEmpty()) {
        try (WriteBatch batch = new WriteBatch()) {
          for (Event e : plan.stored()) {
            batch.put(families.get(Family.EVENTS), eventKey(nowMillis, agentId, e.getSeq()),
                e.toByteArray());
          }
          batch.put(families.get(Family.AGENTS), hwmKey(agentId), longBytes(plan.highWaterMark()));
          byte[] gaps = ledger.gapsAfter(plan);
          if (gaps != null) batch.put(families.get(Family.AGENTS), key(GAPS_PREFIX, agentId), gaps);
          checkFault();
          db.write(ingestWrite, batch);
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
    try {
      return db.get(families.get(f), key);
    } catch (RocksDBException e) {
      throw new StoreException("read failed: " + e.getMessage(), e);
    }
  }

  public byte[] get(Family f, String key) {
    return get(f, key.getBytes(StandardCharsets.UTF_8));
  }

  public void put(Family f, String key, byte[] value, boolean sync) {
    put(f, key.getBytes(StandardCharsets.UTF_8), value, sync);
  }

  public void put(Family f, byte[] key, byte[] value, boolean sync) {
    try {
      checkFault();
      db.put(families.get(f), sync ? syncWrite : plainWrite, key, value);
    } catch (RocksDBException e) {
      throw new StoreException("write failed: " + e.getMessage(), e);
    }
  }

  public void delete(Family f, String key) {
    try {
      db.delete(families.get(f), plainWrite, key.getBytes(StandardCharsets.UTF_8));
    } catch (RocksDBException e) {
      throw new StoreException("delete failed: " + e.getMessage(), e);
    }
  }

  /** Several puts and deletes across families, atomically. */
  public final class Batch implements AutoCloseable {
    private final WriteBatch batch = new WriteBatch();

    public Batch put(Family f, String key, byte[] value) {
      try {
        batch.put(families.get(f), key.getBytes(StandardCharsets.UTF_8), value);
      } catch (RocksDBException e) {
        throw new StoreException("batch failed: " + e.getMessage(), e);
      }
      return this;
    }

    public Batch put(Family f, byte[] key, byte[] value) {
      try {
        batch.put(families.get(f), key, value);
      } catch (RocksDBException e) {
        throw new StoreException("batch failed: " + e.getMessage(), e);
      }
      return this;
    }

    public Batch delete(Family f, byte[] key) {
      try {
        batch.delete(families.get(f), key);
      } catch (RocksDBException e) {
        throw new StoreException("batch failed: " + e.getMessage(), e);
      }
      return this;
    }

    public Batch delete(Family f, String key) {
      try {
        batch.delete(families.get(f), key.getBytes(StandardCharsets.UTF_8));
      } catch (RocksDBException e) {
        throw new StoreException("batch failed: " + e.getMessage(), e);
      }
      return this;
    }

    public void commit(boolean sync) {
      try {
        checkFault();
        db.write(sync ? syncWrite : plainWrite, batch);
      } catch (RocksDBException e) {
        throw new StoreException("batch write failed: " + e.getMessage(), e);
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
    byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
    try (ReadOptions ro = new ReadOptions(); RocksIterator it = db.newIterator(families.get(f), ro)) {
      for (it.seek(p); it.isValid(); it.next()) {
        byte[] k = it.key();
        if (!startsWith(k, p)) break;
        if (!visitor.visit(k, it.value())) break;
      }
    }
  }

  /** Visits keys at or after {@code start} in key order. */
  public void scanFrom(Family f, byte[] start, Visitor visitor) {
    try (ReadOptions ro = new ReadOptions(); RocksIterator it = db.newIterator(families.get(f), ro)) {
      for (it.seek(start); it.isValid(); it.next()) {
        if (!visitor.visit(it.key(), it.value())) break;
      }
    }
  }

  /** Visits keys before {@code end} from the last backwards. */
  public void scanBackwards(Family f, byte[] end, Visitor visitor) {
    try (ReadOptions ro = new ReadOptions(); RocksIterator it = db.newIterator(families.get(f), ro)) {
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
  }

  public void deleteRange(Family f, byte[] from, byte[] to) throws IOException {
    try {
      db.deleteRange(families.get(f), from, to);
    } catch (RocksDBException e) {
      throw new IOException("delete range failed: " + e.getMessage(), e);
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
    long total = 0;
    for (ColumnFamilyHandle h : handles) {
      try {
        total += db.getLongProperty(h, "rocksdb.cur-size-all-mem-tables");
      } catch (RocksDBException e) {
        // unknown: count nothing for this family
      }
    }
    return total;
  }

  /** Makes every write so far durable (fsyncs the WAL), as a synced write would. */
  public void syncWal() {
    try {
      checkFault();
      db.flushWal(true);
    } catch (RocksDBException e) {
      throw new StoreException("WAL sync failed: " + e.getMessage(), e);
    }
  }

  /** Bytes of SST files of one family (estimate from RocksDB's own count). */
  public long familySstBytes(Family f) {
    try {
      return db.getLongProperty(families.get(f), "rocksdb.total-sst-files-size");
    } catch (RocksDBException e) {
      return 0;
    }
  }

  /** Whether RocksDB is stopping writes to this store now (a write stall: memtables, L0 files). */
  public boolean writesStopped() {
    try {
      return db.getLongProperty("rocksdb.is-write-stopped") != 0;
    } catch (RocksDBException e) {
      return false;
    }
  }

  /** Tests: no flush or compaction runs until {@link #continueBackgroundWork()}. */
  void pauseBackgroundWork() throws RocksDBException {
    db.pauseBackgroundWork();
  }

  void continueBackgroundWork() throws RocksDBException {
    db.continueBackgroundWork();
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

  /** A small synced write: whether the store takes writes now. Throws when it does not. */
  public void probe() {
    put(Family.META, "store_probe", longBytes(System.nanoTime()), true);
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
    try {
      return db.getLongProperty(families.get(f), "rocksdb.estimate-num-keys");
    } catch (RocksDBException e) {
      return -1;
    }
  }

  // ------------------------------------------------------------------ backup

  /**
   * Writes a consistent checkpoint of the whole store to {@code target} (which must not exist).
   * Restore = stop the collector and use a copy of the checkpoint directory as its data dir's
   * {@code db} directory.
   */
  public void checkpoint(Path target) throws IOException {
    try (Checkpoint cp = Checkpoint.create(db); FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
      db.flush(fo, handles);
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
    Store store;
    try {
      store = new Store(dbDir, true, 16L << 20, 16L << 20, 0);
    } catch (RocksDBException e) {
      if (!String.valueOf(e.getMessage()).contains("lock")) {
        throw new IOException("cannot open store " + dbDir + ": " + e.getMessage(), e);
      }
      copyLive(dbDir, target);
      return;
    }
    try (store) {
      store.checkpoint(target);
    }
  }

  private static void copyLive(Path dbDir, Path target) throws IOException {
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    try (org.rocksdb.Options listOptions = new org.rocksdb.Options();
        ColumnFamilyOptions cfo = new ColumnFamilyOptions();
        DBOptions dbo = new DBOptions()) {
      List<byte[]> names = RocksDB.listColumnFamilies(listOptions, dbDir.toString());
      for (byte[] name : names) descriptors.add(new ColumnFamilyDescriptor(name, cfo));
      List<ColumnFamilyHandle> hs = new ArrayList<>();
      try (RocksDB ro = RocksDB.openReadOnly(dbo, dbDir.toString(), descriptors, hs);
          Store out = open(target, false, 16L << 20, 16L << 20)) {
        for (int i = 0; i < names.size(); i++) {
          String cf = new String(names.get(i), StandardCharsets.UTF_8);
          Family family = null;
          for (Family f : Family.values()) {
            if (f.cfName().equals(cf)) family = f;
          }
          if (family == null) continue;
          try (ReadOptions r = new ReadOptions(); RocksIterator it = ro.newIterator(hs.get(i), r)) {
            WriteBatch batch = new WriteBatch();
            int n = 0;
            for (it.seekToFirst(); it.isValid(); it.next()) {
              batch.put(out.families.get(family), it.key(), it.value());
              if (++n % 10_000 == 0) {
                out.db.write(out.syncWrite, batch);
                batch.close();
                batch = new WriteBatch();
              }
            }
            out.db.write(out.syncWrite, batch);
            batch.close();
          }
        }
      } finally {
        hs.forEach(ColumnFamilyHandle::close);
      }
    } catch (RocksDBException e) {
      throw new IOException("backup of " + dbDir + " to " + target + " failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      db.flushWal(true);
    } catch (RocksDBException e) {
      // closing anyway; the WAL is replayed on open
    }
    for (ColumnFamilyHandle h : handles) {
      h.close();
    }
    db.close();
    syncWrite.close();
    plainWrite.close();
    dbOptions.close();
    cfOptions.close();
    writeBufferManager.close();
    if (ownsShared) {
      cache.close();
      sstFiles.close();
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
