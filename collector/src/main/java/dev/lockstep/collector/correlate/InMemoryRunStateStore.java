package dev.lockstep.collector.correlate;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** A {@link RunStateStore} in memory, for tests and tools. */
public final class InMemoryRunStateStore implements RunStateStore {
  private final Map<String, RunState> runs = new ConcurrentHashMap<>();
  private final Map<String, HostStats> hosts = new ConcurrentHashMap<>();

  @Override
  public Optional<RunState> get(String runId) {
    return Optional.ofNullable(runs.get(runId));
  }

  @Override
  public void put(RunState state) {
    runs.put(state.runId(), state);
  }

  @Override
  public Collection<RunState> pending() {
    List<RunState> out = new ArrayList<>();
    for (RunState s : runs.values()) {
      if (s.verdict() == Verdict.PENDING) out.add(s);
    }
    return out;
  }

  @Override
  public HostStats hostStats(String host) {
    return hosts.getOrDefault(host, new HostStats(host, 0, 0));
  }

  @Override
  public void putHostStats(HostStats stats) {
    hosts.put(stats.host(), stats);
  }

  @Override
  public Collection<HostStats> allHostStats() {
    return List.copyOf(hosts.values());
  }
}
