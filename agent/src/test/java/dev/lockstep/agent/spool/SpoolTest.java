package dev.lockstep.agent.spool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.proto.lite.v1.AgentNotice;
import dev.lockstep.proto.lite.v1.Event;
import dev.lockstep.proto.lite.v1.GoldenReport;
import dev.lockstep.proto.lite.v1.HealthSample;
import dev.lockstep.proto.lite.v1.LogMatch;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class SpoolTest {
  @TempDir Path dir;
  final AgentMetrics metrics = new AgentMetrics();

  private Spool open(long cap) throws IOException {
    return Spool.open(dir, cap, metrics, Clock.systemUTC());
  }

  private static Event golden(int i) {
    return Event.newBuilder().setGolden(GoldenReport.newBuilder().setPath("/g/run-" + i + ".json")
        .setRunId("run-" + i).setCanonicalHash("sha256:" + "ab".repeat(32))).build();
  }

  private static Event health(String target, int i) {
    return Event.newBuilder().setHealth(HealthSample.newBuilder().setProbe(HealthSample.Probe.DISK)
        .setTarget(target).setLevel(HealthSample.Level.OK).setSummary("sample " + i + " " + "x".repeat(200))).build();
  }

  private static Event log(int i) {
    return Event.newBuilder().setLogMatch(LogMatch.newBuilder().setPath("/l").setLine("line " + i + " " + "y".repeat(200))
        .setKind(LogMatch.Kind.ERROR)).build();
  }

  private static void appendGolden(Spool s, int n) throws IOException {
    for (int i = 0; i < n; i += 100) {
      List<Event> batch = new ArrayList<>();
      for (int k = i; k < Math.min(n, i + 100); k++) {
        batch.add(golden(k));
      }
      assertThat(s.append(batch).accepted()).isTrue();
    }
  }

  @Test
  void eventsGetIncreasingSeqsAndAreReadBackInOrder() throws IOException {
    try (Spool s = open(1 << 20)) {
      for (int i = 0; i < 10; i++) {
        assertThat(s.append(golden(i)).seqs()).containsExactly((long) i + 1);
      }
      List<Event> read = SpoolEvents.read(s, 3, 4, Long.MAX_VALUE);
      assertThat(read).extracting(Event::getSeq).containsExactly(4L, 5L, 6L, 7L);
      assertThat(read.get(0).getGolden().getRunId()).isEqualTo("run-3");
    }
  }

  @Test
  void ackedEventsAreNeverResentAndTheSpoolResumesAfterReopen() throws IOException {
    try (Spool s = open(1 << 20)) {
      appendGolden(s, 2000);
      s.ackUpTo(1500);
    }
    try (Spool s = open(1 << 20)) {
      assertThat(s.lastAckedSeq()).isEqualTo(1500);
      assertThat(s.lastSeq()).isEqualTo(2000);
      assertThat(SpoolEvents.read(s, s.lastAckedSeq(), 1000, Long.MAX_VALUE)).extracting(Event::getSeq)
          .first().isEqualTo(1501L);
      assertThat(s.append(golden(9)).seqs()).containsExactly(2001L);
    }
  }

  @Test
  void theAckMarkerTrailsByAtMostASecondCloseWritesItAndACrashBehindItNeverReusesASeq(@TempDir Path crashed)
      throws Exception {
    Path marker = dir.resolve("acked");
    try (Spool s = open(1 << 20)) {
      appendGolden(s, 3000);
      s.ackUpTo(100);
      assertThat(Files.readString(marker)).as("the first ack is written at once").isEqualTo("100");
      s.ackUpTo(300);
      s.ackUpTo(400); // within the first segment: none is deleted
      assertThat(Files.readString(marker)).as("acks within the second after it are not").isEqualTo("100");
      // what a kill -9 now leaves on disk: the marker behind the acks
      copyFiles(crashed);
      long[] next = {401};
      dev.lockstep.agent.Eventually.await("a later ack replaces the marker", java.time.Duration.ofSeconds(30), () -> {
        try {
          s.ackUpTo(Math.min(next[0]++, 2998));
          return Long.parseLong(Files.readString(marker)) == s.lastAckedSeq();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      assertThat(s.lastAckedSeq()).isGreaterThan(400);
      s.ackUpTo(s.lastAckedSeq() + 1);
      assertThat(Files.readString(marker)).as("again within the second").isNotEqualTo(Long.toString(s.lastAckedSeq()));
      s.ackUpTo(2990); // deletes segments: written at once
      assertThat(Files.readString(marker)).as("written before segments are deleted").isEqualTo("2990");
      s.ackUpTo(2999); // the last segment stays (it holds 3000)
      assertThat(Files.readString(marker)).isEqualTo("2990");
    }
    try (Spool s = open(1 << 20)) {
      assertThat(s.lastAckedSeq()).as("close wrote the newest ack").isEqualTo(2999);
      assertThat(s.lastSeq()).isEqualTo(3000);
    }
    try (Spool s = Spool.open(crashed, 1 << 20, metrics, Clock.systemUTC())) {
      // behind: what the collector holds is sent again (it drops duplicates by seq), and new events
      // never get a seq it already holds
      assertThat(s.lastAckedSeq()).isEqualTo(100);
      assertThat(s.lastSeq()).isEqualTo(3000);
      assertThat(SpoolEvents.read(s, s.lastAckedSeq(), 5000, Long.MAX_VALUE)).extracting(Event::getSeq)
          .last().isEqualTo(3000L);
      assertThat(s.append(golden(9)).seqs()).containsExactly(3001L);
    }
  }

  @Test
  void aCrashRightAfterAckedSegmentsWereDeletedNeverHandsOutTheirSeqsAgain(@TempDir Path crashed) throws Exception {
    long acked;
    try (Spool s = open(1 << 20)) {
      appendGolden(s, 10);
      s.ackUpTo(1); // the first ack's marker is written at once; the next ones within a second are not
      // fill the active segment to its size, so that acking everything deletes every segment
      int i = 0;
      while (newestSegmentBytes() < (1 << 20) / 8) {
        assertThat(s.append(List.of(golden(i++))).accepted()).isTrue();
      }
      acked = s.lastSeq();
      s.ackUpTo(acked);
      try (Stream<Path> files = Files.list(dir)) {
        assertThat(files.filter(p -> p.toString().endsWith(".seg")).count()).as("every segment acked and gone").isZero();
      }
      // what a kill -9 now leaves on disk
      copyFiles(crashed);
    }
    try (Spool s = Spool.open(crashed, 1 << 20, metrics, Clock.systemUTC())) {
      // events spooled before the collector's Welcome must get seqs above what it holds
      assertThat(s.lastAckedSeq()).isEqualTo(acked);
      assertThat(s.append(golden(9)).seqs()).containsExactly(acked + 1);
    }
  }

  /** What a kill -9 at this moment would leave on disk: the spool directory's files, copied. */
  private void copyFiles(Path to) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
  }

  private long newestSegmentBytes() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".seg")).mapToLong(p -> p.toFile().length()).max().orElse(0);
    }
  }

  @Test
  void ackedEventsLeaveMemoryAndThePendingOnesAreStillReadInOrder() throws IOException {
    try (Spool s = open(1 << 20)) {
      appendGolden(s, 300);
      assertThat(s.tailRecords()).isEqualTo(300);
      s.ackUpTo(250);
      assertThat(s.tailRecords()).isEqualTo(50);
      assertThat(SpoolEvents.read(s, 250, 1000, Long.MAX_VALUE)).extracting(Event::getSeq)
          .containsExactlyElementsOf(LongStream.rangeClosed(251, 300).boxed().toList());
      s.ackUpTo(300);
      assertThat(s.tailRecords()).isZero();
      assertThat(SpoolEvents.read(s, 300, 1000, Long.MAX_VALUE)).isEmpty();
      assertThat(s.append(golden(9)).seqs()).containsExactly(301L);
      assertThat(SpoolEvents.read(s, 300, 1000, Long.MAX_VALUE)).extracting(Event::getSeq).containsExactly(301L);
    }
  }

  @Test
  void fullyAckedSegmentsAreDeleted() throws IOException {
    try (Spool s = open(1 << 20)) {
      appendGolden(s, 3000);
      long before = s.sizeBytes();
      s.ackUpTo(3000);
      assertThat(s.sizeBytes()).isLessThan(before / 4);
      try (Stream<Path> files = Files.list(dir)) {
        assertThat(files.filter(p -> p.toString().endsWith(".seg")).count()).isLessThanOrEqualTo(1);
      }
    }
  }

  @Test
  void aTornTailAfterACrashIsCutAndTheSeqIsReused() throws IOException {
    try (Spool s = open(1 << 20)) {
      for (int i = 0; i < 5; i++) {
        s.append(golden(i));
      }
    }
    Path seg;
    try (Stream<Path> files = Files.list(dir)) {
      seg = files.filter(p -> p.toString().endsWith(".seg")).findFirst().orElseThrow();
    }
    long size = Files.size(seg);
    try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
      ch.truncate(size - 7); // the last record was half written when the power went
    }
    try (Spool s = open(1 << 20)) {
      assertThat(s.lastSeq()).isEqualTo(4);
      assertThat(SpoolEvents.read(s, 0, 100, Long.MAX_VALUE)).extracting(Event::getSeq).containsExactly(1L, 2L, 3L, 4L);
      assertThat(s.append(golden(5)).seqs()).containsExactly(5L);
      assertThat(SpoolEvents.read(s, 0, 100, Long.MAX_VALUE)).extracting(Event::getSeq).containsExactly(1L, 2L, 3L, 4L, 5L);
    }
  }

  @Test
  void atTheCapHealthSamplesAreCompactedToTheNewestPerTargetWithANotice() throws IOException {
    long cap = 64 * 1024;
    try (Spool s = open(cap)) {
      s.append(golden(0));
      int i = 0;
      while (s.sizeBytes() < cap - 2000) {
        s.append(health("/disk-a", i));
        s.append(health("/disk-b", i));
        i++;
      }
      for (int k = 0; k < 50; k++) {
        assertThat(s.append(health("/disk-a", 10_000 + k)).admission()).isEqualTo(Spool.Admission.ACCEPTED);
      }
      List<Event> all = SpoolEvents.read(s, 0, 100_000, Long.MAX_VALUE);
      assertThat(all.stream().filter(Event::hasGolden).count()).as("golden never compacted").isEqualTo(1);
      List<String> healthTargets = new ArrayList<>();
      for (Event e : all) {
        if (e.hasHealth()) {
          healthTargets.add(e.getHealth().getTarget());
        }
      }
      assertThat(healthTargets).as("only the newest per target survives a compaction").containsOnlyOnce("/disk-b");
      assertThat(all.stream().filter(Event::hasNotice)
          .anyMatch(e -> e.getNotice().getKind() == AgentNotice.Kind.SPOOL_COMPACTED)).isTrue();
      assertThat(s.sizeBytes()).isLessThanOrEqualTo(cap + 4096);
      for (int k = 1; k < all.size(); k++) {
        assertThat(all.get(k).getSeq()).isGreaterThan(all.get(k - 1).getSeq());
      }
    }
  }

  @Test
  void goldenAndLogEventsAreNeverDroppedAtTheCapButRefusedUntilAcked() throws IOException {
    long cap = 64 * 1024;
    try (Spool s = open(cap)) {
      int accepted = 0;
      Spool.Appended a;
      while ((a = s.append(log(accepted))).accepted()) {
        accepted++;
      }
      assertThat(a.admission()).isEqualTo(Spool.Admission.REFUSED);
      assertThat(s.append(golden(1)).admission()).isEqualTo(Spool.Admission.REFUSED);
      List<Event> all = SpoolEvents.read(s, 0, 100_000, Long.MAX_VALUE);
      assertThat(all.stream().filter(Event::hasLogMatch).count()).as("everything accepted is kept").isEqualTo(accepted);
      assertThat(all.stream().filter(Event::hasNotice).map(e -> e.getNotice().getKind()))
          .as("the agent says so instead of dropping").contains(AgentNotice.Kind.SPOOL_NEAR_CAP);
      assertThat(metrics.intakeRefused.get()).isGreaterThanOrEqualTo(2);
      // the collector acks: room again
      s.ackUpTo(s.lastSeq());
      for (int k = 0; k < 100 && s.sizeBytes() > cap / 2; k++) {
        s.append(Event.newBuilder().setNotice(AgentNotice.newBuilder().setMessage("filler")).build());
        s.ackUpTo(s.lastSeq());
      }
      assertThat(s.append(golden(1)).admission()).isEqualTo(Spool.Admission.ACCEPTED);
    }
  }

  @Test
  void healthSamplesBeyondTheCapAreDroppedWithANoticeNotSilently() throws IOException {
    long cap = 64 * 1024;
    try (Spool s = open(cap)) {
      while (s.append(log(0)).accepted()) {
        // fill with events that cannot be compacted
      }
      assertThat(s.append(health("/d", 1)).admission()).isEqualTo(Spool.Admission.DROPPED);
      assertThat(metrics.eventsDropped.labelValues("health").get()).isEqualTo(1);
      assertThat(SpoolEvents.read(s, 0, 100_000, Long.MAX_VALUE).stream().filter(Event::hasNotice)
          .anyMatch(e -> e.getNotice().getKind() == AgentNotice.Kind.EVENTS_DROPPED)).isTrue();
    }
  }

  @Test
  void readsRespectTheByteBound() throws IOException {
    try (Spool s = open(1 << 20)) {
      for (int i = 0; i < 100; i++) {
        s.append(log(i));
      }
      List<Event> batch = SpoolEvents.read(s, 0, 500, 2000);
      assertThat(batch).hasSizeBetween(1, 10);
    }
  }

  @Test
  void atTheCapANewSampleReplacesItsProbesOldOneAndAProbeNeverEndsWithoutOne() throws IOException {
    long cap = 64 * 1024;
    try (Spool s = open(cap)) {
      assertThat(s.append(health("/disk-a", 1)).accepted()).isTrue();
      while (s.append(log(0)).accepted()) {
        // fill with events that cannot be compacted
      }
      Spool.Appended replaced = s.append(health("/disk-a", 2));
      assertThat(replaced.admission()).as("a sample that replaces a spooled one fits").isEqualTo(Spool.Admission.ACCEPTED);
      assertThat(s.append(health("/disk-b", 1)).admission()).as("a probe without a spooled sample").isEqualTo(Spool.Admission.DROPPED);
      List<Event> all = SpoolEvents.after(s, 0);
      assertThat(all.stream().filter(Event::hasHealth).map(e -> e.getHealth().getSummary().substring(0, 8)))
          .as("only the newest sample of /disk-a").containsExactly("sample 2");
      assertThat(all.stream().filter(Event::hasHealth).map(Event::getSeq)).containsExactly(replaced.seqs().get(0));
      assertThat(s.sizeBytes()).isLessThanOrEqualTo(cap + 4096);
    }
    try (Spool s = open(cap)) {
      assertThat(SpoolEvents.after(s, 0).stream().filter(Event::hasHealth).count()).as("after reopening too").isEqualTo(1);
    }
  }

  @Test
  void aCorruptRecordInTheMiddleIsSkippedWithANoticeAndTheRestIsDelivered() throws IOException {
    try (Spool s = open(1 << 20)) {
      appendGolden(s, 100);
    }
    Path seg = onlySegment();
    corruptByteInRecord(seg, 40);
    try (Spool s = open(1 << 20)) {
      List<Event> all = SpoolEvents.after(s, 0);
      List<Long> goldenSeqs = all.stream().filter(Event::hasGolden).map(Event::getSeq).toList();
      assertThat(goldenSeqs).hasSize(99).doesNotContain(41L).contains(40L, 42L, 100L);
      assertThat(all.stream().filter(Event::hasNotice).map(e -> e.getNotice().getKind()))
          .containsExactly(AgentNotice.Kind.SPOOL_CORRUPT);
      assertThat(all.stream().filter(Event::hasNotice).findFirst().orElseThrow().getNotice().getMessage())
          .contains("after seq 40").contains(seg.getFileName().toString());
      assertThat(metrics.spoolCorrupt.get()).isEqualTo(1);
      assertThat(s.lastSeq()).isEqualTo(101);
      assertThat(SpoolEvents.after(s, 0)).as("read again: skipped quietly").hasSize(100);
      assertThat(metrics.spoolCorrupt.get()).isEqualTo(1);
    }
  }

  @Test
  void aRecordThatRotsAfterItWasWrittenIsSkippedWhenReadWithOneNotice() throws IOException {
    try (Spool s = open(64L << 20)) {
      appendGolden(s, 5000); // more than the in-memory tail: the first ones are read from disk
      Path first = firstSegment();
      corruptByteInRecord(first, 10);
      List<Event> all = SpoolEvents.after(s, 0);
      assertThat(all.stream().filter(Event::hasGolden).map(Event::getSeq)).hasSize(4999).doesNotContain(11L);
      assertThat(metrics.spoolCorrupt.get()).isEqualTo(1);
      List<Event> again = SpoolEvents.after(s, 0);
      assertThat(again.stream().filter(Event::hasGolden)).hasSize(4999);
      assertThat(again.stream().filter(Event::hasNotice).map(e -> e.getNotice().getKind()))
          .as("one notice, appended after the damage was found").containsExactly(AgentNotice.Kind.SPOOL_CORRUPT);
      assertThat(metrics.spoolCorrupt.get()).as("found once").isEqualTo(1);
    }
  }

  @Test
  void aRebaseMovesPendingEventsAboveTheCollectorsSeqInOrder() throws IOException {
    try (Spool s = open(1 << 20)) {
      appendGolden(s, 50);
      s.ackUpTo(20);
      s.rebaseAbove(1000);
      assertThat(s.lastAckedSeq()).isEqualTo(1000);
      List<Event> pending = SpoolEvents.after(s, 1000);
      assertThat(pending).extracting(Event::getSeq).containsExactlyElementsOf(
          LongStream.rangeClosed(1001, 1030).boxed().toList());
      assertThat(pending.get(0).getGolden().getRunId()).isEqualTo("run-20");
      assertThat(s.lastDecisiveSeq()).isEqualTo(1030);
    }
    try (Spool s = open(1 << 20)) {
      assertThat(s.lastAckedSeq()).isEqualTo(1000);
      assertThat(SpoolEvents.after(s, 1000)).hasSize(30);
      assertThat(s.lastDecisiveSeq()).isEqualTo(1030);
      try (Stream<Path> files = Files.list(dir)) {
        assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("rebase"))).isEmpty();
      }
    }
  }

  private Path onlySegment() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> segs = files.filter(p -> p.toString().endsWith(".seg")).toList();
      assertThat(segs).hasSize(1);
      return segs.get(0);
    }
  }

  private Path firstSegment() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".seg")).sorted().findFirst().orElseThrow();
    }
  }

  /** Flips one byte inside the body of the record at index (0-based) of a segment. */
  public static void corruptByteInRecord(Path seg, int index) throws IOException {
    try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long pos = 0;
      java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate(8);
      for (int i = 0; i < index; i++) {
        h.clear();
        ch.read(h, pos);
        pos += 8 + h.getInt(0);
      }
      h.clear();
      ch.read(h, pos);
      long at = pos + 8 + h.getInt(0) / 2;
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
      ch.read(b, at);
      b.put(0, (byte) (b.get(0) ^ 0x5a)).rewind();
      ch.write(b, at);
    }
  }
}
