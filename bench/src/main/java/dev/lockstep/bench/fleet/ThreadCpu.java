package dev.lockstep.bench.fleet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * CPU time of a process and of its threads by name, from /proc (Linux; clock ticks of 10 ms, the
 * kernel's USER_HZ of 100). Tells where a stop's time went: which process, and in it the JIT, GC,
 * RocksDB, transport or core threads.
 */
record ThreadCpu(long processMillis, Map<String, Long> byThread) {
  /** Now, for {@code pid}; empty (and -1) where /proc cannot be read. */
  static ThreadCpu of(long pid) {
    Map<String, Long> m = new HashMap<>();
    try (var tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
      for (Path t : tasks) {
        try {
          String st = Files.readString(t.resolve("stat"));
          // thread names lose their number: the 8 ingest threads count as one line
          String name = st.substring(st.indexOf('(') + 1, st.lastIndexOf(')')).replaceAll("[#-]?[0-9]+$", "");
          m.merge(name, millis(st), Long::sum);
        } catch (IOException | RuntimeException gone) {
          // the thread ended while we read
        }
      }
    } catch (IOException gone) {
      return new ThreadCpu(-1, Map.of());
    }
    try {
      return new ThreadCpu(millis(Files.readString(Path.of("/proc/" + pid + "/stat"))), m);
    } catch (IOException gone) {
      return new ThreadCpu(-1, Map.of());
    }
  }

  private static long millis(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10; // utime + stime, in ticks
  }

  /** CPU of the JIT compiler threads since {@code before} (ms). */
  long compilerMillisSince(ThreadCpu before) {
    long sum = 0;
    for (var e : byThread.entrySet()) {
      if (e.getKey().contains("CompilerThre")) {
        sum += e.getValue() - before.byThread.getOrDefault(e.getKey(), 0L);
      }
    }
    return sum;
  }

  /** "520 ms (C2 CompilerThre 130, lockstep-core 90, …)": since {@code before}, busiest first. */
  String since(ThreadCpu before, int threads) {
    if (processMillis < 0 || before.processMillis < 0) return "n/a";
    StringBuilder sb = new StringBuilder().append(processMillis - before.processMillis).append(" ms (");
    byThread.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), e.getValue() - before.byThread.getOrDefault(e.getKey(), 0L)))
        .filter(e -> e.getValue() > 0)
        .sorted((x, y) -> Long.compare(y.getValue(), x.getValue())).limit(threads)
        .forEach(e -> sb.append(e.getKey()).append(' ').append(e.getValue()).append(", "));
    if (sb.charAt(sb.length() - 1) == ' ') sb.setLength(sb.length() - 2);
    return sb.append(')').toString();
  }
}
