package dev.lockstep.collector.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.collector.core.Change;
import dev.lockstep.collector.core.CoreState;
import dev.lockstep.collector.host.CoreIndex;
import dev.lockstep.collector.correlate.HostStats;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.collector.correlate.Verdict;
import dev.lockstep.collector.store.RocksRunStateStore;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentState;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The core's committed state in cluster mode: one Kafka Streams key-value store (RocksDB with a
 * compacted changelog, restored on whichever collector runs the core task) plus in-memory indexes
 * rebuilt from it when the task starts. Decided runs are read from the store; everything the core
 * scans (pending runs, open incidents, orders, agents' stop records, captures) is indexed.
 * Only the core task's thread uses it.
 */
final class StreamsState extends CoreIndex {
  private final KeyValueStore<String, byte[]> store;
  private final Map<String, RunState> pending = new HashMap<>();
  private final TreeMap<String, HostStats> hosts = new TreeMap<>();
  private final TreeMap<String, Incident> incidents = new TreeMap<>();
  private final Map<String, String> openBySignature = new HashMap<>();

  StreamsState(KeyValueStore<String, byte[]> store) {
    this.store = store;
    try (KeyValueIterator<String, byte[]> it = store.all()) {
      while (it.hasNext()) {
        KeyValue<String, byte[]> kv = it.next();
        index(kv.key, kv.value);
      }
    }
  }

  /**
   * Writes a committed transaction's changes to the store (its changelog goes into the same Kafka
   * transaction as everything else the input caused) and to the indexes; {@code written} sees
   * every keyed write in order.
   */
  void apply(List<Change> changes, BiConsumer<String, byte[]> written) {
    for (Change c : changes) {
      for (StateCodec.Write w : StateCodec.writes(c)) {
        if (w.value() == null) {
          store.delete(w.key());
        } else {
          store.put(w.key(), w.value());
        }
        index(w.key(), w.value());
        written.accept(w.key(), w.value());
      }
    }
  }

  /** Deletes a decided run (retention): a tombstone in the changelog. */
  void deleteRun(String runId) {
    store.delete(StateCodec.RUN + runId);
    pending.remove(runId);
  }

  /** Visits decided runs (retention). */
  void decidedRuns(java.util.function.Predicate<RunState> visitor) {
    try (KeyValueIterator<String, byte[]> it = store.prefixScan(StateCodec.RUN,
        new org.apache.kafka.common.serialization.StringSerializer())) {
      while (it.hasNext()) {
        RunState r = RocksRunStateStore.decode(it.next().value);
        if (r != null && r.verdict() != Verdict.PENDING && !visitor.test(r)) return;
      }
    }
  }

  /** Resolved incidents last seen before {@code cutoffMillis} (what retention may forget). */
  List<String> resolvedBefore(long cutoffMillis) {
    List<String> out = new ArrayList<>();
    for (Incident i : incidents.values()) {
      if (i.getState() == IncidentState.RESOLVED && i.getLastSeen().getSeconds() * 1000 < cutoffMillis) {
        out.add(i.getId());
      }
    }
    return out;
  }

  private void index(String key, byte[] v) {
    try {
      if (key.startsWith(StateCodec.RUN)) {
        String id = key.substring(StateCodec.RUN.length());
        RunState r = v == null ? null : RocksRunStateStore.decode(v);
        if (r != null && r.verdict() == Verdict.PENDING) {
          pending.put(id, r);
        } else {
          pending.remove(id);
        }
      } else if (key.startsWith(StateCodec.HOST)) {
        HostStats h = RocksRunStateStore.decodeHost(v);
        if (h != null) hosts.put(h.host(), h);
      } else if (key.startsWith(StateCodec.INCIDENT)) {
        String id = key.substring(StateCodec.INCIDENT.length());
        Incident prev = v == null ? incidents.remove(id) : incidents.put(id, Incident.parseFrom(v));
        if (prev != null) openBySignature.remove(prev.getSignature(), id);
        Incident now = incidents.get(id);
        if (now != null && now.getState() != IncidentState.RESOLVED) {
          openBySignature.put(now.getSignature(), id);
        }
      } else {
        Change c = StateCodec.change(key, v);
        if (c != null) index(c);
      }
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("unreadable core state record " + key + ": " + e.getMessage(), e);
    }
  }

  // ------------------------------------------------------------------ CoreState

  @Override
  public Optional<RunState> run(String runId) {
    RunState p = pending.get(runId);
    if (p != null) return Optional.of(p);
    return Optional.ofNullable(RocksRunStateStore.decode(store.get(StateCodec.RUN + runId)));
  }

  @Override
  public Collection<RunState> pendingRuns() {
    return List.copyOf(pending.values());
  }

  @Override
  public HostStats hostStats(String host) {
    return hosts.getOrDefault(host, new HostStats(host, 0, 0));
  }

  @Override
  public Collection<HostStats> allHostStats() {
    return List.copyOf(hosts.values());
  }

  @Override
  public Optional<Incident> incident(String id) {
    return Optional.ofNullable(incidents.get(id));
  }

  @Override
  public Optional<String> openIncident(String signature) {
    return Optional.ofNullable(openBySignature.get(signature));
  }

  @Override
  public Collection<Incident> openIncidents() {
    List<Incident> out = new ArrayList<>();
    for (String id : new java.util.TreeSet<>(openBySignature.values())) out.add(incidents.get(id));
    return out;
  }

}
