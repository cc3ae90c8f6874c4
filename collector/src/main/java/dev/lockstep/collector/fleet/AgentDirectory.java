package dev.lockstep.collector.fleet;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.lockstep.collector.stop.StopAuthority;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.AgentInfo;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Hello;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Every agent the collector has ever heard from: its Hello, latest probe samples, counters and the
 * workflows it runs (label {@code workflows} plus workflows it reported). Kept in memory, written
 * through to the AGENTS column family. Thread-safe.
 */
public final class AgentDirectory {
  private static final String AGENT = "agent/";
  private static final String WORKFLOWS = "workflows/";

  private final Store store;
  private final Map<String, AgentInfo> agents = new TreeMap<>();
  private final Map<String, Set<String>> reportedWorkflows = new TreeMap<>();

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
    store.scan(Store.Family.AGENTS, WORKFLOWS, (k, v) -> {
      String id = new String(k, StandardCharsets.UTF_8).substring(WORKFLOWS.length());
      String list = new String(v, StandardCharsets.UTF_8);
      reportedWorkflows.put(id, new LinkedHashSet<>(
          list.isEmpty() ? List.of() : Arrays.asList(list.split(","))));
      return true;
    });
  }

  public synchronized void connected(Hello hello, String remoteAddress, Instant at) {
    AgentInfo prev = agents.get(hello.getAgentId());
    AgentInfo.Builder b = prev == null ? AgentInfo.newBuilder() : prev.toBuilder();
    b.setAgentId(hello.getAgentId()).setHost(hello.getHost()).clearLabels()
        .putAllLabels(hello.getLabelsMap()).setVersion(hello.getVersion())
        .setConnection("CONNECTED").setRemoteAddress(remoteAddress).setLastSeen(ts(at))
        .setEnactedStopEpoch(hello.getEnactedStopEpoch());
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
    probes.add(sample.getProcess().getEvidenceLinesCount() == 0 ? sample
        : sample.toBuilder().setProcess(sample.getProcess().toBuilder().clearEvidenceLines()).build());
    AgentInfo next = prev.toBuilder().clearProbes().addAllProbes(probes).build();
    if (levelChanged) {
      save(next);
    } else {
      agents.put(agentId, next);
    }
  }

  public synchronized void enacted(String agentId, long epoch) {
    AgentInfo prev = agents.get(agentId);
    if (prev == null || prev.getEnactedStopEpoch() >= epoch) return;
    save(prev.toBuilder().setEnactedStopEpoch(epoch).build());
  }

  public synchronized void countRun(String agentId, boolean blamed) {
    AgentInfo prev = agents.get(agentId);
    if (prev == null) return;
    save(prev.toBuilder().setRunsReported(prev.getRunsReported() + 1)
        .setRunsBlamed(prev.getRunsBlamed() + (blamed ? 1 : 0)).build());
  }

  /** Notes that {@code agentId} reported a run of {@code workflow}; true when that is new. */
  public synchronized boolean reportedWorkflow(String agentId, String workflow) {
    if (workflow == null || workflow.isEmpty()) return false;
    Set<String> set = reportedWorkflows.computeIfAbsent(agentId, k -> new LinkedHashSet<>());
    if (!set.add(workflow)) return false;
    store.put(Store.Family.AGENTS, WORKFLOWS + agentId,
        String.join(",", set).getBytes(StandardCharsets.UTF_8), false);
    return true;
  }

  public synchronized List<AgentInfo> all() {
    return List.copyOf(agents.values());
  }

  public synchronized java.util.Optional<AgentInfo> get(String agentId) {
    return java.util.Optional.ofNullable(agents.get(agentId));
  }

  /** Scope-rule view of one agent. */
  public synchronized StopAuthority.Target target(String agentId) {
    Set<String> wf = new LinkedHashSet<>(reportedWorkflows.getOrDefault(agentId, Set.of()));
    AgentInfo a = agents.get(agentId);
    if (a != null) {
      String label = a.getLabelsOrDefault("workflows", "");
      for (String w : label.split(",")) {
        if (!w.isBlank()) wf.add(w.trim());
      }
    }
    return new StopAuthority.Target(agentId, wf);
  }

  public synchronized Collection<StopAuthority.Target> targets() {
    List<StopAuthority.Target> out = new ArrayList<>();
    for (String id : agents.keySet()) out.add(target(id));
    return out;
  }

  private void save(AgentInfo a) {
    agents.put(a.getAgentId(), a);
    store.put(Store.Family.AGENTS, AGENT + a.getAgentId(), a.toByteArray(), false);
  }

  static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }
}
