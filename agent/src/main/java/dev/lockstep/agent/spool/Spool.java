package dev.lockstep.agent.spool;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.agent.internal.AtomicFiles;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.agent.internal.ProtoTime;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.zip.CRC32;

/**
 * The durable, bounded event spool. Every event gets the next per-agent seq and is fsync'd into a
 * segment file before anyone can read it for sending; it is deleted only after the collector acks
 * it. Invariant: seqs only grow, and an event that {@link #append} accepted stays on disk until
 * {@link #ackUpTo} covers it (compaction may replace a HEALTH sample by a newer one of the same
 * probe and target, and says so with a notice).
 *
 * <p>At the soft cap: HEALTH samples are compacted first; then new HEALTH samples are dropped
 * (counted, with a notice); GOLDEN and LOG batches are refused so the caller keeps them at the
 * source and retries; notices are always accepted. Nothing is dropped silently.
 *
 * <p>Record format: {@code [int length][int crc32][Event bytes]}; a torn tail after a crash is cut
 * off at open.
 */
public final class Spool implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Spool.class.getName());
  private static final String ACKED_FILE = "acked";
  private static final String SUFFIX = ".seg";
  private static final int HEADER = 8;
  private static final int MAX_RECORD = 8 << 20;

  /** Outcome of an append. */
  public enum Admission { ACCEPTED, REFUSED, DROPPED }

  /** What was appended: the outcome and, when accepted, the assigned seqs in order. */
  public record Appended(Admission admission, List<Long> seqs) {
    public boolean accepted() {
      return admission == Admission.ACCEPTED;
    }
  }

  private static final class Segment {
    final Path file;
    final long firstSeq;
    long lastSeq;
    long sizeBytes;
    int count;
    // read hint: the byte offset of the first record with seq > hintSeq
    long hintSeq = -1;
    long hintOffset;

    Segment(Path file, long firstSeq) {
      this.file = file;
      this.firstSeq = firstSeq;
      this.lastSeq = firstSeq - 1;
    }
  }

  private final Path dir;
  private final long capBytes;
  private final long segmentBytes;
  private final AgentMetrics metrics;
  private final Clock clock;
  private final TreeMap<Long, Segment> segments = new TreeMap<>();
  private FileChannel active;
  private Segment activeSegment;
  private long nextSeq;
  private long ackedSeq;
  // the newest decisive event (see decisive()), so the uplink can send up to it at a flood stage
  private long lastDecisiveSeq;
  private long totalBytes;
  private volatile Runnable onAppend = () -> { };
  private boolean nearCapNoticed;
  private boolean refusedNoticed;
  private long droppedInEpisode;
  private boolean closed;
  private boolean startedEmpty;
  // the newest appended events, so the uplink rarely reads back from disk (cleared on compaction)
  private static final int TAIL_EVENTS = 2048;
  private final java.util.ArrayDeque<Event> tail = new java.util.ArrayDeque<>();
  // a compaction can only free something after health samples were appended since the last one
  private boolean compactable = true;

  private Spool(Path dir, long capBytes, AgentMetrics metrics, Clock clock) {
    this.dir = dir;
    this.capBytes = capBytes;
    metrics.spoolCapBytes.set(capBytes);
    this.segmentBytes = Math.max(16 * 1024, Math.min(1 << 20, capBytes / 8));
    this.metrics = metrics;
    this.clock = clock;
  }

  /** Opens (or creates) the spool in {@code dir}, recovering from a crash. */
  public static Spool open(Path dir, long capBytes, AgentMetrics metrics, Clock clock) throws IOException {
    Files.createDirectories(dir);
    Spool s = new Spool(dir, capBytes, metrics, clock);
    s.recover();
    return s;
  }

  /**
   * True while this spool was created empty at open (no acked marker, no segments) and has not
   * been rebased: then a collector holding seqs of this agent means the agent's state was lost.
   */
  public synchronized boolean startedEmpty() {
    return startedEmpty;
  }

  private void recover() throws IOException {
    Path ackedFile = dir.resolve(ACKED_FILE);
    startedEmpty = !Files.exists(ackedFile);
    if (Files.exists(ackedFile)) {
      String t = Files.readString(ackedFile, StandardCharsets.US_ASCII).trim();
      try {
        ackedSeq = t.isEmpty() ? 0 : Long.parseLong(t);
      } catch (NumberFormatException e) {
        ackedSeq = 0; // torn after a power loss: resending is safe, the collector drops duplicates
      }
    }
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      ds.forEach(files::add);
    }
    for (Path f : files) {
      String n = f.getFileName().toString();
      long first = Long.parseLong(n.substring(0, n.length() - SUFFIX.length()));
      segments.put(first, new Segment(f, first));
    }
    long maxSeq = ackedSeq;
    for (Segment seg : new ArrayList<>(segments.values())) {
      scan(seg);
      maxSeq = Math.max(maxSeq, seg.lastSeq);
    }
    nextSeq = maxSeq + 1;
    // whole segments at or below the ack are garbage
    for (Segment seg : new ArrayList<>(segments.values())) {
      if (seg.count == 0 || seg.lastSeq <= ackedSeq) {
        if (seg != segments.lastEntry().getValue() || seg.count == 0) {
          Files.deleteIfExists(seg.file);
          segments.remove(seg.firstSeq);
        }
      }
    }
    startedEmpty = startedEmpty && nextSeq == 1;
    totalBytes = segments.values().stream().mapToLong(s -> s.sizeBytes).sum();
    if (!segments.isEmpty()) {
      activeSegment = segments.lastEntry().getValue();
      active = FileChannel.open(activeSegment.file, StandardOpenOption.WRITE);
      active.position(activeSegment.sizeBytes);
    }
    gauges();
  }

  /** Reads a segment's records, truncating a torn or corrupt tail. */
  private void scan(Segment seg) throws IOException {
    long goodEnd = 0;
    try (FileChannel ch = FileChannel.open(seg.file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = ch.size();
      ByteBuffer header = ByteBuffer.allocate(HEADER);
      while (goodEnd + HEADER <= size) {
        header.clear();
        readFully(ch, header, goodEnd);
        header.flip();
        int len = header.getInt();
        int crc = header.getInt();
        if (len <= 0 || len > MAX_RECORD || goodEnd + HEADER + len > size) {
          break;
        }
        ByteBuffer body = ByteBuffer.allocate(len);
        readFully(ch, body, goodEnd + HEADER);
        CRC32 c = new CRC32();
        c.update(body.array());
        if ((int) c.getValue() != crc) {
          break;
        }
        Event e;
        try {
          e = Event.parseFrom(body.array());
        } catch (InvalidProtocolBufferException ex) {
          break;
        }
        seg.lastSeq = e.getSeq();
        seg.count++;
        if (decisive(e)) lastDecisiveSeq = Math.max(lastDecisiveSeq, e.getSeq());
        goodEnd += HEADER + len;
      }
      if (goodEnd < size) {
        LOG.log(System.Logger.Level.WARNING, "spool: cut torn tail of " + seg.file.getFileName() + " at byte " + goodEnd + " of " + size);
        ch.truncate(goodEnd);
        ch.force(true);
      }
    }
    seg.sizeBytes = goodEnd;
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int n = ch.read(b, pos + b.position());
      if (n < 0) {
        throw new IOException("unexpected end of spool segment");
      }
    }
  }

  /** Called (outside the lock) after every accepted append; the uplink wakes on it. */
  public void onAppend(Runnable r) {
    this.onAppend = r;
  }

  /**
   * Appends events (their seq is assigned here) in one fsync. A batch is one kind: the first
   * event's body decides the cap policy.
   */
  public Appended append(List<Event> events) throws IOException {
    if (events.isEmpty()) {
      return new Appended(Admission.ACCEPTED, List.of());
    }
    Appended result;
    synchronized (this) {
      result = appendLocked(events);
    }
    if (result.accepted()) {
      onAppend.run();
    }
    return result;
  }

  public Appended append(Event event) throws IOException {
    return append(List.of(event));
  }

  private Appended appendLocked(List<Event> events) throws IOException {
    if (closed) {
      throw new IOException("spool is closed");
    }
    Event.BodyCase kind = events.get(0).getBodyCase();
    List<byte[]> bodies = new ArrayList<>(events.size());
    long need = 0;
    for (Event e : events) {
      // the seq field adds at most 11 bytes (tag + varint)
      need += HEADER + e.getSerializedSize() + 11;
    }
    if (totalBytes + need > capBytes && kind != Event.BodyCase.NOTICE) {
      if (kind == Event.BodyCase.HEALTH) {
        compact(events);
      } else if (compactable) {
        compact(List.of());
      }
      if (totalBytes + need > capBytes) {
        if (kind == Event.BodyCase.HEALTH) {
          droppedInEpisode += events.size();
          metrics.eventsDropped.labelValues("health").inc(events.size());
          if (droppedInEpisode == events.size()) {
            noticeLocked(AgentNotice.Kind.EVENTS_DROPPED, "spool at cap " + capBytes
                + " bytes: new health samples are dropped until the collector acks", events.size());
          }
          return new Appended(Admission.DROPPED, List.of());
        }
        metrics.intakeRefused.inc();
        if (!refusedNoticed) {
          refusedNoticed = true;
          noticeLocked(AgentNotice.Kind.SPOOL_NEAR_CAP, "spool full at " + capBytes
              + " bytes: golden/log intake paused until the collector acks (nothing dropped)", 0);
        }
        return new Appended(Admission.REFUSED, List.of());
      }
    }
    if (droppedInEpisode > 0 && kind == Event.BodyCase.HEALTH) {
      long n = droppedInEpisode;
      droppedInEpisode = 0;
      noticeLocked(AgentNotice.Kind.EVENTS_DROPPED, n + " health samples were dropped at the spool cap", n);
    }
    if (kind != Event.BodyCase.NOTICE) {
      refusedNoticed = false;
    }
    List<Event> sequenced = new ArrayList<>(events.size());
    for (Event e : events) {
      Event withSeq = e.toBuilder().setSeq(nextSeq + sequenced.size()).build();
      sequenced.add(withSeq);
      bodies.add(withSeq.toByteArray());
    }
    writeLocked(bodies);
    List<Long> seqs = new ArrayList<>(sequenced.size());
    for (Event e : sequenced) {
      remember(e);
      seqs.add(e.getSeq());
      if (decisive(e)) lastDecisiveSeq = e.getSeq();
    }
    if (kind == Event.BodyCase.HEALTH) {
      compactable = true;
    }
    for (Event e : events) {
      metrics.eventsSpooled.labelValues(kindLabel(e.getBodyCase())).inc();
    }
    if (!nearCapNoticed && totalBytes > capBytes * 9 / 10) {
      nearCapNoticed = true;
      noticeLocked(AgentNotice.Kind.SPOOL_NEAR_CAP, "spool above 90% of its cap (" + totalBytes + " of " + capBytes + " bytes)", 0);
    } else if (nearCapNoticed && totalBytes < capBytes * 8 / 10) {
      nearCapNoticed = false;
    }
    return new Appended(Admission.ACCEPTED, seqs);
  }

  private List<Long> writeLocked(List<byte[]> bodies) throws IOException {
    if (active == null || activeSegment.sizeBytes >= segmentBytes) {
      roll();
    }
    long need = 0;
    for (byte[] b : bodies) {
      need += HEADER + b.length;
    }
    ByteBuffer buf = ByteBuffer.allocate((int) need);
    List<Long> seqs = new ArrayList<>(bodies.size());
    for (byte[] b : bodies) {
      CRC32 c = new CRC32();
      c.update(b);
      buf.putInt(b.length).putInt((int) c.getValue()).put(b);
      seqs.add(nextSeq++);
    }
    buf.flip();
    long start = activeSegment.sizeBytes;
    try {
      while (buf.hasRemaining()) {
        active.write(buf);
      }
      active.force(false);
    } catch (IOException e) {
      // leave no half record behind that a later append would follow
      nextSeq -= bodies.size();
      active.truncate(start);
      active.position(start);
      throw e;
    }
    activeSegment.sizeBytes += need;
    activeSegment.count += bodies.size();
    activeSegment.lastSeq = nextSeq - 1;
    totalBytes += need;
    gauges();
    return seqs;
  }

  private void roll() throws IOException {
    if (active != null) {
      active.close();
    }
    Path f = dir.resolve(String.format("%020d%s", nextSeq, SUFFIX));
    active = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    active.truncate(0);
    activeSegment = new Segment(f, nextSeq);
    segments.put(nextSeq, activeSegment);
    AtomicFiles.syncDir(dir);
  }

  private void remember(Event e) {
    tail.addLast(e);
    if (tail.size() > TAIL_EVENTS) {
      tail.removeFirst();
    }
  }

  private void noticeLocked(AgentNotice.Kind kind, String message, long count) throws IOException {
    LOG.log(System.Logger.Level.WARNING, "spool: " + message);
    Event e = Event.newBuilder().setSeq(nextSeq).setObservedAt(ProtoTime.of(clock.instant()))
        .setNotice(AgentNotice.newBuilder().setKind(kind).setMessage(message).setCount(count)).build();
    writeLocked(List.of(e.toByteArray()));
    remember(e);
    metrics.eventsSpooled.labelValues("notice").inc();
  }

  /**
   * Removes HEALTH samples that a newer sample of the same probe and target supersedes (the
   * incoming ones count as newest), and records below the ack. Rewrites segments atomically.
   */
  private void compact(List<Event> incoming) throws IOException {
    compactable = false;
    tail.clear();
    Map<String, Long> newest = new HashMap<>();
    for (Segment seg : segments.values()) {
      forEachRecord(seg, 0, (off, e) -> {
        if (e.getSeq() > ackedSeq && e.hasHealth()) {
          newest.merge(healthKey(e), e.getSeq(), Math::max);
        }
        return true;
      });
    }
    for (Event e : incoming) {
      if (e.hasHealth()) {
        newest.put(healthKey(e), Long.MAX_VALUE);
      }
    }
    long removed = 0;
    for (Segment seg : new ArrayList<>(segments.values())) {
      List<byte[]> keep = new ArrayList<>();
      long[] drop = {0};
      forEachRecord(seg, 0, (off, e) -> {
        boolean superseded = e.hasHealth() && newest.getOrDefault(healthKey(e), 0L) > e.getSeq();
        if (e.getSeq() <= ackedSeq || superseded) {
          drop[0]++;
        } else {
          keep.add(e.toByteArray());
        }
        return true;
      });
      if (drop[0] == 0) {
        continue;
      }
      removed += drop[0];
      boolean isActive = seg == activeSegment;
      if (isActive) {
        active.close();
        active = null;
      }
      ByteBuffer buf = ByteBuffer.allocate((int) keep.stream().mapToLong(b -> HEADER + b.length).sum());
      for (byte[] b : keep) {
        CRC32 c = new CRC32();
        c.update(b);
        buf.putInt(b.length).putInt((int) c.getValue()).put(b);
      }
      AtomicFiles.write(seg.file, buf.array());
      totalBytes -= seg.sizeBytes;
      seg.sizeBytes = buf.capacity();
      seg.count = keep.size();
      seg.hintSeq = -1;
      totalBytes += seg.sizeBytes;
      if (isActive) {
        active = FileChannel.open(seg.file, StandardOpenOption.WRITE);
        active.position(seg.sizeBytes);
      }
    }
    if (removed > 0) {
      metrics.eventsDropped.labelValues("health_compacted").inc(removed);
      noticeLocked(AgentNotice.Kind.SPOOL_COMPACTED, "spool at cap: " + removed
          + " older health samples replaced by the newest of their probe", removed);
    }
    gauges();
  }

  private static String healthKey(Event e) {
    return e.getHealth().getProbe() + "\u0000" + e.getHealth().getTarget();
  }

  private interface RecordVisitor {
    /** Returns false to stop. */
    boolean visit(long offset, Event e) throws IOException;
  }

  private void forEachRecord(Segment seg, long fromOffset, RecordVisitor v) throws IOException {
    try (FileChannel ch = FileChannel.open(seg.file, StandardOpenOption.READ)) {
      long pos = fromOffset;
      long end = seg.sizeBytes;
      ByteBuffer header = ByteBuffer.allocate(HEADER);
      while (pos + HEADER <= end) {
        header.clear();
        readFully(ch, header, pos);
        header.flip();
        int len = header.getInt();
        header.getInt();
        ByteBuffer body = ByteBuffer.allocate(len);
        readFully(ch, body, pos + HEADER);
        Event e = Event.parseFrom(body.array());
        if (!v.visit(pos, e)) {
          return;
        }
        pos += HEADER + len;
      }
    } catch (NoSuchFileException e) {
      // deleted by an ack meanwhile
    }
  }

  /** Up to maxEvents spooled events with seq > afterSeq, at most ~maxBytes of them, in seq order. */
  public synchronized List<Event> readAfter(long afterSeq, int maxEvents, long maxBytes) throws IOException {
    List<Event> out = new ArrayList<>();
    if (!tail.isEmpty() && tail.peekFirst().getSeq() <= afterSeq + 1) {
      long bytes = 0;
      for (Event e : tail) {
        if (e.getSeq() <= afterSeq) {
          continue;
        }
        int size = e.getSerializedSize();
        if (out.size() >= maxEvents || (!out.isEmpty() && bytes + size > maxBytes)) {
          break;
        }
        out.add(e);
        bytes += size + 8;
      }
      return out;
    }
    long[] bytes = {0};
    for (Segment seg : segments.tailMap(segments.floorKey(afterSeq + 1) == null ? Long.MIN_VALUE
        : segments.floorKey(afterSeq + 1), true).values()) {
      if (seg.lastSeq <= afterSeq) {
        continue;
      }
      long from = seg.hintSeq >= 0 && seg.hintSeq <= afterSeq ? seg.hintOffset : 0;
      boolean[] full = {false};
      forEachRecord(seg, from, (off, e) -> {
        if (e.getSeq() <= afterSeq) {
          return true;
        }
        int size = e.getSerializedSize();
        if (out.size() >= maxEvents || (!out.isEmpty() && bytes[0] + size > maxBytes)) {
          full[0] = true;
          return false;
        }
        out.add(e);
        bytes[0] += size + 8;
        // next read will start after this record
        seg.hintSeq = e.getSeq();
        seg.hintOffset = off + HEADER + size;
        return true;
      });
      if (full[0]) {
        break;
      }
    }
    return out;
  }

  /**
   * The collector already holds seqs up to {@code collectorSeq} that this spool never assigned
   * (its state was lost, e.g. the state dir was wiped): move the seq space above it. Pending events
   * are re-sequenced after it, in order, so the collector does not drop them as duplicates.
   */
  public synchronized void rebaseAbove(long collectorSeq) throws IOException {
    startedEmpty = false;
    List<Event> pending = new ArrayList<>();
    for (Segment seg : segments.values()) {
      forEachRecord(seg, 0, (off, e) -> {
        if (e.getSeq() > ackedSeq) {
          pending.add(e);
        }
        return true;
      });
    }
    LOG.log(System.Logger.Level.WARNING, "spool: the collector holds seq " + collectorSeq + " but this spool only reached "
        + (nextSeq - 1) + " (state lost?); re-sequencing " + pending.size() + " pending events above it");
    if (active != null) {
      active.close();
      active = null;
    }
    for (Segment seg : segments.values()) {
      Files.deleteIfExists(seg.file);
    }
    segments.clear();
    activeSegment = null;
    tail.clear();
    totalBytes = 0;
    ackedSeq = collectorSeq;
    nextSeq = collectorSeq + 1;
    AtomicFiles.write(dir.resolve(ACKED_FILE), Long.toString(ackedSeq).getBytes(StandardCharsets.US_ASCII));
    if (!pending.isEmpty()) {
      List<byte[]> bodies = new ArrayList<>();
      for (Event e : pending) {
        bodies.add(e.toBuilder().setSeq(nextSeq + bodies.size()).build().toByteArray());
      }
      List<Long> seqs = writeLocked(bodies);
      for (int i = 0; i < pending.size(); i++) {
        remember(pending.get(i).toBuilder().setSeq(seqs.get(i)).build());
      }
    }
    gauges();
  }

  /** Visits every event still on disk, acked or not (for reconciliation after a restart). */
  public synchronized void forEachRetained(Consumer<Event> c) throws IOException {
    for (Segment seg : segments.values()) {
      forEachRecord(seg, 0, (off, e) -> {
        c.accept(e);
        return true;
      });
    }
  }

  /** The collector stored everything up to seq: persist that, then delete covered segments. */
  public synchronized void ackUpTo(long seq) throws IOException {
    if (seq <= ackedSeq || closed) {
      return;
    }
    long newly = 0;
    seq = Math.min(seq, nextSeq - 1);
    if (seq <= ackedSeq) {
      return;
    }
    for (Segment seg : segments.values()) {
      if (seg.firstSeq > seq) {
        break;
      }
      newly += countBetween(seg, ackedSeq, seq);
    }
    ackedSeq = seq;
    // not fsync'd: an ack marker lost to a power cut only means resending what the collector
    // already holds, and it drops duplicates by (agent, seq)
    Path tmp = dir.resolve("." + ACKED_FILE + ".tmp");
    Files.write(tmp, Long.toString(seq).getBytes(StandardCharsets.US_ASCII));
    Files.move(tmp, dir.resolve(ACKED_FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    for (Segment seg : new ArrayList<>(segments.values())) {
      if (seg.lastSeq <= seq && seg != activeSegment) {
        Files.deleteIfExists(seg.file);
        segments.remove(seg.firstSeq);
        totalBytes -= seg.sizeBytes;
      }
    }
    // the active segment, once fully acked and big enough, is rolled so it can go
    if (activeSegment != null && activeSegment.lastSeq <= seq && activeSegment.sizeBytes >= segmentBytes) {
      active.close();
      active = null;
      Files.deleteIfExists(activeSegment.file);
      segments.remove(activeSegment.firstSeq);
      totalBytes -= activeSegment.sizeBytes;
      activeSegment = null;
    }
    metrics.eventsAcked.inc(newly);
    gauges();
  }

  private long countBetween(Segment seg, long exclusiveFrom, long inclusiveTo) {
    if (seg.count == 0) {
      return 0;
    }
    // seqs within a segment are increasing but may have gaps after compaction; estimate by span
    long lo = Math.max(seg.firstSeq, exclusiveFrom + 1);
    long hi = Math.min(seg.lastSeq, inclusiveTo);
    return Math.max(0, Math.min(seg.count, hi - lo + 1));
  }

  private void gauges() {
    metrics.spoolBytes.set(totalBytes);
    metrics.spoolPending.set(Math.max(0, nextSeq - 1 - ackedSeq));
    metrics.ackedSeq.set(ackedSeq);
  }

  public synchronized long lastAckedSeq() {
    return ackedSeq;
  }

  /** The seq of the newest decisive event spooled (0 if none). */
  public synchronized long lastDecisiveSeq() {
    return lastDecisiveSeq;
  }

  /**
   * Events that can stop the fleet: golden reports and log lines counting mismatches. The
   * collector's flood stage still stores them (and the events before them); docs/protocol.md.
   */
  public static boolean decisive(Event e) {
    return e.hasGolden() || (e.hasLogMatch()
        && e.getLogMatch().getKind() == dev.lockstep.proto.v1.LogMatch.Kind.MISMATCH_COUNT);
  }

  /** The highest seq assigned so far (0 if none). */
  public synchronized long lastSeq() {
    return nextSeq - 1;
  }

  public synchronized long sizeBytes() {
    return totalBytes;
  }

  public long capBytes() {
    return capBytes;
  }

  static String kindLabel(Event.BodyCase c) {
    return switch (c) {
      case HEALTH -> "health";
      case LOG_MATCH -> "log";
      case GOLDEN -> "golden";
      case NOTICE -> "notice";
      default -> "other";
    };
  }

  @Override
  public synchronized void close() throws IOException {
    closed = true;
    if (active != null) {
      active.close();
      active = null;
    }
  }
}
