package dev.lockstep.collector.evidence;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.EvidenceFile;
import dev.lockstep.proto.v1.EvidenceInfo;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Evidence artifacts (golden documents, log tails, snapshots) stored under their incident in the
 * EVIDENCE column family of the collector's evidence store (a RocksDB beside the main one, so its
 * bulk writes never stall a stop decision's commit), chunk by chunk. Invariants: names are
 * sanitised (relative, no "..", no control characters); an incident never holds more than
 * {@code maxBytesPerIncident} bytes (later chunks are dropped and the artifact marked truncated);
 * a completed artifact's sha256 is computed from what was stored.
 */
public final class EvidenceStore {
  private static final String CHUNK = "chunk/";
  private static final String INFO = "info/";
  private static final String TOTAL = "total/";
  private static final String DIFF = "diff/";
  private static final String SIDE_BY_SIDE = "side-by-side/";
  private static final String CUT = "cut/";
  private static final String ALL = "evidence_total_bytes";

  private final Store store;
  private final long maxBytesPerIncident;

  public EvidenceStore(Store store, long maxBytesPerIncident) {
    this.store = store;
    this.maxBytesPerIncident = maxBytesPerIncident;
  }

  /** The key prefixes of evidence records (capture requests are core state and stay put). */
  private static final List<String> PREFIXES =
      List.of(CHUNK, INFO, TOTAL, DIFF, SIDE_BY_SIDE, CUT);

  /**
   * Moves the evidence records a collector kept in its main store (before evidence had a store
   * of its own) from {@code from} to {@code to}: copied and committed first, then deleted, so a
   * crash in between leaves them in both and the next start moves them again (idempotent); the
   * overall total is then recomputed from the incidents' totals. Returns how many records moved.
   */
  public static int moveFrom(Store from, Store to) {
    int[] moved = {0};
    for (String prefix : PREFIXES) {
      List<byte[][]> part = new ArrayList<>();
      long[] bytes = {0};
      Runnable flush = () -> {
        if (part.isEmpty()) return;
        try (Store.Batch b = to.batch()) {
          for (byte[][] r : part) b.put(Store.Family.EVIDENCE, r[0], r[1]);
          b.commit(true);
        }
        try (Store.Batch b = from.batch()) {
          for (byte[][] r : part) b.delete(Store.Family.EVIDENCE, r[0]);
          b.commit(true);
        }
        moved[0] += part.size();
        part.clear();
        bytes[0] = 0;
      };
      // in parts of at most 256 records or 8 MiB: the chunks of every incident do not fit in memory
      from.scan(Store.Family.EVIDENCE, prefix, (k, v) -> {
        part.add(new byte[][] {k, v});
        bytes[0] += k.length + v.length;
        if (part.size() >= 256 || bytes[0] >= 8 << 20) flush.run();
        return true;
      });
      flush.run();
    }
    if (from.get(Store.Family.META, ALL) != null || moved[0] > 0) {
      // the overall total is the sum of the incidents' totals, whatever either store held before
      long[] sum = {0};
      to.scan(Store.Family.EVIDENCE, TOTAL, (k, v) -> {
        sum[0] += Store.bytesLong(v);
        return true;
      });
      to.put(Store.Family.META, ALL, Store.longBytes(sum[0]), true);
      if (from.get(Store.Family.META, ALL) != null) {
        from.delete(Store.Family.META, ALL);
        moved[0]++;
      }
    }
    return moved[0];
  }

  /** Whether {@code from} holds any evidence record {@link #moveFrom} would move. */
  public static boolean hasEvidence(Store from) {
    if (from.get(Store.Family.META, ALL) != null) return true;
    boolean[] any = {false};
    for (String prefix : PREFIXES) {
      from.scan(Store.Family.EVIDENCE, prefix, (k, v) -> {
        any[0] = true;
        return false;
      });
      if (any[0]) return true;
    }
    return false;
  }

  /** Bytes of evidence records {@link #moveFrom} would move out of {@code from} (SST estimate). */
  public static long movable(Store from) {
    return from.familySstBytes(Store.Family.EVIDENCE);
  }

  /** Makes every chunk stored so far durable (before a copy records it has read them). */
  public void sync() {
    store.syncWal();
  }

  /** Result of one chunk: the completed artifact's info when this chunk finished it. */
  public record Accepted(long storedBytes, Optional<EvidenceInfo> completed, String rejected) {}

  /**
   * Makes an agent-chosen name safe to use as a relative path: separators normalised, empty and
   * "." segments dropped; empty when the name is absolute, has ".." or control characters.
   */
  public static Optional<String> sanitize(String name) {
    if (name == null || name.isEmpty() || name.length() > 512) return Optional.empty();
    String n = name.replace('\\', '/');
    if (n.startsWith("/") || n.matches("^[A-Za-z]:.*")) return Optional.empty();
    List<String> parts = new ArrayList<>();
    for (String seg : n.split("/")) {
      if (seg.isEmpty() || seg.equals(".")) continue;
      if (seg.equals("..")) return Optional.empty();
      for (int i = 0; i < seg.length(); i++) {
        char c = seg.charAt(i);
        if (c < 0x20 || c == 0x7f) return Optional.empty();
      }
      parts.add(seg);
    }
    return parts.isEmpty() ? Optional.empty() : Optional.of(String.join("/", parts));
  }

  /** Stores one chunk (the caller checked it answers a capture request of {@code agentId}). */
  public synchronized Accepted accept(String agentId, EvidenceChunk c) {
    if (c.getDone() && c.getName().isEmpty()) return new Accepted(0, Optional.empty(), "");
    Optional<String> safe = sanitize(c.getName());
    String incident = c.getIncidentId();
    if (safe.isEmpty() || sanitize(incident).isEmpty() || incident.contains("/")) {
      return new Accepted(0, Optional.empty(), "unsafe evidence name '" + c.getName() + "'");
    }
    String base = incident + "/" + agentId + "/" + safe.get();
    long total = Store.bytesLong(store.get(Store.Family.EVIDENCE, TOTAL + incident));
    byte[] data = c.getData().toByteArray();
    boolean dropped = false;
    if (data.length > 0) {
      if (total + data.length > maxBytesPerIncident) {
        dropped = true;
      } else {
        long all = totalBytes();
        try (Store.Batch b = store.batch()) {
          b.put(Store.Family.EVIDENCE, CHUNK + base + "/" + String.format("%016x", c.getOffset()), data)
              .put(Store.Family.EVIDENCE, TOTAL + incident, Store.longBytes(total + data.length))
              .put(Store.Family.META, ALL, Store.longBytes(all + data.length))
              .commit(false);
        }
        total += data.length;
      }
    }
    if (dropped) {
      store.put(Store.Family.EVIDENCE, CUT + base, new byte[] {1}, false);
    }
    if (!c.getLast() && c.getError().isEmpty()) {
      return new Accepted(dropped ? 0 : data.length, Optional.empty(), "");
    }
    byte[] whole = read(incident, agentId, safe.get());
    boolean cut = store.get(Store.Family.EVIDENCE, CUT + base) != null;
    String sha = "sha256:" + sha256(whole);
    boolean mismatch = !c.getSha256().isEmpty() && !c.getSha256().equals(sha);
    EvidenceInfo info = EvidenceInfo.newBuilder()
        .setName(safe.get()).setKind(c.getKind()).setAgentId(agentId)
        .setSizeBytes(whole.length).setSha256(sha)
        .setTruncated(c.getTruncated() || cut || mismatch || !c.getError().isEmpty()).build();
    // synced: the core records the artifact (and ends its capture request) only after this, so
    // the chunks before it (in the same WAL) must survive a power cut too
    store.put(Store.Family.EVIDENCE, INFO + base, info.toByteArray(), true);
    return new Accepted(dropped ? 0 : data.length, Optional.of(info), "");
  }

  /** Bytes of evidence stored for every incident together. */
  public long totalBytes() {
    return Store.bytesLong(store.get(Store.Family.META, ALL));
  }

  /** Whether the artifact {@code name} of {@code agentId} under {@code incidentId} is complete. */
  public boolean completed(String incidentId, String agentId, String name) {
    Optional<String> safe = sanitize(name);
    return safe.isPresent() && store.get(Store.Family.EVIDENCE,
        INFO + incidentId + "/" + agentId + "/" + safe.get()) != null;
  }

  /** The stored bytes of one artifact, in offset order. */
  public byte[] read(String incidentId, String agentId, String name) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String prefix = CHUNK + incidentId + "/" + agentId + "/" + name + "/";
    store.scan(Store.Family.EVIDENCE, prefix, (k, v) -> {
      String rest = new String(k, StandardCharsets.UTF_8).substring(prefix.length());
      if (rest.length() == 16) out.writeBytes(v);
      return true;
    });
    return out.toByteArray();
  }

  public List<EvidenceInfo> list(String incidentId) {
    List<EvidenceInfo> out = new ArrayList<>();
    store.scan(Store.Family.EVIDENCE, INFO + incidentId + "/", (k, v) -> {
      try {
        out.add(EvidenceInfo.parseFrom(v));
      } catch (InvalidProtocolBufferException e) {
        // skip
      }
      return true;
    });
    return out;
  }

  /** Streams every stored artifact of an incident as EvidenceFile chunks. */
  public void export(String incidentId, Consumer<EvidenceFile> sink) {
    for (EvidenceInfo info : list(incidentId)) {
      String prefix = CHUNK + incidentId + "/" + info.getAgentId() + "/" + info.getName() + "/";
      List<byte[]> chunks = new ArrayList<>();
      store.scan(Store.Family.EVIDENCE, prefix, (k, v) -> {
        if (new String(k, StandardCharsets.UTF_8).length() - prefix.length() == 16) chunks.add(v);
        return true;
      });
      long offset = 0;
      String name = info.getAgentId() + "/" + info.getName();
      if (chunks.isEmpty()) {
        sink.accept(EvidenceFile.newBuilder().setName(name).setKind(info.getKind())
            .setAgentId(info.getAgentId()).setLast(true).setTotalBytes(0)
            .setSha256(info.getSha256()).build());
        continue;
      }
      for (int i = 0; i < chunks.size(); i++) {
        boolean last = i == chunks.size() - 1;
        EvidenceFile.Builder f = EvidenceFile.newBuilder().setName(name).setKind(info.getKind())
            .setAgentId(info.getAgentId()).setOffset(offset)
            .setData(ByteString.copyFrom(chunks.get(i))).setLast(last);
        if (last) f.setTotalBytes(info.getSizeBytes()).setSha256(info.getSha256());
        sink.accept(f.build());
        offset += chunks.get(i).length;
      }
    }
  }

  public void putDiff(String incidentId, String json) {
    store.put(Store.Family.EVIDENCE, DIFF + incidentId, json.getBytes(StandardCharsets.UTF_8), false);
  }

  public Optional<String> diff(String incidentId) {
    byte[] v = store.get(Store.Family.EVIDENCE, DIFF + incidentId);
    return v == null ? Optional.empty() : Optional.of(new String(v, StandardCharsets.UTF_8));
  }

  /** The golden library's SideBySide JSON of the incident's documents, stored with its diff. */
  public void putSideBySide(String incidentId, String json) {
    store.put(Store.Family.EVIDENCE, SIDE_BY_SIDE + incidentId, json.getBytes(StandardCharsets.UTF_8), false);
  }

  public Optional<String> sideBySide(String incidentId) {
    byte[] v = store.get(Store.Family.EVIDENCE, SIDE_BY_SIDE + incidentId);
    return v == null ? Optional.empty() : Optional.of(new String(v, StandardCharsets.UTF_8));
  }

  /** Removes everything stored for an incident (retention of resolved incidents). */
  public synchronized void deleteIncident(String incidentId) {
    for (String prefix : List.of(CHUNK, INFO, CUT)) {
      List<String> keys = new ArrayList<>();
      store.scan(Store.Family.EVIDENCE, prefix + incidentId + "/", (k, v) -> {
        keys.add(new String(k, StandardCharsets.UTF_8));
        return true;
      });
      for (String k : keys) store.delete(Store.Family.EVIDENCE, k);
    }
    long gone = Store.bytesLong(store.get(Store.Family.EVIDENCE, TOTAL + incidentId));
    store.delete(Store.Family.EVIDENCE, TOTAL + incidentId);
    store.delete(Store.Family.EVIDENCE, DIFF + incidentId);
    store.delete(Store.Family.EVIDENCE, SIDE_BY_SIDE + incidentId);
    if (gone > 0) {
      store.put(Store.Family.META, ALL, Store.longBytes(Math.max(0, totalBytes() - gone)), false);
    }
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
