package dev.lockstep.agent.spool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.LogMatch;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {
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
      List<Event> read = s.readAfter(3, 4, Long.MAX_VALUE);
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
      assertThat(s.readAfter(s.lastAckedSeq(), 1000, Long.MAX_VALUE)).extracting(Event::getSeq)
          .first().isEqualTo(1501L);
      assertThat(s.append(golden(9)).seqs()).containsExactly(2001L);
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
      assertThat(s.readAfter(0, 100, Long.MAX_VALUE)).extracting(Event::getSeq).containsExactly(1L, 2L, 3L, 4L);
      assertThat(s.append(golden(5)).seqs()).containsExactly(5L);
      assertThat(s.readAfter(0, 100, Long.MAX_VALUE)).extracting(Event::getSeq).containsExactly(1L, 2L, 3L, 4L, 5L);
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
      List<Event> all = s.readAfter(0, 100_000, Long.MAX_VALUE);
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
      List<Event> all = s.readAfter(0, 100_000, Long.MAX_VALUE);
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
      assertThat(s.readAfter(0, 100_000, Long.MAX_VALUE).stream().filter(Event::hasNotice)
          .anyMatch(e -> e.getNotice().getKind() == AgentNotice.Kind.EVENTS_DROPPED)).isTrue();
    }
  }

  @Test
  void readsRespectTheByteBound() throws IOException {
    try (Spool s = open(1 << 20)) {
      for (int i = 0; i < 100; i++) {
        s.append(log(i));
      }
      List<Event> batch = s.readAfter(0, 500, 2000);
      assertThat(batch).hasSizeBetween(1, 10);
    }
  }
}
