package dev.lockstep.collector.host;

import dev.lockstep.collector.core.Change;
import dev.lockstep.collector.core.CoreState;
import dev.lockstep.collector.core.Lane;
import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.store.v1.CaptureRecord;
import dev.lockstep.proto.store.v1.ResumedOrder;
import dev.lockstep.proto.v1.StopOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The small part of the core's committed state every host keeps whole in memory: counters, stop
 * orders (active and resumed), every agent's stop record, capture requests and per-agent
 * processing marks. A host feeds it committed changes ({@link #index}) and supplies runs and
 * incidents itself. Each map is safe to read from any thread.
 */
public abstract class CoreIndex implements CoreState {
  private final Map<String, Long> counters = new ConcurrentHashMap<>();
  private final ConcurrentSkipListMap<String, StopOrder> orders = new ConcurrentSkipListMap<>();
  private final ConcurrentSkipListMap<String, ResumedOrder> resumed = new ConcurrentSkipListMap<>();
  private final ConcurrentSkipListMap<String, AgentStopRecord> agentStops =
      new ConcurrentSkipListMap<>();
  private final Map<String, CaptureRecord> captures = new ConcurrentHashMap<>();
  private final Map<String, Long> processed = new ConcurrentHashMap<>();

  /** Applies a committed change; changes this index does not keep are ignored. */
  protected final void index(Change c) {
    if (c instanceof Change.PutCounter k) {
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
    }
  }

  @Override
  public final long counter(String name) {
    return counters.getOrDefault(name, 0L);
  }

  @Override
  public final Optional<StopOrder> activeOrder(String id) {
    return Optional.ofNullable(orders.get(id));
  }

  /** Active orders in id order. */
  @Override
  public final Collection<StopOrder> activeOrders() {
    return List.copyOf(orders.values());
  }

  @Override
  public final Optional<ResumedOrder> resumedOrder(String id) {
    return Optional.ofNullable(resumed.get(id));
  }

  @Override
  public final Collection<ResumedOrder> resumedOrders() {
    return List.copyOf(resumed.values());
  }

  @Override
  public final Optional<AgentStopRecord> agentStop(String agentId) {
    return Optional.ofNullable(agentStops.get(agentId));
  }

  /** Every agent with a stop record, in id order. */
  @Override
  public final Collection<String> agents() {
    return List.copyOf(agentStops.keySet());
  }

  /** Every agent's stop record, by agent id. */
  public final Collection<AgentStopRecord> agentStops() {
    return List.copyOf(agentStops.values());
  }

  @Override
  public final Optional<CaptureRecord> capture(String requestId) {
    return Optional.ofNullable(captures.get(requestId));
  }

  /** Capture requests of this agent not answered completely, by request id. */
  @Override
  public final Collection<CaptureRecord> openCaptures(String agentId) {
    List<CaptureRecord> out = new ArrayList<>();
    for (CaptureRecord c : captures.values()) {
      if (c.getAgentId().equals(agentId) && !c.getDone()) out.add(c);
    }
    out.sort(Comparator.comparing(CaptureRecord::getRequestId));
    return out;
  }

  /** Capture requests of this incident, by request id. */
  @Override
  public final Collection<CaptureRecord> capturesOf(String incidentId) {
    List<CaptureRecord> out = new ArrayList<>();
    for (CaptureRecord c : captures.values()) {
      if (c.getIncidentId().equals(incidentId)) out.add(c);
    }
    out.sort(Comparator.comparing(CaptureRecord::getRequestId));
    return out;
  }

  @Override
  public final long processedSeq(String agentId, Lane lane) {
    return processed.getOrDefault(lane + "/" + agentId, 0L);
  }
}
