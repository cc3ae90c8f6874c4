package dev.lockstep.agent.watch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run ids of the golden files reported last (a bounded index, newest kept), so evidence for a
 * fresh incident and retention's pins find a run's files without reading them. Older runs are
 * found by file name or by reading the file. Thread-safe.
 */
final class RecentRuns {
  private final int capacity;
  private final LinkedHashMap<String, String> runOfPath;

  RecentRuns(int capacity) {
    this.capacity = capacity;
    this.runOfPath = new LinkedHashMap<>(256, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
        return size() > RecentRuns.this.capacity;
      }
    };
  }

  synchronized void add(Path file, String runId) {
    if (runId != null && !runId.isEmpty()) {
      String key = file.toString();
      runOfPath.remove(key);
      runOfPath.put(key, runId);
    }
  }

  synchronized String runOf(Path file) {
    return runOfPath.get(file.toString());
  }

  synchronized List<Path> filesOf(String runId) {
    List<Path> out = new ArrayList<>(2);
    for (Map.Entry<String, String> e : runOfPath.entrySet()) {
      if (e.getValue().equals(runId)) {
        out.add(Path.of(e.getKey()));
      }
    }
    return out;
  }

  synchronized void forget(Path file) {
    runOfPath.remove(file.toString());
  }
}
