package dev.lockstep.collector.cluster;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The highest seq of each agent some gateway had acked, as far as this collector knows: its own
 * acks and every mark on the acked topic. Marks only grow. A mark lower than the truth is safe (the
 * agent resends, the core drops what it processed); a mark above the truth is impossible, since
 * gateways publish a mark only after Kafka took the events below it.
 */
final class AckedMarks {
  private final Map<String, Long> marks = new ConcurrentHashMap<>();

  long get(String agentId) {
    return marks.getOrDefault(agentId, 0L);
  }

  void advance(String agentId, long seq) {
    marks.merge(agentId, seq, Math::max);
  }

  int size() {
    return marks.size();
  }
}
