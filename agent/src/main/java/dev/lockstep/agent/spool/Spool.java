package dev.lockstep.agent.spool;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.agent.internal.AtomicFiles;
import dev.lockstep.agent.internal.CrashPoint;
import dev.lockstep.agent.internal.ProtoTime;
import dev.lockstep.agent.internal.Text;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.proto.lite.v1.AgentNotice;
import dev.lockstep.proto.lite.v1.Event;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The durable, bounded event spool. Every event gets the next per-agent seq and is fsync'd into a
 * segment file before anyone can read it for sending; it is deleted only after the collector acks
 * it. Invariant: seqs only grow, and an event that {@link #append} accepted stays on disk until
 * {@link #ackUpTo} covers it, with two announced exceptions: compaction may replace a HEALTH
 * sample by a newer one of the same probe and target that is already on disk, and a record that
 * fails its CRC is skipped (both with a notice and counted).
 *
 * <p>At the soft cap: HEALTH samples are compacted first; a new HEALTH sample that supersedes one
 * on disk is written (briefly above the cap) and then the old one compacted away, so a probe never
 * loses its newest sample; other new HEALTH samples are dropped (counted, with a notice); GOLDEN
 * and LOG batches are refused so the caller keeps them at the source and retries; notices are
 * always accepted. Nothing is dropped silently.
 *
 * <p>Crash safety: records are {@code [int length][int crc32][Event bytes]} ({@link
 * SegmentReader}); a torn tail after a crash is cut off at open, a corrupt record elsewhere is
 * skipped. Compaction rewrites one segment at a time atomically. {@link #rebaseAbove} writes the
 * re-sequenced events to a new file first and commits by renaming it; open finishes a committed
 * rebase, so a kill at any point leaves either the old spool or the new one, never neither.
 */
public final class Spool implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Spool.class.getName());
  private static final String ACKED_FILE = "acked";
  private static final String SUFFIX = ".seg";
  private static final String REBASE_TMP = "rebase.tmp";
  private static final String REBASE_PREFIX = "rebase-";
  private static final String REBASE_SUFFIX = ".new";
  private static final int HEADER = SegmentReader.HEADER;
  // the newest appended records not acked yet, so the uplink rarely reads back from disk
  private static final int TAIL_RECORDS = 4096;
  private static final long TAIL_BYTES = 1 << 20;
  // the ack marker is replaced at most once a second, and at close (each replacement is a file
  // creation and a rename: one per ack measured ~0.3 % of a core at 100 golden files/s)
  private static final long ACK_MARKER_EVERY_NANOS = 1_000_000_000L;

  /** Outcome of an append. */
  public enum Admission { ACCEPTED, REFUSED, DROPPED }

  /** What was appended: the outcome and, when accepted, the assigned seqs in order. */
  public record Appended(Admission admission, List<Long> seqs) {
    public boolean accepted() {
      return admission == Admission.ACCEPTED;
    }
  }

  /** One spooled event as stored and sent: its seq and its Event bytes. */
  public record Record(long seq, byte[] body) {
    public Event event() throws InvalidProtocolBufferException {
      return Event.parseFrom(body);
    }
  }

  private final Path dir;
  private final long capBytes;
  private final long segmentBytes;
  private final AgentMetrics metrics;
  private final Clock clock;
  private final TreeMap<Long, Segment> segments = new TreeMap<>();
  private final ArrayDeque<Record> tail = new ArrayDeque<>();
  private long tailBytes;
  private FileChannel active;
  private Segment activeSegment;
  private long nextSeq;
  private long ackedSeq;
  // the seq the ack marker on disk holds, and when it was last replaced
  private long ackMarkerSeq;
  private long ackMarkerNanos = System.nanoTime() - ACK_MARKER_EVERY_NANOS;
  // the newest decisive event (see decisive()), so the uplink can send up to it at a flood stage
  private long lastDecisiveSeq;
  private long totalBytes;
  private volatile Runnable onAppend = () -> { };
  private boolean nearCapNoticed;
  private boolean refusedNoticed;
  private long droppedInEpisode;
  private boolean closed;
  private boolean startedEmpty;
  // per probe and target: the seq of its newest pending HEALTH sample and that sample's segment
  private final Map<String, long[]> healthNewest = new HashMap<>();
  private final List<String> openNotices = new ArrayList<>();

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
    synchronized (s) {
      s.recover();
    }
    return s;
  }

  /**
   * True while this spool was created empty at open (no acked marker, no segments) and has not
   * been rebased: then a collector holding seqs of this agent means the agent's state was lost.
   */
  public synchronized boolean startedEmpty() {
    return startedEmpty;
  }

  // ------------------------------------------------------------------------------ open

  private void recover() throws IOException {
    finishInterruptedRebase();
    Path ackedFile = dir.resolve(ACKED_FILE);
    startedEmpty = !Files.exists(ackedFile);
    if (!startedEmpty) {
      String t = Files.readString(ackedFile, StandardCharsets.US_ASCII).trim();
      try {
        ackedSeq = t.isEmpty() ? 0 : Long.parseLong(t);
      } catch (NumberFormatException e) {
        ackedSeq = 0; // torn after a power loss: resending is safe, the collector drops duplicates
      }
      ackMarkerSeq = ackedSeq;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      for (Path f : ds) {
        String n = f.getFileName().toString();
        try {
          long first = Long.parseLong(n.substring(0, n.length() - SUFFIX.length()));
          segments.put(first, new Segment(f, first));
        } catch (NumberFormatException e) {
          LOG.log(System.Logger.Level.WARNING, "spool: ignoring " + f + " (not a segment name)");
        }
      }
    }
    long maxSeq = ackedSeq;
    Segment newest = segments.isEmpty() ? null : segments.lastEntry().getValue();
    for (Segment seg : new ArrayList<>(segments.values())) {
      scan(seg, seg == newest);
      maxSeq = Math.max(maxSeq, seg.lastSeq);
    }
    nextSeq = maxSeq + 1;
    // whole segments at or below the ack are garbage
    for (Segment seg : new ArrayList<>(segments.values())) {
      if ((seg.count == 0 || seg.lastSeq <= ackedSeq) && (seg != newest || seg.count == 0)) {
        Files.deleteIfExists(seg.file);
        segments.remove(seg.firstSeq);
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
    for (String m : openNotices) {
      noticeLocked(AgentNotice.Kind.SPOOL_CORRUPT, m, 1);
    }
    openNotices.clear();
  }

  /** Reads a segment's records: counts, last seq, decisive events; cuts a torn tail. */
  private void scan(Segment seg, boolean newest) throws IOException {
    long size = Files.size(seg.file);
    long goodEnd;
    try (SegmentReader r = new SegmentReader(seg, 0, size, (s, from, to, atEnd, seqBefore) -> {
      if (!atEnd || !newest) {
        metrics.spoolCorrupt.inc();
        metrics.eventsDropped.labelValues("corrupt").inc();
        openNotices.add(corruptMessage(s, from, to, seqBefore));
      }
    })) {
      SegmentReader.Raw raw;
      goodEnd = 0;
      while ((raw = r.next()) != null) {
        if (seg.count == 0) {
          seg.firstRecordSeq = raw.seq();
        }
        seg.lastSeq = raw.seq();
        seg.count++;
        goodEnd = raw.end();
        Event e = Event.parseFrom(raw.body());
        if (decisive(e)) {
          lastDecisiveSeq = Math.max(lastDecisiveSeq, raw.seq());
        }
        if (e.hasHealth() && raw.seq() > ackedSeq) {
          newestHealth(healthKey(e), raw.seq(), seg);
        }
      }
    }
    seg.dropBadFrom(goodEnd);
    if (goodEnd < size) {
      if (newest) {
        LOG.log(System.Logger.Level.WARNING, "spool: cut torn tail of " + seg.file.getFileName() + " at byte "
            + goodEnd + " of " + size);
      }
      try (FileChannel ch = FileChannel.open(seg.file, StandardOpenOption.WRITE)) {
        ch.truncate(goodEnd);
        ch.force(true);
      }
    }
    seg.sizeBytes = goodEnd;
  }

  private String corruptMessage(Segment s, long from, long to, long seqBefore) {
    return "spool: " + (to - from) + " corrupt bytes at offset " + from + " of segment " + s.file.getFileName()
        + " (after seq " + seqBefore + ") failed their checksum and were skipped; the events in them are lost";
  }

  /** Completes a rebase that was committed (its new file renamed into place) before a crash. */
  private void finishInterruptedRebase() throws IOException {
    Files.deleteIfExists(dir.resolve(REBASE_TMP));
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, REBASE_PREFIX + "*" + REBASE_SUFFIX)) {
      for (Path committed : ds) {
        String n = committed.getFileName().toString();
        long collectorSeq = Long.parseLong(n.substring(REBASE_PREFIX.length(), n.length() - REBASE_SUFFIX.length()));
        LOG.log(System.Logger.Level.WARNING, "spool: finishing a rebase above seq " + collectorSeq
            + " that a crash interrupted");
        swapInRebase(committed, collectorSeq);
      }
    }
  }

  // ------------------------------------------------------------------------------ append

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
    List<byte[]> serialised = new ArrayList<>(events.size());
    long need = 0;
    for (Event e : events) {
      byte[] b = (e.getSeq() == 0 ? e : e.toBuilder().clearSeq().build()).toByteArray();
      serialised.add(b);
      need += HEADER + b.length + 11; // the seq field adds at most 11 bytes
    }
    boolean replacing = false;
    if (totalBytes + need > capBytes && kind != Event.BodyCase.NOTICE) {
      if (compactable()) {
        compact();
      }
      if (totalBytes + need > capBytes) {
        if (kind != Event.BodyCase.HEALTH) {
          metrics.intakeRefused.inc();
          if (!refusedNoticed) {
            refusedNoticed = true;
            noticeLocked(AgentNotice.Kind.SPOOL_NEAR_CAP, "spool full at " + capBytes
                + " bytes: golden/log intake paused until the collector acks (nothing dropped)", 0);
          }
          return new Appended(Admission.REFUSED, List.of());
        }
        replacing = supersedesPending(events);
        if (!replacing) {
          droppedInEpisode += events.size();
          metrics.eventsDropped.labelValues("health").inc(events.size());
          if (droppedInEpisode == events.size()) {
            noticeLocked(AgentNotice.Kind.EVENTS_DROPPED, "spool at cap " + capBytes
                + " bytes: new health samples of probes without one spooled are dropped until the collector acks",
                events.size());
          }
          return new Appended(Admission.DROPPED, List.of());
        }
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
    long first = nextSeq;
    List<byte[]> bodies = new ArrayList<>(events.size());
    for (int i = 0; i < serialised.size(); i++) {
      bodies.add(Records.withSeq(first + i, serialised.get(i)));
    }
    writeLocked(bodies);
    List<Long> seqs = new ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      long seq = first + i;
      remember(new Record(seq, bodies.get(i)));
      seqs.add(seq);
      Event e = events.get(i);
      if (decisive(e)) {
        lastDecisiveSeq = seq;
      }
      if (e.hasHealth()) {
        newestHealth(healthKey(e), seq, activeSegment);
      }
      metrics.eventsSpooled.labelValues(kindLabel(e.getBodyCase())).inc();
    }
    if (replacing) {
      // the new samples are durable: only now may the ones they replace go
      compact();
    }
    if (!nearCapNoticed && totalBytes > capBytes * 9 / 10) {
      nearCapNoticed = true;
      noticeLocked(AgentNotice.Kind.SPOOL_NEAR_CAP, "spool above 90% of its cap (" + totalBytes + " of " + capBytes + " bytes)", 0);
    } else if (nearCapNoticed && totalBytes < capBytes * 8 / 10) {
      nearCapNoticed = false;
    }
    return new Appended(Admission.ACCEPTED, seqs);
  }

  /** Whether every incoming sample has a pending sample of its probe on disk that it replaces. */
  private boolean supersedesPending(List<Event> incoming) {
    for (Event e : incoming) {
      if (!e.hasHealth() || !healthNewest.containsKey(healthKey(e))) {
        return false;
      }
    }
    return true;
  }

  /** Records seq (in seg) as the newest pending sample of key; the one it replaces is superseded. */
  private void newestHealth(String key, long seq, Segment seg) {
    long[] prev = healthNewest.put(key, new long[] {seq, seg.firstSeq});
    if (prev != null && prev[0] > ackedSeq) {
      Segment old = segments.get(prev[1]);
      if (old != null) {
        old.superseded++;
      }
    }
  }

  /** Writes complete records (bodies carry their seqs, which must be nextSeq, nextSeq+1, ...). */
  private void writeLocked(List<byte[]> bodies) throws IOException {
    if (active == null || activeSegment.sizeBytes >= segmentBytes) {
      roll();
    }
    ByteBuffer buf = encode(bodies);
    long need = buf.remaining();
    long start = activeSegment.sizeBytes;
    try {
      while (buf.hasRemaining()) {
        active.write(buf);
      }
      active.force(false);
    } catch (IOException e) {
      // leave no half record behind that a later append would follow
      active.truncate(start);
      active.position(start);
      throw e;
    }
    if (activeSegment.count == 0) {
      activeSegment.firstRecordSeq = nextSeq;
    }
    nextSeq += bodies.size();
    activeSegment.sizeBytes += need;
    activeSegment.count += bodies.size();
    activeSegment.lastSeq = nextSeq - 1;
    totalBytes += need;
    gauges();
  }

  private static ByteBuffer encode(List<byte[]> bodies) {
    long need = 0;
    for (byte[] b : bodies) {
      need += HEADER + b.length;
    }
    ByteBuffer buf = ByteBuffer.allocate((int) need);
    for (byte[] b : bodies) {
      buf.putInt(b.length).putInt(SegmentReader.crc(b, 0, b.length)).put(b);
    }
    return buf.flip();
  }

  private void roll() throws IOException {
    if (active != null) {
      active.close();
    }
    Path f = segmentFile(nextSeq);
    active = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    active.truncate(0);
    activeSegment = new Segment(f, nextSeq);
    segments.put(nextSeq, activeSegment);
    AtomicFiles.syncDir(dir);
  }

  private Path segmentFile(long firstSeq) {
    return dir.resolve(Text.zeroPadded(firstSeq, 20) + SUFFIX);
  }

  private void remember(Record r) {
    tail.addLast(r);
    tailBytes += r.body().length;
    while (tail.size() > TAIL_RECORDS || tailBytes > TAIL_BYTES) {
      tailBytes -= tail.removeFirst().body().length;
    }
  }

  /** How many records the in-memory tail holds (for tests). */
  synchronized int tailRecords() {
    return tail.size();
  }

  private void forgetTail() {
    tail.clear();
    tailBytes = 0;
  }

  private void noticeLocked(AgentNotice.Kind kind, String message, long count) throws IOException {
    LOG.log(System.Logger.Level.WARNING, "spool: " + message);
    byte[] body = Records.withSeq(nextSeq, Event.newBuilder().setObservedAt(ProtoTime.of(clock.instant()))
        .setNotice(AgentNotice.newBuilder().setKind(kind).setMessage(message).setCount(count)).build().toByteArray());
    long seq = nextSeq;
    writeLocked(List.of(body));
    remember(new Record(seq, body));
    metrics.eventsSpooled.labelValues("notice").inc();
  }

  // ------------------------------------------------------------------------------ reading

  /** Visits every valid record of a segment from an offset; false from the visitor stops. */
  private interface Visitor {
    boolean visit(SegmentReader.Raw r) throws IOException;
  }

  private void forEachRecord(Segment seg, long fromOffset, Visitor v) throws IOException {
    try (SegmentReader r = new SegmentReader(seg, fromOffset, seg.sizeBytes, this::corruptFound)) {
      SegmentReader.Raw raw;
      while ((raw = r.next()) != null) {
        if (!v.visit(raw)) {
          return;
        }
      }
    } catch (NoSuchFileException e) {
      // deleted by an ack meanwhile
    }
  }

  /** A record that was fine when written fails its CRC now: skip it, say so, count it. */
  private void corruptFound(Segment seg, long from, long to, boolean atEnd, long seqBefore) throws IOException {
    metrics.spoolCorrupt.inc();
    metrics.eventsDropped.labelValues("corrupt").inc();
    noticeLocked(AgentNotice.Kind.SPOOL_CORRUPT, corruptMessage(seg, from, to, seqBefore), 1);
  }

  /** Up to maxEvents spooled events with seq > afterSeq, at most ~maxBytes of them, in seq order. */
  public synchronized List<Record> readAfter(long afterSeq, int maxEvents, long maxBytes) throws IOException {
    List<Record> out = new ArrayList<>();
    if (afterSeq >= nextSeq - 1) {
      return out;
    }
    if (!tail.isEmpty() && tail.peekFirst().seq() <= afterSeq + 1) {
      long bytes = 0;
      for (Record r : tail) {
        if (r.seq() <= afterSeq) {
          continue;
        }
        if (out.size() >= maxEvents || (!out.isEmpty() && bytes + r.body().length > maxBytes)) {
          break;
        }
        out.add(r);
        bytes += r.body().length + 8;
      }
      return out;
    }
    long[] bytes = {0};
    Long from = segments.floorKey(afterSeq + 1);
    for (Segment seg : segments.tailMap(from == null ? Long.MIN_VALUE : from, true).values()) {
      if (seg.lastSeq <= afterSeq) {
        continue;
      }
      long start = seg.hintSeq >= 0 && seg.hintSeq <= afterSeq ? seg.hintOffset : 0;
      boolean[] full = {false};
      forEachRecord(seg, start, raw -> {
        if (raw.seq() <= afterSeq) {
          return true;
        }
        int size = raw.body().length;
        if (out.size() >= maxEvents || (!out.isEmpty() && bytes[0] + size > maxBytes)) {
          full[0] = true;
          return false;
        }
        out.add(new Record(raw.seq(), raw.body()));
        bytes[0] += size + 8;
        // the next read starts after this record
        seg.hintSeq = raw.seq();
        seg.hintOffset = raw.end();
        return true;
      });
      if (full[0]) {
        break;
      }
    }
    return out;
  }

  /** Visits every event still on disk, acked or not (for reconciliation after a restart). */
  public synchronized void forEachRetained(Consumer<Event> c) throws IOException {
    for (Segment seg : new ArrayList<>(segments.values())) {
      forEachRecord(seg, 0, raw -> {
        c.accept(Event.parseFrom(raw.body()));
        return true;
      });
    }
  }

  // ------------------------------------------------------------------------------ compaction

  /** Whether a compaction would free something: superseded samples, or acked records left in a segment. */
  private boolean compactable() {
    for (Segment seg : segments.values()) {
      if (seg.superseded > 0 || seg.holdsAcked(ackedSeq) || seg.hasBad()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Removes records at or below the ack and HEALTH samples that a newer pending sample of the same
   * probe and target (already on disk) supersedes, rewriting each affected segment atomically, one
   * at a time: a crash between two leaves every segment whole and every probe's newest sample in
   * place.
   */
  private void compact() throws IOException {
    long removedHealth = 0;
    Set<Long> removed = new HashSet<>();
    for (Segment seg : new ArrayList<>(segments.values())) {
      if (seg.superseded == 0 && !seg.holdsAcked(ackedSeq) && !seg.hasBad()) {
        continue;
      }
      List<byte[]> keep = new ArrayList<>();
      long[] dropHealth = {0};
      forEachRecord(seg, 0, raw -> {
        boolean superseded = false;
        if (raw.seq() > ackedSeq && isHealth(raw.body())) {
          long[] newest = healthNewest.get(healthKey(Event.parseFrom(raw.body())));
          superseded = newest != null && newest[0] > raw.seq();
        }
        if (raw.seq() <= ackedSeq || superseded) {
          removed.add(raw.seq());
          if (superseded) {
            dropHealth[0]++;
          }
        } else {
          keep.add(raw.body());
        }
        return true;
      });
      removedHealth += dropHealth[0];
      rewrite(seg, keep);
      CrashPoint.reach("spool.compact.segment-rewritten");
    }
    if (!removed.isEmpty()) {
      tail.removeIf(r -> removed.contains(r.seq()));
      tailBytes = tail.stream().mapToLong(r -> r.body().length).sum();
    }
    if (removedHealth > 0) {
      metrics.eventsDropped.labelValues("health_compacted").inc(removedHealth);
      noticeLocked(AgentNotice.Kind.SPOOL_COMPACTED, "spool at cap: " + removedHealth
          + " older health samples replaced by the newest of their probe", removedHealth);
    }
    gauges();
  }

  /** Replaces a segment's content with the given records (temp + fsync + rename), or deletes it. */
  private void rewrite(Segment seg, List<byte[]> keep) throws IOException {
    boolean isActive = seg == activeSegment;
    if (isActive) {
      active.close();
      active = null;
    }
    totalBytes -= seg.sizeBytes;
    if (keep.isEmpty() && !isActive) {
      Files.deleteIfExists(seg.file);
      AtomicFiles.syncDir(dir);
      segments.remove(seg.firstSeq);
      return;
    }
    ByteBuffer buf = encode(keep);
    byte[] content = new byte[buf.remaining()];
    buf.get(content);
    AtomicFiles.write(seg.file, content);
    Segment fresh = new Segment(seg.file, seg.firstSeq);
    fresh.sizeBytes = content.length;
    fresh.count = keep.size();
    fresh.firstRecordSeq = keep.isEmpty() ? 0 : Records.seqOf(keep.get(0));
    fresh.lastSeq = seg.lastSeq;
    segments.put(seg.firstSeq, fresh);
    totalBytes += fresh.sizeBytes;
    if (isActive) {
      activeSegment = fresh;
      active = FileChannel.open(fresh.file, StandardOpenOption.WRITE);
      active.position(fresh.sizeBytes);
    }
  }

  private static boolean isHealth(byte[] body) {
    return body.length > 0 && bodyCase(body) == Event.BodyCase.HEALTH;
  }

  private static Event.BodyCase bodyCase(byte[] body) {
    try {
      return Event.parseFrom(body).getBodyCase();
    } catch (InvalidProtocolBufferException e) {
      return Event.BodyCase.BODY_NOT_SET;
    }
  }

  private static String healthKey(Event e) {
    return e.getHealth().getProbe() + "\u0000" + e.getHealth().getTarget();
  }

  // ------------------------------------------------------------------------------ rebase

  /**
   * The collector already holds seqs up to {@code collectorSeq} that this spool never assigned
   * (its state was lost, e.g. the state dir was wiped): move the seq space above it. Pending events
   * are re-sequenced after it, in order, so the collector does not drop them as duplicates. The
   * new segment is written and committed (renamed to {@code rebase-SEQ.new}) before anything old
   * is deleted; {@link #open} finishes a committed rebase.
   */
  public synchronized void rebaseAbove(long collectorSeq) throws IOException {
    List<byte[]> pending = new ArrayList<>();
    for (Segment seg : new ArrayList<>(segments.values())) {
      forEachRecord(seg, 0, raw -> {
        if (raw.seq() > ackedSeq) {
          pending.add(Records.withoutSeq(raw.body()));
        }
        return true;
      });
    }
    LOG.log(System.Logger.Level.WARNING, "spool: the collector holds seq " + collectorSeq + " but this spool only reached "
        + (nextSeq - 1) + " (state lost?); re-sequencing " + pending.size() + " pending events above it");
    List<byte[]> bodies = new ArrayList<>(pending.size());
    for (byte[] p : pending) {
      bodies.add(Records.withSeq(collectorSeq + 1 + bodies.size(), p));
    }
    Path tmp = dir.resolve(REBASE_TMP);
    ByteBuffer buf = encode(bodies);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    CrashPoint.reach("spool.rebase.written");
    Path committed = dir.resolve(REBASE_PREFIX + collectorSeq + REBASE_SUFFIX);
    Files.move(tmp, committed, StandardCopyOption.ATOMIC_MOVE);
    AtomicFiles.syncDir(dir);
    CrashPoint.reach("spool.rebase.committed");
    if (active != null) {
      active.close();
      active = null;
    }
    swapInRebase(committed, collectorSeq);
    // the in-memory view of the new spool
    segments.clear();
    activeSegment = null;
    forgetTail();
    totalBytes = 0;
    ackedSeq = collectorSeq;
    ackMarkerSeq = collectorSeq; // swapInRebase wrote it
    nextSeq = collectorSeq + 1;
    startedEmpty = false;
    lastDecisiveSeq = 0;
    healthNewest.clear();
    Path seg = segmentFile(collectorSeq + 1);
    if (Files.exists(seg)) {
      Segment s = new Segment(seg, collectorSeq + 1);
      segments.put(s.firstSeq, s);
      scan(s, true);
      totalBytes = s.sizeBytes;
      nextSeq = Math.max(nextSeq, s.lastSeq + 1);
      activeSegment = s;
      active = FileChannel.open(seg, StandardOpenOption.WRITE);
      active.position(s.sizeBytes);
      for (byte[] b : bodies) {
        remember(new Record(Records.seqOf(b), b));
      }
    }
    gauges();
  }

  /**
   * Second half of a rebase (also run at open after a crash): drop the old segments, persist the
   * new ack, and rename the committed file into place as the first segment above it.
   */
  private void swapInRebase(Path committed, long collectorSeq) throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      for (Path old : ds) {
        Files.delete(old);
      }
    }
    AtomicFiles.syncDir(dir);
    CrashPoint.reach("spool.rebase.old-deleted");
    AtomicFiles.write(dir.resolve(ACKED_FILE), Long.toString(collectorSeq).getBytes(StandardCharsets.US_ASCII));
    if (Files.size(committed) > 0) {
      Files.move(committed, segmentFile(collectorSeq + 1), StandardCopyOption.ATOMIC_MOVE);
    } else {
      Files.delete(committed);
    }
    AtomicFiles.syncDir(dir);
  }

  // ------------------------------------------------------------------------------ acks

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
    long acked = seq;
    healthNewest.values().removeIf(n -> n[0] <= acked);
    // acked records are never read again: the uplink resumes above the ack
    while (!tail.isEmpty() && tail.peekFirst().seq() <= seq) {
      tailBytes -= tail.removeFirst().body().length;
    }
    List<Segment> done = new ArrayList<>();
    for (Segment seg : segments.values()) {
      if (seg.lastSeq <= seq && seg != activeSegment) {
        done.add(seg);
      }
    }
    // the active segment, once fully acked and big enough, is rolled so it can go
    boolean rollActive = activeSegment != null && activeSegment.lastSeq <= seq && activeSegment.sizeBytes >= segmentBytes;
    // before a segment goes, the marker must cover its seqs: a restart takes its next seq from the
    // marker and the segments left, and must never hand out a seq the collector holds (it would
    // drop the new event as a duplicate)
    writeAckMarker(rollActive || !done.isEmpty());
    for (Segment seg : done) {
      Files.deleteIfExists(seg.file);
      segments.remove(seg.firstSeq);
      totalBytes -= seg.sizeBytes;
    }
    if (rollActive) {
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

  /**
   * Replaces the ack marker with the current ack: when {@code now} (before a segment is deleted,
   * and at close), otherwise at most once a second. Not fsync'd, and possibly a second behind while
   * the segments still hold every seq above it: after a kill -9 that only means resending what the
   * collector already holds (it drops duplicates by (agent, seq)). A power cut may lose it whole, as
   * before: a spool whose segments went with it is re-sequenced above the collector's seq at the
   * next Welcome, as after a lost state dir.
   */
  private void writeAckMarker(boolean now) throws IOException {
    long t = System.nanoTime();
    if (ackMarkerSeq == ackedSeq || (!now && t - ackMarkerNanos < ACK_MARKER_EVERY_NANOS)) {
      return;
    }
    Path tmp = dir.resolve("." + ACKED_FILE + ".tmp");
    Files.write(tmp, Long.toString(ackedSeq).getBytes(StandardCharsets.US_ASCII));
    Files.move(tmp, dir.resolve(ACKED_FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    ackMarkerSeq = ackedSeq;
    ackMarkerNanos = t;
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

  /** Why the spool is degraded (full, refusing golden and log events), or null. */
  public synchronized String problem() {
    return refusedNoticed ? "spool full at its cap of " + capBytes + " bytes: golden/log intake paused until the"
        + " collector acks" : null;
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
        && e.getLogMatch().getKind() == dev.lockstep.proto.lite.v1.LogMatch.Kind.MISMATCH_COUNT);
  }

  private static boolean decisive(byte[] body) {
    try {
      return decisive(Event.parseFrom(body));
    } catch (InvalidProtocolBufferException e) {
      return false;
    }
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
    boolean wasOpen = !closed;
    closed = true;
    try {
      if (wasOpen) {
        writeAckMarker(true);
      }
    } finally {
      if (active != null) {
        active.close();
        active = null;
      }
    }
  }
}
