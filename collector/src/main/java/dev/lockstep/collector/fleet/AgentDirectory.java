package dev.lockstep.collector.fleet;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.AgentInfo;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Hello;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every agent the collector has ever heard from, as operators see it: its Hello, latest probe
 * samples and run counters. Kept in memory, written through to the AGENTS column family (best
 * effort: a failed write is counted and the row stays current in memory; nothing decides on it —
 * stop scope lives in the core's agent stop records). Thread-safe.
 */
public final class AgentDirectory {
  private static final String AGENT = "agent/";
  /**
   * Probes kept per agent (one per probe and target): an agent has one per watched process, disk
   * path and log, and one per component; without a bound an agent sending samples of ever new
   * targets grew its row, in memory and stored, without end. A sample of a new target beyond it
   * is not kept (its incidents are still raised); the probes kept go on being updated.
   */
  static final int MAX_PROBES = 1024;

  private final Store store;
  private final Map<String, AgentInfo> agents = new TreeMap<>();
  private long writeFailures;

  public AgentDirectory(Store store) {
    this.store = store;
    store.scan(Store.Family.AGENTS, AGENT, (k, v) -> {
      try {
        AgentInfo a = AgentInfo.parseFrom(v);
        agents.put(a.getAgentId(), a.toBuilder().setConnection("OFFLINE").build());
      } catch (InvalidProtocolBufferException e) {
        // skip
      }
      return true;
    });
  }

  public synchronized void connected(Hello hello, String remoteAddress, Instant at) {
    AgentInfo prev = agents.get(hello.getAgentId());
    AgentInfo.Builder b = prev == null ? AgentInfo.newBuilder() : prev.toBuilder();
    b.setAgentId(hello.getAgentId()).setHostname(hello.getHostname()).clearLabels()
        .putAllLabels(hello.getLabelsMap()).setVersion(hello.getVersion())
        .setConnection("CONNECTED").setRemoteAddress(remoteAddress).setLastSeen(ts(at));
    save(b.build());
  }

  public synchronized void disconnected(String agentId, Instant at) {
    AgentInfo prev = agents.get(agentId);
    if (prev == null) return;
    save(prev.toBuilder().setConnection("OFFLINE").setLastSeen(ts(at)).build());
  }

  public synchronized void seen(String agentId, long ackedSeq, Instant at) {
    AgentInfo prev = agents.get(agentId);
    if (prev == null) return;
    agents.put(agentId, prev.toBuilder().setAckedSeq(ackedSeq).setLastSeen(ts(at)).build());
  }

  /**
   * Keeps the newest sample per (probe, target). Written through to the store only when the
   * probe's level changes (samples arrive every few seconds per probe; the row in memory is
   * always current, the stored one is current up to the level).
   */
  public synchronized void probe(String agentId, HealthSample sample) {
    AgentInfo prev = agents.get(agentId);
    if (prev == null) return;
    List<HealthSample> probes = new ArrayList<>(prev.getProbesCount() + 1);
    boolean levelChanged = true;
    for (HealthSample p : prev.getProbesList()) {
      if (p.getProbe() == sample.getProbe() && p.getTarget().equals(sample.getTarget())) {
        levelChanged = p.getLevel() != sample.getLevel();
      } else {
        probes.add(p);
      }
    }
    if (probes.size() == prev.getProbesCount() && probes.size() >= MAX_PROBES) return;
    probes.add(sample.getProcess().getEvidenceLinesCount() == 0 ? sample
        : sample.toBuilder().setProcess(sample.getProcess().toBuilder().clearEvidenceLines()).build());
    AgentInfo next = prev.toBuilder().clearProbes().addAllProbes(probes).build();
    if (levelChanged) {
      save(next);
    } else {
      agents.put(agentId, next);
    }
  }

  public synchronized void countRun(String agentId, boolean blamed) {
    AgentInfo prev = agents.get(agentId);
    if (prev == null) return;
    save(prev.toBuilder().setRunsReported(prev.getRunsReported() + 1)
        .setRunsBlamed(prev.getRunsBlamed() + (blamed ? 1 : 0)).build());
  }

  public synchronized List<AgentInfo> all() {
    return List.copyOf(agents.values());
  }

  public synchronized java.util.Optional<AgentInfo> get(String agentId) {
    return java.util.Optional.ofNullable(agents.get(agentId));
  }

  private void save(AgentInfo a) {
    agents.put(a.getAgentId(), a);
    try {
      store.put(Store.Family.AGENTS, AGENT + a.getAgentId(), a.toByteArray(), false);
    } catch (Store.StoreException e) {
      writeFailures++;
    }
  }

  /** Directory rows that could not be written (the store refused); kept in memory. */
  public synchronized long writeFailures() {
    return writeFailures;
  }

  static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }
}
