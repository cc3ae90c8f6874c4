package dev.lockstep.collector.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lockstep.collector.correlate.HostStats;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.collector.correlate.Verdict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Runs in the RUNS column family ("run/" + run_id as JSON, "host/" + host for vote statistics).
 * Pending runs and host statistics are also indexed in memory (rebuilt on open) so the periodic
 * sweep does not scan the family. Writes are staged into the host's transaction batch and
 * applied to the indexes after it committed.
 */
public final class RocksRunStateStore {
  static final String RUN = "run/";
  static final String HOST = "host/";
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final Store store;
  private final Map<String, RunState> pending = new ConcurrentHashMap<>();
  private final Map<String, HostStats> hosts = new ConcurrentHashMap<>();

  public RocksRunStateStore(Store store) {
    this.store = store;
    store.scan(Store.Family.RUNS, RUN, (k, v) -> {
      RunState s = decode(v);
      if (s != null && s.verdict() == Verdict.PENDING) pending.put(s.runId(), s);
      return true;
    });
    store.scan(Store.Family.RUNS, HOST, (k, v) -> {
      try {
        HostStats h = JSON.readValue(v, HostStats.class);
        hosts.put(h.host(), h);
      } catch (IOException e) {
        // unreadable row: start that host's statistics afresh
      }
      return true;
    });
  }

  public Optional<RunState> get(String runId) {
    RunState p = pending.get(runId);
    if (p != null) return Optional.of(p);
    return Optional.ofNullable(decode(store.get(Store.Family.RUNS, RUN + runId)));
  }

  /** Adds the write of {@code state} to {@code batch}. */
  public void stage(Store.Batch batch, RunState state) {
    batch.put(Store.Family.RUNS, RUN + state.runId(), encode(state));
  }

  /** The write of {@code state} committed. */
  public void applied(RunState state) {
    if (state.verdict() == Verdict.PENDING) {
      pending.put(state.runId(), state);
    } else {
      pending.remove(state.runId());
    }
  }

  public Collection<RunState> pending() {
    return List.copyOf(pending.values());
  }

  public HostStats hostStats(String host) {
    return hosts.getOrDefault(host, new HostStats(host, 0, 0));
  }

  public void stage(Store.Batch batch, HostStats stats) {
    batch.put(Store.Family.RUNS, HOST + stats.host(), encode(stats));
  }

  public void applied(HostStats stats) {
    hosts.put(stats.host(), stats);
  }

  public Collection<HostStats> allHostStats() {
    return List.copyOf(hosts.values());
  }

  /** Visits stored runs in run_id order starting after {@code afterRunId} (empty: from the start). */
  public void scan(String afterRunId, Predicate<RunState> visitor) {
    byte[] start = (RUN + afterRunId + (afterRunId.isEmpty() ? "" : "\0"))
        .getBytes(StandardCharsets.UTF_8);
    store.scanFrom(Store.Family.RUNS, start, (k, v) -> {
      if (!new String(k, StandardCharsets.UTF_8).startsWith(RUN)) return false;
      RunState s = decode(v);
      return s == null || visitor.test(s);
    });
  }

  /**
   * Visits stored runs whose run_id starts with {@code prefix}, in run_id order, starting after
   * {@code afterRunId} (empty: from the first with the prefix).
   */
  public void scanPrefix(String prefix, String afterRunId, Predicate<RunState> visitor) {
    String from = afterRunId.compareTo(prefix) >= 0 ? afterRunId + "\0" : prefix;
    byte[] start = (RUN + from).getBytes(StandardCharsets.UTF_8);
    String keyPrefix = RUN + prefix;
    store.scanFrom(Store.Family.RUNS, start, (k, v) -> {
      if (!new String(k, StandardCharsets.UTF_8).startsWith(keyPrefix)) return false;
      RunState s = decode(v);
      return s == null || visitor.test(s);
    });
  }

  public void delete(String runId) {
    store.delete(Store.Family.RUNS, RUN + runId);
    pending.remove(runId);
  }

  /** Builds the JSON (de)serializers now rather than on the first run (start-up warm-up). */
  public static void warmUp(RunState sample) {
    try {
      JSON.readValue(JSON.writeValueAsBytes(sample), RunState.class);
      JSON.readValue(JSON.writeValueAsBytes(new HostStats("h", 1, 0)), HostStats.class);
    } catch (IOException e) {
      throw new Store.StoreException("run state encoding is broken", e);
    }
  }

  /** A run as stored (JSON): the same bytes in RocksDB and in cluster mode's state stores. */
  public static byte[] encode(RunState state) {
    try {
      return JSON.writeValueAsBytes(state);
    } catch (IOException e) {
      throw new Store.StoreException("cannot encode run " + state.runId(), e);
    }
  }

  /** A host's vote statistics as stored (JSON). */
  public static byte[] encode(HostStats stats) {
    try {
      return JSON.writeValueAsBytes(stats);
    } catch (IOException e) {
      throw new Store.StoreException("cannot encode host stats", e);
    }
  }

  /** The stored form of a host's vote statistics, or null when unreadable. */
  public static HostStats decodeHost(byte[] v) {
    try {
      return v == null ? null : JSON.readValue(v, HostStats.class);
    } catch (IOException e) {
      return null;
    }
  }

  /** The stored form of a run, or null when absent or unreadable. */
  public static RunState decode(byte[] v) {
    if (v == null) return null;
    try {
      return JSON.readValue(v, RunState.class);
    } catch (IOException e) {
      return null;
    }
  }
}
