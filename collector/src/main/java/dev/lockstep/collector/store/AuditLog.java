package dev.lockstep.collector.store;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.lockstep.proto.v1.AuditEntry;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import dev.lockstep.collector.core.EventBounds;
import dev.lockstep.security.AuditSink;

/**
 * The collector's {@link AuditSink} (refusals from the security module, operator actions) and
 * append-only record of every change an operator or the collector made (incident transitions,
 * stops, resumes), in the AUDIT column family keyed by time so retention is one range delete.
 */
public final class AuditLog implements AuditSink {
  private final Store store;
  private final Clock clock;
  // Keys are (millis, sequence): starting the sequence at a random point keeps two runs of the
  // collector from writing the same key in the same millisecond.
  private final AtomicLong sequence =
      new AtomicLong(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 24);

  public AuditLog(Store store, Clock clock) {
    this.store = store;
    this.clock = clock;
  }

  public void append(String who, String role, String action, String target, String remoteAddress,
      String result, String detail) {
    Instant now = clock.instant();
    AuditEntry e = entry(now, who, role, action, target, remoteAddress, result, detail);
    // Operator actions are fsync'd; the collector's own entries ride the WAL.
    store.put(Store.Family.AUDIT, key(now.toEpochMilli()), e.toByteArray(),
        "operator".equals(role));
  }

  /** Adds {@code entry} to a transaction's batch (written with the decision it records). */
  public void stage(Store.Batch batch, AuditEntry entry) {
    long millis = millis(entry);
    batch.put(Store.Family.AUDIT, key(millis), entry.toByteArray());
  }

  /**
   * Stores an entry another collector recorded (cluster mode's audit topic). Keyed by the
   * entry's time and {@code offset} (its place in the topic), so applying it twice stores it once.
   */
  public void replicate(AuditEntry entry, long offset) {
    long millis = millis(entry);
    store.put(Store.Family.AUDIT, ByteBuffer.allocate(16).putLong(millis)
        .putLong(Long.MIN_VALUE | offset).array(), entry.toByteArray(), false);
  }

  private static long millis(AuditEntry entry) {
    return entry.getAt().getSeconds() * 1000 + entry.getAt().getNanos() / 1_000_000;
  }

  private byte[] key(long millis) {
    return ByteBuffer.allocate(16).putLong(millis).putLong(sequence.incrementAndGet()).array();
  }

  /**
   * Records an entry from the security module; its outcome is stored in this log's vocabulary
   * (operator.proto AuditEntry.result): SUCCEEDED as OK, REFUSED as DENIED, FAILED as ERROR.
   */
  @Override
  public void record(dev.lockstep.security.AuditEntry entry) {
    append(entry.who(), entry.role(), entry.action(), entry.target(), entry.remoteAddress(),
        result(entry), entry.detail());
  }

  /** Characters kept of an entry's who, role, action, result and remote address. */
  public static final int MAX_NAME = 256;
  /** Characters kept of an entry's target (an incident id, a scope, order ids). */
  public static final int MAX_TARGET = 1024;
  /** Characters kept of an entry's detail. */
  public static final int MAX_DETAIL = 4096;

  /**
   * The stored form of an entry, every field cut to its limit ({@link EventBounds#text}: the start
   * and a marker with the length). A refused call's target is whatever the caller sent (order ids,
   * a scope's workflow, an incident id, up to the 8 MiB transport limit): stored whole, an agent's
   * or a viewer's certificate could write megabytes per refused call, fill the disk and make the
   * log too large for any client to read.
   */
  public static AuditEntry entry(Instant at, String who, String role, String action,
      String target, String remoteAddress, String result, String detail) {
    return AuditEntry.newBuilder()
        .setAt(Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()))
        .setWho(cut(who, MAX_NAME)).setRole(cut(role, MAX_NAME)).setAction(cut(action, MAX_NAME))
        .setTarget(cut(target, MAX_TARGET)).setRemoteAddress(cut(remoteAddress, MAX_NAME))
        .setResult(cut(result, MAX_NAME)).setDetail(cut(detail, MAX_DETAIL))
        .build();
  }

  private static String cut(String s, int max) {
    return EventBounds.text(nz(s), max);
  }

  /** A security-module outcome in this log's vocabulary. */
  public static String result(dev.lockstep.security.AuditEntry entry) {
    return switch (entry.outcome()) {
      case SUCCEEDED -> "OK";
      case REFUSED -> "DENIED";
      case FAILED -> "ERROR";
    };
  }

  /** Whether an entry equal to {@code entry} is stored (at its time). */
  public boolean contains(AuditEntry entry) {
    long millis = millis(entry);
    boolean[] found = new boolean[1];
    byte[] bytes = entry.toByteArray();
    byte[] after = ByteBuffer.allocate(16).putLong(millis + 1).putLong(0).array();
    store.scanBackwards(Store.Family.AUDIT, after, (k, v) -> {
      if (ByteBuffer.wrap(k).getLong() < millis) return false;
      found[0] = java.util.Arrays.equals(v, bytes);
      return !found[0];
    });
    return found[0];
  }

  /** Newest first, at or after {@code sinceMillis}, at most {@code limit}. */
  public List<AuditEntry> list(long sinceMillis, int limit) {
    return page(sinceMillis, limit, null).entries();
  }

  /** One page of entries, newest first; {@code next} is where the next page starts (null: none). */
  public record Page(List<AuditEntry> entries, byte[] next) {}

  /**
   * Newest first, at or after {@code sinceMillis}, at most {@code limit}, older than the key
   * {@code before} (a previous page's {@code next}; null: from the newest).
   */
  public Page page(long sinceMillis, int limit, byte[] before) {
    List<AuditEntry> out = new ArrayList<>();
    byte[][] last = new byte[1][];
    boolean[] more = new boolean[1];
    store.scanBackwards(Store.Family.AUDIT, before, (k, v) -> {
      if (ByteBuffer.wrap(k).getLong() < sinceMillis) return false;
      if (out.size() >= limit) {
        more[0] = true;
        return false;
      }
      last[0] = k;
      try {
        out.add(AuditEntry.parseFrom(v));
      } catch (InvalidProtocolBufferException e) {
        return true;
      }
      return true;
    });
    return new Page(out, more[0] ? last[0] : null);
  }

  public void deleteBefore(long cutoffMillis) throws java.io.IOException {
    store.deleteRange(Store.Family.AUDIT, new byte[] {0}, Store.longBytes(cutoffMillis));
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }
}
