package dev.lockstep.collector.store;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The collector's own disk, watched like Elasticsearch's watermarks and etcd's space alarm. The
 * store is OK; LOW below the high watermark (a P1 about the collector); FLOOD below the flood
 * watermark (routine events are refused and stay in the agents' spools; golden reports, stop acks
 * and operator actions still go in, on the space left); FAILED when a write was refused (then
 * stops, acks and operator actions are held in memory, enacted, and written when it recovers).
 *
 * <p>A ballast file of {@code reserveBytes} sits next to the store; it is deleted the moment a
 * write fails for lack of space, so RocksDB's own recovery finds room, and written again once
 * there is plenty. One log line per change of state, never one per failed write.
 */
public final class StoreSpace {
  private static final System.Logger LOG = System.getLogger(StoreSpace.class.getName());

  public enum State { OK, LOW, FLOOD, FAILED }

  /** A reading of the store's space. */
  public record Health(State state, long freeBytes, long highBytes, long floodBytes,
      long pendingWrites, String detail) {}

  private final Store store;
  private final Path dataDir;
  private final Path ballast;
  private final long highBytes;
  private final long floodBytes;
  private final long reserveBytes;
  private final LongSupplier pendingWrites;
  private final Consumer<Health> onChange;
  private volatile Health health;
  private volatile boolean failed;
  private volatile String failure = "";

  public StoreSpace(Store store, Path dataDir, long highBytes, long floodBytes, long reserveBytes,
      LongSupplier pendingWrites, Consumer<Health> onChange) {
    this.store = store;
    this.dataDir = dataDir;
    this.ballast = dataDir.resolve("reserve.ballast");
    this.highBytes = highBytes;
    this.floodBytes = floodBytes;
    this.reserveBytes = reserveBytes;
    this.pendingWrites = pendingWrites;
    this.onChange = onChange;
    this.health = new Health(State.OK, Long.MAX_VALUE, highBytes, floodBytes, 0, "");
  }

  private volatile Store beside;

  /**
   * Also counts {@code other}'s unflushed memtables (a store opened with {@link
   * Store#openBeside}, whose SST files the cap already counts).
   */
  public void counting(Store other) {
    beside = other;
  }

  public Health health() {
    return health;
  }

  public State state() {
    return health.state();
  }

  /** Whether routine events may be stored now (not at the flood stage, not failed). */
  public boolean takesRoutine() {
    State s = health.state();
    return s == State.OK || s == State.LOW;
  }

  /** Whether the store takes writes now. */
  public boolean writable() {
    return !failed;
  }

  /** A write was refused: FAILED at once; for lack of space, the ballast goes. */
  public void writeFailed(Throwable t) {
    boolean first = !failed;
    failed = true;
    failure = String.valueOf(t.getMessage());
    if (Store.isNoSpace(t)) releaseBallast();
    if (first) check();
  }

  private final java.util.concurrent.atomic.AtomicBoolean checking =
      new java.util.concurrent.atomic.AtomicBoolean();
  private volatile long checkedAtNanos;

  /**
   * A fresh reading at most every 100 ms, from the ingest path: a fast writer cannot run from
   * OK past the flood stage between two scheduled checks. Never waits for a check in progress.
   */
  public void refresh() {
    if (System.nanoTime() - checkedAtNanos < 100_000_000L) return;
    if (!checking.compareAndSet(false, true)) return;
    try {
      measure(false);
    } finally {
      checking.set(false);
    }
  }

  /** Measures, probes a failed store for recovery, keeps the ballast, reports a change. */
  public void check() {
    measure(true);
  }

  private synchronized void measure(boolean ballastToo) {
    checkedAtNanos = System.nanoTime();
    long free = freeBytes();
    if (failed) {
      try {
        store.probe();
        failed = false;
        failure = "";
      } catch (RuntimeException e) {
        failure = String.valueOf(e.getMessage());
      }
    }
    State s = failed ? State.FAILED : free < floodBytes ? State.FLOOD : free < highBytes ? State.LOW
        : State.OK;
    if (ballastToo && s == State.OK && reserveBytes > 0 && free > highBytes + reserveBytes) keepBallast();
    String detail = switch (s) {
      case OK -> "";
      case LOW -> (free >> 20) + " MiB free, below the high watermark (" + (highBytes >> 20) + " MiB)";
      case FLOOD -> (free >> 20) + " MiB free, below the flood watermark (" + (floodBytes >> 20)
          + " MiB): routine events are refused and stay in the agents' spools";
      case FAILED -> "the store refuses writes (" + firstLine(failure) + "): stops, acks and operator"
          + " actions are held in memory and written when it recovers";
    };
    Health next = new Health(s, free, highBytes, floodBytes, pendingWrites.getAsLong(), detail);
    Health prev = health;
    health = next;
    if (prev.state() != s) {
      LOG.log(s == State.OK ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
          "collector store " + prev.state() + " -> " + s + (detail.isEmpty() ? "" : ": " + detail));
      onChange.accept(next);
    }
  }

  /** The smaller of the file system's and the cap's free bytes, minus unflushed memtables. */
  long freeBytes() {
    Store other = beside;
    long memtables = store.memtableBytes() + (other != null ? other.memtableBytes() : 0);
    return Math.max(0, roomFor(store, dataDir) - memtables);
  }

  /** The smaller of the file system's free bytes at {@code dataDir} and {@code store}'s cap's. */
  public static long roomFor(Store store, Path dataDir) {
    long fs;
    try {
      fs = Files.getFileStore(dataDir).getUsableSpace();
    } catch (IOException e) {
      fs = 0;
    }
    long cap = store.maxSpaceBytes();
    long capFree = cap > 0 ? cap - store.sstBytes() : Long.MAX_VALUE;
    return Math.min(fs, capFree);
  }

  private void releaseBallast() {
    try {
      if (Files.deleteIfExists(ballast)) {
        LOG.log(System.Logger.Level.WARNING, "collector store out of space: released the "
            + (reserveBytes >> 20) + " MiB reserve (" + ballast + ") so it can recover");
      }
    } catch (IOException e) {
      LOG.log(System.Logger.Level.ERROR, "cannot release the reserve " + ballast + ": " + e);
    }
  }

  private void keepBallast() {
    try {
      if (Files.exists(ballast) && Files.size(ballast) >= reserveBytes) return;
      byte[] zeros = new byte[1 << 20];
      try (OutputStream out = Files.newOutputStream(ballast, StandardOpenOption.CREATE,
          StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
        for (long n = 0; n < reserveBytes; n += zeros.length) {
          out.write(zeros, 0, (int) Math.min(zeros.length, reserveBytes - n));
        }
      }
    } catch (IOException e) {
      try {
        Files.deleteIfExists(ballast);
      } catch (IOException ignored) {
        // nothing more to do; retried on the next check
      }
    }
  }

  /** Whether the ballast is in place (for tests and status). */
  public boolean reserveHeld() {
    try {
      return Files.exists(ballast) && Files.size(ballast) >= reserveBytes;
    } catch (IOException e) {
      return false;
    }
  }

  private static String firstLine(String s) {
    String l = s.lines().findFirst().orElse("");
    return l.length() > 160 ? l.substring(0, 160) + "…" : l;
  }
}
