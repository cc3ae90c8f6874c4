package dev.lockstep.agent.spool;

import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.proto.lite.v1.Event;
import dev.lockstep.proto.lite.v1.GoldenReport;
import dev.lockstep.proto.lite.v1.HealthSample;
import dev.lockstep.proto.lite.v1.LogMatch;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * A child process for the spool's kill -9 tests: builds a spool in a scenario and runs the
 * operation under test; the test arms a crash point (-Dlockstep.crash-point) and SIGKILLs the
 * process when it prints that it reached it.
 *
 * <pre>
 * rebase DIR N SEQ   N golden events in a fresh spool (no ack marker), then rebaseAbove(SEQ)
 * compact DIR CAP    golden events, one health sample of each probe p0..p9, log events until the
 *                    cap, then a new sample of each probe (each replaces the old one at the cap)
 * </pre>
 */
public final class SpoolCrashChild {
  private SpoolCrashChild() {}

  static Event golden(int i) {
    return Event.newBuilder().setGolden(GoldenReport.newBuilder().setPath("/g/run-" + i + ".json")
        .setRunId("run-" + i)).build();
  }

  static Event health(int probe, int i) {
    return Event.newBuilder().setHealth(HealthSample.newBuilder().setProbe(HealthSample.Probe.DISK)
        .setTarget("p" + probe).setLevel(HealthSample.Level.OK).setSummary("sample " + i + " " + "x".repeat(300))).build();
  }

  static Event log(int i) {
    return Event.newBuilder().setLogMatch(LogMatch.newBuilder().setPath("/l").setLineNumber(i)
        .setLine("line " + i + " " + "y".repeat(300)).setKind(LogMatch.Kind.ERROR)).build();
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[1]);
    AgentMetrics metrics = new AgentMetrics();
    switch (args[0]) {
      case "rebase" -> {
        try (Spool s = Spool.open(dir, 64L << 20, metrics, Clock.systemUTC())) {
          int n = Integer.parseInt(args[2]);
          List<Event> batch = new ArrayList<>();
          for (int i = 0; i < n; i++) {
            batch.add(golden(i));
          }
          s.append(batch);
          System.out.println("SPOOLED " + s.lastSeq());
          s.rebaseAbove(Long.parseLong(args[3]));
          System.out.println("DONE");
        }
      }
      case "compact" -> {
        long cap = Long.parseLong(args[2]);
        try (Spool s = Spool.open(dir, cap, metrics, Clock.systemUTC())) {
          for (int i = 0; i < 20; i++) {
            s.append(golden(i));
          }
          int k = 0;
          while (s.sizeBytes() < cap / 2) {
            if (k < 10) {
              s.append(health(k, k));
            }
            s.append(log(k));
            k++;
          }
          while (s.append(log(k)).accepted()) {
            k++;
          }
          System.out.println("FULL " + s.lastSeq());
          for (int p = 0; p < 10; p++) {
            Spool.Appended a = s.append(health(p, 1_000_000 + p));
            System.out.println("NEW p" + p + " " + a.admission() + " " + a.seqs());
          }
          System.out.println("DONE");
        }
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
  }
}
