package dev.lockstep.agent.spool;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One spool segment file, named by the first seq it was created for. Records hold increasing
 * seqs (with gaps after compaction or a skipped corrupt record). Guarded by the spool's lock.
 */
final class Segment {
  final Path file;
  final long firstSeq;
  long lastSeq;
  long sizeBytes;
  int count;
  // the seq of the first record in the file (valid while count > 0)
  long firstRecordSeq;
  // HEALTH samples in this segment that a newer pending sample of their probe supersedes
  int superseded;
  // read hint: the byte offset of the first record with seq > hintSeq
  long hintSeq = -1;
  long hintOffset;
  // stretches [from, to) that failed their CRC (or did not parse), skipped by every read
  private List<long[]> bad = List.of();

  Segment(Path file, long firstSeq) {
    this.file = file;
    this.firstSeq = firstSeq;
    this.lastSeq = firstSeq - 1;
  }

  void markBad(long from, long to) {
    if (bad.isEmpty()) {
      bad = new ArrayList<>(2);
    }
    bad.add(new long[] {from, to});
  }

  /** The end of a known bad stretch that starts at or covers offset, else offset itself. */
  long skipBad(long offset) {
    for (long[] b : bad) {
      if (offset >= b[0] && offset < b[1]) {
        return b[1];
      }
    }
    return offset;
  }

  /** Forgets bad stretches at or after offset (the file was cut there). */
  void dropBadFrom(long offset) {
    if (!bad.isEmpty()) {
      bad.removeIf(b -> b[0] >= offset);
    }
  }

  /** Whether the file still holds records at or below the ack (a compaction would drop them). */
  boolean holdsAcked(long ackedSeq) {
    return count > 0 && firstRecordSeq <= ackedSeq;
  }

  boolean hasBad() {
    return !bad.isEmpty();
  }
}
