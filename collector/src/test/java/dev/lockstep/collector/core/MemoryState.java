package dev.lockstep.collector.core;

import dev.lockstep.collector.correlate.HostStats;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.collector.correlate.Verdict;
import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.store.v1.CaptureRecord;
import dev.lockstep.proto.store.v1.ResumedOrder;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentState;
import dev.lockstep.proto.v1.StopOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/** A {@link CoreState} in memory that applies committed changes: the reference host for tests. */
class MemoryState implements CoreState {
  final TreeMap<String, RunState> runs = new TreeMap<>();
  final TreeMap<String, HostStats> hostStats = new TreeMap<>();
  final TreeMap<String, Incident> incidents = new TreeMap<>();
  final TreeMap<String, Long> counters = new TreeMap<>();
  final TreeMap<String, StopOrder> orders = new TreeMap<>();
  final TreeMap<String, ResumedOrder> resumed = new TreeMap<>();
  final TreeMap<String, AgentStopRecord> agentStops = new TreeMap<>();
  final TreeMap<String, CaptureRecord> captures = new TreeMap<>();
  final TreeMap<String, Long> processed = new TreeMap<>();
  final List<Change> appended = new ArrayList<>();
  int commits;
  int syncedCommits;

  /** A deep copy (a backup of the store at this moment). */
  MemoryState copy() {
    MemoryState m = new MemoryState();
    m.runs.putAll(runs);
    m.hostStats.putAll(hostStats);
    m.incidents.putAll(incidents);
    m.counters.putAll(counters);
    m.orders.putAll(orders);
    m.resumed.putAll(resumed);
    m.agentStops.putAll(agentStops);
    m.captures.putAll(captures);
    m.processed.putAll(processed);
    m.appended.addAll(appended);
    return m;
  }

  void commit(Tx tx) {
    commits++;
    if (tx.syncRequired()) syncedCommits++;
    for (Change c : tx.changes()) {
      if (c instanceof Change.PutRun r) {
        runs.put(r.run().runId(), r.run());
      } else if (c instanceof Change.PutHostStats h) {
        hostStats.put(h.stats().host(), h.stats());
      } else if (c instanceof Change.PutIncident i) {
        incidents.put(i.incident().getId(), i.incident());
      } else if (c instanceof Change.DeleteIncident d) {
        incidents.remove(d.id());
      } else if (c instanceof Change.PutCounter k) {
        counters.put(k.name(), k.value());
      } else if (c instanceof Change.PutOrder o) {
        orders.put(o.order().getId(), o.order());
      } else if (c instanceof Change.ResumeOrder r) {
        orders.remove(r.resumed().getOrder().getId());
        resumed.put(r.resumed().getOrder().getId(), r.resumed());
      } else if (c instanceof Change.DeleteResumedOrder d) {
        resumed.remove(d.id());
      } else if (c instanceof Change.PutAgentStop a) {
        agentStops.put(a.record().getAgentId(), a.record());
      } else if (c instanceof Change.PutCapture p) {
        captures.put(p.capture().getRequestId(), p.capture());
      } else if (c instanceof Change.DeleteCapture d) {
        captures.remove(d.requestId());
      } else if (c instanceof Change.Processed p) {
        processed.put(p.lane() + "/" + p.agentId(), p.seq());
      } else {
        appended.add(c);
      }
    }
  }

  @Override
  public Optional<RunState> run(String runId) {
    return Optional.ofNullable(runs.get(runId));
  }

  @Override
  public Collection<RunState> pendingRuns() {
    return runs.values().stream().filter(r -> r.verdict() == Verdict.PENDING).toList();
  }

  @Override
  public HostStats hostStats(String host) {
    return hostStats.getOrDefault(host, new HostStats(host, 0, 0));
  }

  @Override
  public Collection<HostStats> allHostStats() {
    return List.copyOf(hostStats.values());
  }

  @Override
  public Optional<Incident> incident(String id) {
    return Optional.ofNullable(incidents.get(id));
  }

  @Override
  public Optional<String> openIncident(String signature) {
    return incidents.values().stream().filter(i -> i.getSignature().equals(signature)
        && i.getState() != IncidentState.RESOLVED).map(Incident::getId).findFirst();
  }

  @Override
  public Collection<Incident> openIncidents() {
    return incidents.values().stream().filter(i -> i.getState() != IncidentState.RESOLVED).toList();
  }

  @Override
  public long counter(String name) {
    return counters.getOrDefault(name, 0L);
  }

  @Override
  public Optional<StopOrder> activeOrder(String id) {
    return Optional.ofNullable(orders.get(id));
  }

  @Override
  public Collection<StopOrder> activeOrders() {
    return List.copyOf(orders.values());
  }

  @Override
  public Optional<ResumedOrder> resumedOrder(String id) {
    return Optional.ofNullable(resumed.get(id));
  }

  @Override
  public Collection<ResumedOrder> resumedOrders() {
    return List.copyOf(resumed.values());
  }

  @Override
  public Optional<AgentStopRecord> agentStop(String agentId) {
    return Optional.ofNullable(agentStops.get(agentId));
  }

  @Override
  public Collection<String> agents() {
    return List.copyOf(agentStops.keySet());
  }

  @Override
  public Optional<CaptureRecord> capture(String requestId) {
    return Optional.ofNullable(captures.get(requestId));
  }

  @Override
  public Collection<CaptureRecord> openCaptures(String agentId) {
    return captures.values().stream().filter(c -> c.getAgentId().equals(agentId) && !c.getDone()).toList();
  }

  @Override
  public Collection<CaptureRecord> capturesOf(String incidentId) {
    return captures.values().stream().filter(c -> c.getIncidentId().equals(incidentId)).toList();
  }

  @Override
  public long processedSeq(String agentId, Lane lane) {
    return processed.getOrDefault(lane + "/" + agentId, 0L);
  }
}
