package dev.lockstep.collector.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.lockstep.proto.store.v1.ClusterMember;
import dev.lockstep.proto.v1.CollectorMember;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The collectors serving the fleet, from their heartbeats on the members topic: which are up,
 * which agents each holds, which runs the core task. A collector whose last heartbeat is older
 * than {@link #DOWN_AFTER} is DOWN (its agents count as offline until they reconnect elsewhere);
 * one that said goodbye is STOPPED.
 */
final class Members {
  static final Duration DOWN_AFTER = Duration.ofSeconds(10);

  private final Clock clock;
  private final ConcurrentSkipListMap<String, ClusterMember> members = new ConcurrentSkipListMap<>();

  Members(Clock clock) {
    this.clock = clock;
  }

  /** A record of the members topic (reader thread). */
  void applied(String key, byte[] value) throws InvalidProtocolBufferException {
    if (key == null) return;
    if (value == null) {
      members.remove(key);
    } else {
      members.put(key, ClusterMember.parseFrom(value));
    }
  }

  String state(ClusterMember m) {
    if (m.getStopping()) return "STOPPED";
    long age = clock.millis() - millis(m.getHeartbeatAt());
    return age > DOWN_AFTER.toMillis() ? "DOWN" : "UP";
  }

  /** The collector holding the agent's stream now (an UP one), if any. */
  Optional<String> holder(String agentId) {
    ClusterMember best = null;
    for (ClusterMember m : members.values()) {
      if (state(m).equals("UP") && m.getAgentIdsList().contains(agentId)
          && (best == null || millis(m.getHeartbeatAt()) > millis(best.getHeartbeatAt()))) {
        best = m;
      }
    }
    return Optional.ofNullable(best).map(ClusterMember::getCollectorId);
  }

  /** Every agent some UP collector holds, with that collector. */
  Map<String, String> connectedAgents() {
    Map<String, String> out = new java.util.TreeMap<>();
    for (ClusterMember m : members.values()) {
      if (!state(m).equals("UP")) continue;
      for (String a : m.getAgentIdsList()) out.put(a, m.getCollectorId());
    }
    return out;
  }

  List<CollectorMember> view() {
    List<CollectorMember> out = new ArrayList<>();
    for (ClusterMember m : members.values()) {
      out.add(CollectorMember.newBuilder().setCollectorId(m.getCollectorId())
          .setAddress(m.getAddress()).setState(state(m)).setAgents(m.getAgentIdsCount())
          .setCore(m.getCore() && state(m).equals("UP")).setHeartbeatAt(m.getHeartbeatAt())
          .setStartedAt(m.getStartedAt()).build());
    }
    return out;
  }

  /** How many collectors are in each state. */
  Map<String, Long> counts() {
    Map<String, Long> out = new java.util.TreeMap<>(Map.of("UP", 0L, "DOWN", 0L, "STOPPED", 0L));
    for (ClusterMember m : members.values()) out.merge(state(m), 1L, Long::sum);
    return out;
  }

  static long millis(Timestamp t) {
    return t.getSeconds() * 1000 + t.getNanos() / 1_000_000;
  }
}
