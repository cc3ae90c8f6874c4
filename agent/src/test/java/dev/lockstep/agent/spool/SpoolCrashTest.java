package dev.lockstep.agent.spool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.Eventually;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.proto.lite.v1.Event;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kill -9 of a real process inside the spool's crash-sensitive steps ({@link SpoolCrashChild}
 * stops at an armed crash point and is SIGKILLed there): reopening must find every pending event
 * exactly once, and every probe with its newest sample.
 */
class SpoolCrashTest {
  @TempDir Path root;
  Process child;

  @AfterEach
  void tearDown() throws Exception {
    if (child != null) {
      child.destroyForcibly().waitFor();
    }
  }

  private Path runUntilKilled(String crashPoint, String... args) throws Exception {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new java.util.ArrayList<>(List.of(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dlockstep.crash-point=" + crashPoint, "-cp", cp, SpoolCrashChild.class.getName()));
    cmd.addAll(List.of(args));
    Path out = root.resolve("child-" + crashPoint + ".out");
    child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    Eventually.await("the child reaches " + crashPoint, Duration.ofSeconds(60), () -> {
      if (!child.isAlive()) {
        throw new AssertionError("child ended without reaching " + crashPoint + ": " + read(out));
      }
      return read(out).contains("CRASH-POINT " + crashPoint);
    });
    child.destroyForcibly().waitFor(); // SIGKILL
    return out;
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return "";
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"spool.rebase.written", "spool.rebase.committed", "spool.rebase.old-deleted"})
  void aRebaseKilledAtAnyStepLosesNoPendingEventAndRepeatsNone(String crashPoint) throws Exception {
    Path dir = root.resolve("spool");
    // 300 pending events; the collector holds 100 seqs the spool never assigned, so the old and
    // the new seq ranges overlap (101..300)
    runUntilKilled(crashPoint, "rebase", dir.toString(), "300", "100");
    try (Spool s = Spool.open(dir, 64L << 20, new AgentMetrics(), Clock.systemUTC())) {
      if (s.lastAckedSeq() < 100) {
        // not committed: the old spool is whole, and the next Welcome rebases again
        assertThat(crashPoint).isEqualTo("spool.rebase.written");
        assertThat(runIds(SpoolEvents.after(s, 0))).hasSize(300);
        s.rebaseAbove(100);
      }
      assertThat(s.lastAckedSeq()).isEqualTo(100);
      List<Event> pending = SpoolEvents.after(s, s.lastAckedSeq());
      assertThat(pending).extracting(Event::getSeq).first().isEqualTo(101L);
      assertThat(pending).extracting(Event::getSeq).last().isEqualTo(400L);
      Map<String, Integer> ids = runIds(pending);
      assertThat(ids).hasSize(300);
      assertThat(ids.values()).containsOnly(1);
      assertThat(s.append(SpoolCrashChild.golden(999)).seqs()).containsExactly(401L);
    }
  }

  @Test
  void aCompactionKilledBetweenSegmentsLeavesEveryProbeItsNewestSample() throws Exception {
    Path dir = root.resolve("spool");
    Path out = runUntilKilled("spool.compact.segment-rewritten", "compact", dir.toString(), "131072");
    try (Spool s = Spool.open(dir, 131072, new AgentMetrics(), Clock.systemUTC())) {
      List<Event> all = SpoolEvents.after(s, 0);
      Map<String, Long> newest = new HashMap<>();
      long golden = 0;
      long logs = 0;
      for (Event e : all) {
        if (e.hasHealth()) {
          newest.merge(e.getHealth().getTarget(), e.getSeq(), Math::max);
        }
        golden += e.hasGolden() ? 1 : 0;
        logs += e.hasLogMatch() ? 1 : 0;
      }
      assertThat(newest).as("every probe keeps a sample").containsOnlyKeys(
          "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9");
      assertThat(golden).as("golden events are never compacted").isEqualTo(20);
      String output = read(out);
      long full = Long.parseLong(output.lines().filter(l -> l.startsWith("FULL ")).findFirst().orElseThrow().substring(5));
      assertThat(logs).as("log events are never compacted").isGreaterThan(0);
      // the sample that triggered the compaction was durable before anything was removed
      assertThat(newest.values()).anyMatch(seq -> seq > full);
      for (int k = 1; k < all.size(); k++) {
        assertThat(all.get(k).getSeq()).isGreaterThan(all.get(k - 1).getSeq());
      }
    }
  }

  private static Map<String, Integer> runIds(List<Event> events) {
    Map<String, Integer> ids = new HashMap<>();
    for (Event e : events) {
      if (e.hasGolden()) {
        ids.merge(e.getGolden().getRunId(), 1, Integer::sum);
      }
    }
    return ids;
  }
}
