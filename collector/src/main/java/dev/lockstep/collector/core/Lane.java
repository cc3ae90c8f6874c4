package dev.lockstep.collector.core;

import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.LogMatch;

/**
 * Which queue an event waits in on its way to the core. DECISIVE events can stop the fleet (a
 * golden report, a log line reporting mismatches) and are processed ahead of ROUTINE ones (health
 * samples, other log lines, notices), so a stop never waits behind a backlog of routine ingest.
 * Each lane keeps its own per-agent order and processing mark: no event of one lane depends on
 * an event of the other. A pure function of the event, so replay sorts events the same way.
 */
public enum Lane {
  DECISIVE, ROUTINE;

  public static Lane of(Event e) {
    return switch (e.getBodyCase()) {
      case GOLDEN -> DECISIVE;
      case LOG_MATCH -> e.getLogMatch().getKind() == LogMatch.Kind.MISMATCH_COUNT ? DECISIVE : ROUTINE;
      default -> ROUTINE;
    };
  }
}
