package dev.lockstep.collector.store;

import dev.lockstep.proto.v1.Event;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Which seqs of ONE agent the store holds: every seq from 1 up to the high-water mark except the
 * gaps, the seqs the agent skipped (events its spool compacted or dropped, a spool re-sequenced
 * above an older mark). This is how the store deduplicates by (agent_id, seq): a seq at or below
 * the mark is a duplicate when the store holds it, and REFUSED when it lies in a gap — it was
 * never stored, and storing it now would put it behind events the core already processed, so
 * acking it would lose it silently.
 *
 * <p>Invariant: gaps are disjoint, sorted, below the mark; the mark only grows. Gaps are bounded
 * ({@link #MAX_GAPS}): the oldest are forgotten first, and every seq at or below the end of a
 * forgotten gap (the floor) is refused, since the store can no longer tell it apart. Not
 * thread-safe: the store locks it per agent.
 */
final class SeqLedger {
  static final int MAX_GAPS = 1024;

  private long highWaterMark;
  private long floor;
  private final List<long[]> gaps;

  SeqLedger(long highWaterMark, long floor, List<long[]> gaps) {
    this.highWaterMark = highWaterMark;
    this.floor = floor;
    this.gaps = new ArrayList<>(gaps);
  }

  /** A ledger read back from the store: the mark and the encoded gaps (null: none). */
  static SeqLedger decode(long highWaterMark, byte[] encodedGaps) {
    if (encodedGaps == null || encodedGaps.length < 8) {
      return new SeqLedger(highWaterMark, 0, List.of());
    }
    ByteBuffer b = ByteBuffer.wrap(encodedGaps);
    long floor = b.getLong();
    List<long[]> gaps = new ArrayList<>();
    while (b.remaining() >= 16) gaps.add(new long[] {b.getLong(), b.getLong()});
    return new SeqLedger(highWaterMark, floor, gaps);
  }

  /** The floor and the gaps, as {@link #decode} reads them. */
  byte[] encodeGaps() {
    ByteBuffer b = ByteBuffer.allocate(8 + 16 * gaps.size()).putLong(floor);
    for (long[] g : gaps) b.putLong(g[0]).putLong(g[1]);
    return b.array();
  }

  long highWaterMark() {
    return highWaterMark;
  }

  /**
   * What to do with one batch (seqs strictly increasing, checked by the gateway): the events to
   * store, how many are duplicates, or why the whole batch is refused. Changes nothing.
   */
  Plan plan(List<Event> events) {
    long max = highWaterMark;
    List<Event> stored = new ArrayList<>(events.size());
    List<long[]> newGaps = new ArrayList<>();
    int duplicates = 0;
    for (Event e : events) {
      long seq = e.getSeq();
      if (seq > max) {
        if (seq > max + 1) newGaps.add(new long[] {max + 1, seq - 1});
        max = seq;
        stored.add(e);
        continue;
      }
      String why = refusal(seq);
      if (why != null) return new Plan(List.of(), 0, why, List.of(), highWaterMark);
      duplicates++;
    }
    return new Plan(stored, duplicates, null, newGaps, max);
  }

  /** Why {@code seq} (at or below the mark) is refused, or null when the store holds it. */
  private String refusal(long seq) {
    if (seq <= floor) {
      return "event seq " + seq + " is at or below " + floor + ", where this collector no longer"
          + " tells stored seqs from skipped ones; resend only seqs above Welcome.acked_seq ("
          + highWaterMark + "); batch not stored";
    }
    int lo = 0;
    int hi = gaps.size() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      long[] g = gaps.get(mid);
      if (seq < g[0]) {
        hi = mid - 1;
      } else if (seq > g[1]) {
        lo = mid + 1;
      } else {
        return "event seq " + seq + " arrived after seq " + highWaterMark + " and was never"
            + " stored (seqs " + g[0] + ".." + g[1] + " were skipped); seqs of an agent must"
            + " increase: send each once, in order, and resend only seqs above"
            + " Welcome.acked_seq; batch not stored";
      }
    }
    return null;
  }

  /** The encoded gaps once {@code p} is applied, or null when it skips no seq. Changes nothing. */
  byte[] gapsAfter(Plan p) {
    if (p.newGaps().isEmpty()) return null;
    SeqLedger copy = new SeqLedger(highWaterMark, floor, gaps);
    copy.apply(p);
    return copy.encodeGaps();
  }

  /** Takes in a plan whose events were written. */
  void apply(Plan p) {
    highWaterMark = Math.max(highWaterMark, p.highWaterMark());
    gaps.addAll(p.newGaps());
    while (gaps.size() > MAX_GAPS) {
      floor = Math.max(floor, gaps.remove(0)[1]);
    }
  }

  /** One batch's outcome: {@code refusal} non-null means nothing of it may be stored or acked. */
  record Plan(List<Event> stored, int duplicates, String refusal, List<long[]> newGaps,
      long highWaterMark) {}
}
