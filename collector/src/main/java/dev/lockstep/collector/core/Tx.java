package dev.lockstep.collector.core;

import dev.lockstep.collector.correlate.HostStats;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.collector.correlate.RunStateStore;
import dev.lockstep.collector.correlate.Verdict;
import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.store.v1.CaptureRecord;
import dev.lockstep.proto.store.v1.ResumedOrder;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentState;
import dev.lockstep.proto.v1.StopOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One transaction of the core: its own writes layered over the committed {@link CoreState}
 * (reads see the transaction's writes), the effects to carry out after commit, and whether the
 * commit must be fsync'd. Savepoints let a host undo one input's writes (a refused operator call,
 * a bug on one event) and keep the rest of the transaction.
 *
 * <p>Not thread-safe: one transaction belongs to the thread that runs the core.
 */
public final class Tx implements CoreState, RunStateStore {
  private final CoreState base;
  private final long nowMillis;
  private final Map<String, RunState> runs = new LinkedHashMap<>();
  private final Map<String, HostStats> hostStats = new LinkedHashMap<>();
  private final Map<String, Optional<Incident>> incidents = new LinkedHashMap<>();
  private final Map<String, Long> counters = new LinkedHashMap<>();
  private final Map<String, Optional<StopOrder>> orders = new LinkedHashMap<>();
  private final Map<String, Optional<ResumedOrder>> resumed = new LinkedHashMap<>();
  private final Map<String, AgentStopRecord> agentStops = new LinkedHashMap<>();
  private final Map<String, Optional<CaptureRecord>> captures = new LinkedHashMap<>();
  private final Map<String, Long> processed = new LinkedHashMap<>(); // key: lane + "/" + agent
  private final List<Change> appends = new ArrayList<>();
  private final List<Effect> effects = new ArrayList<>();
  private final Deque<Runnable> undo = new ArrayDeque<>();
  private boolean sync;

  public Tx(CoreState base, long nowMillis) {
    this.base = base;
    this.nowMillis = nowMillis;
  }

  public long nowMillis() {
    return nowMillis;
  }

  // ------------------------------------------------------------------ savepoints

  /** A point to roll back to. */
  public int savepoint() {
    return undo.size();
  }

  /** Undoes every write and effect since {@code savepoint}. */
  public void rollbackTo(int savepoint) {
    while (undo.size() > savepoint) undo.pop().run();
  }

  private <K, V> void record(Map<K, V> map, K key) {
    if (map.containsKey(key)) {
      V prev = map.get(key);
      undo.push(() -> map.put(key, prev));
    } else {
      undo.push(() -> map.remove(key));
    }
  }

  private <K, V> void set(Map<K, V> map, K key, V value) {
    record(map, key);
    map.put(key, value);
  }

  // ------------------------------------------------------------------ writes

  public void putRun(RunState s) {
    set(runs, s.runId(), s);
  }

  @Override
  public void put(RunState state) {
    putRun(state);
  }

  @Override
  public void putHostStats(HostStats stats) {
    set(hostStats, stats.host(), stats);
  }

  public void putIncident(Incident i) {
    set(incidents, i.getId(), Optional.of(i));
  }

  public void deleteIncident(String id) {
    set(incidents, id, Optional.empty());
  }

  public void putCounter(String name, long value) {
    set(counters, name, value);
  }

  public void putOrder(StopOrder o) {
    set(orders, o.getId(), Optional.of(o));
  }

  public void resumeOrder(ResumedOrder r) {
    set(orders, r.getOrder().getId(), Optional.empty());
    set(resumed, r.getOrder().getId(), Optional.of(r));
  }

  public void deleteResumedOrder(String id) {
    set(resumed, id, Optional.empty());
  }

  public void putAgentStop(AgentStopRecord r) {
    set(agentStops, r.getAgentId(), r);
  }

  public void putCapture(CaptureRecord c) {
    set(captures, c.getRequestId(), Optional.of(c));
  }

  public void deleteCapture(String requestId) {
    set(captures, requestId, Optional.empty());
  }

  public void processed(String agentId, Lane lane, long seq) {
    set(processed, lane.name() + "/" + agentId, seq);
  }

  public void append(Change c) {
    appends.add(c);
    undo.push(() -> appends.remove(appends.size() - 1));
  }

  public void effect(Effect e) {
    effects.add(e);
    undo.push(() -> effects.remove(effects.size() - 1));
  }

  /** The commit must be fsync'd (a decision, an order, an operator action). */
  public void requireSync() {
    if (sync) return;
    sync = true;
    undo.push(() -> sync = false);
  }

  // ------------------------------------------------------------------ results

  public boolean syncRequired() {
    return sync;
  }

  public boolean isEmpty() {
    return runs.isEmpty() && hostStats.isEmpty() && incidents.isEmpty() && counters.isEmpty()
        && orders.isEmpty() && resumed.isEmpty() && agentStops.isEmpty() && captures.isEmpty()
        && processed.isEmpty() && appends.isEmpty();
  }

  /** Every write of this transaction, each key once with its final value. */
  public List<Change> changes() {
    List<Change> out = new ArrayList<>();
    runs.values().forEach(r -> out.add(new Change.PutRun(r)));
    hostStats.values().forEach(h -> out.add(new Change.PutHostStats(h)));
    incidents.forEach((id, v) -> out.add(v.isPresent() ? new Change.PutIncident(v.get())
        : new Change.DeleteIncident(id)));
    counters.forEach((k, v) -> out.add(new Change.PutCounter(k, v)));
    resumed.forEach((id, v) -> {
      if (v.isPresent()) {
        out.add(new Change.ResumeOrder(v.get()));
      } else {
        out.add(new Change.DeleteResumedOrder(id));
      }
    });
    orders.forEach((id, v) -> {
      if (v.isPresent()) out.add(new Change.PutOrder(v.get()));
    });
    agentStops.values().forEach(r -> out.add(new Change.PutAgentStop(r)));
    captures.forEach((id, v) -> out.add(v.isPresent() ? new Change.PutCapture(v.get())
        : new Change.DeleteCapture(id)));
    processed.forEach((k, s) -> {
      int slash = k.indexOf('/');
      out.add(new Change.Processed(k.substring(slash + 1), Lane.valueOf(k.substring(0, slash)), s));
    });
    out.addAll(appends);
    return out;
  }

  public List<Effect> effects() {
    return List.copyOf(effects);
  }

  // ------------------------------------------------------------------ reads (own writes first)

  @Override
  public Optional<RunState> run(String runId) {
    RunState r = runs.get(runId);
    return r != null ? Optional.of(r) : base.run(runId);
  }

  @Override
  public Optional<RunState> get(String runId) {
    return run(runId);
  }

  @Override
  public Collection<RunState> pendingRuns() {
    Map<String, RunState> out = new LinkedHashMap<>();
    for (RunState s : base.pendingRuns()) {
      if (!runs.containsKey(s.runId())) out.put(s.runId(), s);
    }
    for (RunState s : runs.values()) {
      if (s.verdict() == Verdict.PENDING) out.put(s.runId(), s);
    }
    return out.values();
  }

  @Override
  public Collection<RunState> pending() {
    return pendingRuns();
  }

  @Override
  public HostStats hostStats(String host) {
    HostStats h = hostStats.get(host);
    return h != null ? h : base.hostStats(host);
  }

  @Override
  public Collection<HostStats> allHostStats() {
    Map<String, HostStats> out = new TreeMap<>();
    for (HostStats h : base.allHostStats()) out.put(h.host(), h);
    out.putAll(hostStats);
    return out.values();
  }

  @Override
  public Optional<Incident> incident(String id) {
    Optional<Incident> o = incidents.get(id);
    return o != null ? o : base.incident(id);
  }

  @Override
  public Optional<String> openIncident(String signature) {
    for (Optional<Incident> o : incidents.values()) {
      if (o.isPresent() && o.get().getSignature().equals(signature)
          && o.get().getState() != IncidentState.RESOLVED) {
        return Optional.of(o.get().getId());
      }
    }
    Optional<String> b = base.openIncident(signature);
    if (b.isPresent() && incidents.containsKey(b.get())) {
      Optional<Incident> now = incidents.get(b.get());
      if (now.isEmpty() || now.get().getState() == IncidentState.RESOLVED) return Optional.empty();
    }
    return b;
  }

  @Override
  public Collection<Incident> openIncidents() {
    Map<String, Incident> out = new TreeMap<>();
    for (Incident i : base.openIncidents()) {
      if (!incidents.containsKey(i.getId())) out.put(i.getId(), i);
    }
    incidents.forEach((id, o) -> {
      if (o.isPresent() && o.get().getState() != IncidentState.RESOLVED) out.put(id, o.get());
    });
    return out.values();
  }

  @Override
  public long counter(String name) {
    Long v = counters.get(name);
    return v != null ? v : base.counter(name);
  }

  @Override
  public Optional<StopOrder> activeOrder(String id) {
    Optional<StopOrder> o = orders.get(id);
    return o != null ? o : base.activeOrder(id);
  }

  @Override
  public Collection<StopOrder> activeOrders() {
    if (orders.isEmpty()) return base.activeOrders();
    Map<String, StopOrder> out = new TreeMap<>();
    for (StopOrder o : base.activeOrders()) {
      if (!orders.containsKey(o.getId())) out.put(o.getId(), o);
    }
    orders.forEach((id, o) -> o.ifPresent(x -> out.put(id, x)));
    return out.values();
  }

  @Override
  public Optional<ResumedOrder> resumedOrder(String id) {
    Optional<ResumedOrder> o = resumed.get(id);
    return o != null ? o : base.resumedOrder(id);
  }

  @Override
  public Collection<ResumedOrder> resumedOrders() {
    Map<String, ResumedOrder> out = new TreeMap<>();
    for (ResumedOrder r : base.resumedOrders()) {
      if (!resumed.containsKey(r.getOrder().getId())) out.put(r.getOrder().getId(), r);
    }
    resumed.forEach((id, o) -> o.ifPresent(x -> out.put(id, x)));
    return out.values();
  }

  @Override
  public Optional<AgentStopRecord> agentStop(String agentId) {
    AgentStopRecord r = agentStops.get(agentId);
    return r != null ? Optional.of(r) : base.agentStop(agentId);
  }

  @Override
  public Collection<String> agents() {
    if (agentStops.isEmpty()) return base.agents();
    TreeSet<String> out = new TreeSet<>(base.agents());
    out.addAll(agentStops.keySet());
    return out;
  }

  @Override
  public Optional<CaptureRecord> capture(String requestId) {
    Optional<CaptureRecord> o = captures.get(requestId);
    return o != null ? o : base.capture(requestId);
  }

  @Override
  public Collection<CaptureRecord> openCaptures(String agentId) {
    Map<String, CaptureRecord> out = new TreeMap<>();
    for (CaptureRecord c : base.openCaptures(agentId)) {
      if (!captures.containsKey(c.getRequestId())) out.put(c.getRequestId(), c);
    }
    captures.forEach((id, o) -> o.filter(c -> c.getAgentId().equals(agentId) && !c.getDone())
        .ifPresent(c -> out.put(id, c)));
    return sorted(out.values());
  }

  @Override
  public Collection<CaptureRecord> capturesOf(String incidentId) {
    Map<String, CaptureRecord> out = new TreeMap<>();
    for (CaptureRecord c : base.capturesOf(incidentId)) {
      if (!captures.containsKey(c.getRequestId())) out.put(c.getRequestId(), c);
    }
    captures.forEach((id, o) -> o.filter(c -> c.getIncidentId().equals(incidentId))
        .ifPresent(c -> out.put(id, c)));
    return sorted(out.values());
  }

  private static List<CaptureRecord> sorted(Collection<CaptureRecord> in) {
    List<CaptureRecord> l = new ArrayList<>(in);
    l.sort(Comparator.comparing(CaptureRecord::getRequestId));
    return l;
  }

  @Override
  public long processedSeq(String agentId, Lane lane) {
    Long v = processed.get(lane.name() + "/" + agentId);
    return v != null ? v : base.processedSeq(agentId, lane);
  }
}
