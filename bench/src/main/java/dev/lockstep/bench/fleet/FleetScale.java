package dev.lockstep.bench.fleet;

import static dev.lockstep.bench.fleet.FleetBench.percentile;
import static dev.lockstep.bench.fleet.FleetBench.say;

import dev.lockstep.collector.internal.LocalKafka;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.StatusRequest;
import dev.lockstep.proto.v1.StopStatusRequest;
import dev.lockstep.security.CertsInit;
import dev.lockstep.security.Tls;
import dev.lockstep.security.TlsFiles;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench/run fleet} past what one process holds (more than 1,000 agents, {@code --procs},
 * {@code --cluster}): the simulated agents live in several {@link LoadChild} JVMs, each with its
 * own file descriptors, the events in flight bounded in total. Measures one embedded collector
 * (RSS per connected idle agent, durable ingest, mismatch to StopAck across all agents, lost and
 * duplicated) and, with {@code --cluster}, the same on one Kafka broker and two collectors in
 * cluster mode, agents split between them, in the same run.
 */
final class FleetScale {
  /** Agents per load process: well inside one process's 20,000 file descriptors. */
  static final int AGENTS_PER_PROCESS = 2_500;

  private final int agents;
  private final int seconds;
  private final int procs;
  private final int batch;
  private final int window;
  private final Path work;
  private final Path certs;

  FleetScale(int agents, int seconds, int procs, int batch, int window, Path work, Path certs) {
    this.agents = agents;
    this.seconds = seconds;
    this.procs = procs;
    this.batch = batch;
    this.window = window;
    this.work = work;
    this.certs = certs;
  }

  static String agentId(int i) {
    return String.format(Locale.ROOT, "sim-%05d", i);
  }

  /** What one mode measured. */
  record Figures(int agents, double ingest, long acked, double connectS, long connectAgain, long rssIdleKb, long rssConnectedKb,
      double stopP50, double stopP99, double stopMax, double warmP50, double warmP99,
      int confirmed, long missing, long lost, long duplicated, String load, long stopCpuCollectorMs,
      long stopCpuLoadMs) {
    String json() {
      return String.format(Locale.ROOT, "\"ingest_events_per_s\":%.0f,\"events_acked\":%d,\"connect_s\":%.1f,\"connect_again\":%d,"
          + "\"collector_rss_idle_mb\":%.1f,\"collector_rss_connected_mb\":%.1f,\"rss_per_agent_kb\":%.1f,"
          + "\"stop_idle_p50_ms\":%.1f,\"stop_idle_p99_ms\":%.1f,\"stop_idle_max_ms\":%.1f,"
          + "\"stop_warm_p50_ms\":%.1f,\"stop_warm_p99_ms\":%.1f,\"stop_confirmed\":%d,\"stop_missing\":%d,"
          + "\"stop_idle_cpu_collector_ms\":%d,\"stop_idle_cpu_load_processes_ms\":%d,"
          + "\"lost\":%d,\"duplicated\":%d,\"load_avg\":\"%s\"",
          ingest, acked, connectS, connectAgain, rssIdleKb / 1024.0, rssConnectedKb / 1024.0, perAgentKb(), stopP50, stopP99,
          stopMax, warmP50, warmP99, confirmed, missing, stopCpuCollectorMs, stopCpuLoadMs, lost,
          duplicated, load);
    }

    double perAgentKb() {
      return (rssConnectedKb - rssIdleKb) / (double) agents;
    }
  }

  /**
   * Issues the certificates not already in {@code dir} (kept between runs): agents' in four
   * threads (each writes and fsyncs its files; one at a time is fsync-bound), then the collector's
   * and the operator's in one last call, so no two calls write the collector's pair at once.
   */
  static Path certificates(Path dir, int agents) throws Exception {
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < agents; i++) {
      if (!Files.exists(TlsFiles.inDirectory(dir, agentId(i)).cert())) missing.add(agentId(i));
    }
    List<String> operators = Files.exists(TlsFiles.inDirectory(dir, "bench").cert()) ? List.of() : List.of("bench");
    List<String> hosts = List.of("127.0.0.1", "localhost");
    Duration validity = Duration.ofDays(30);
    long t0 = System.nanoTime();
    if (!Files.exists(dir.resolve(CertsInit.CA_CERT_FILE))) CertsInit.run(dir, List.of(), List.of(), List.of(), hosts, validity);
    int threads = 4;
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      List<java.util.concurrent.Future<?>> parts = new ArrayList<>();
      int share = (missing.size() + threads - 1) / threads;
      for (int from = 0; from < missing.size(); from += share) {
        List<String> part = missing.subList(from, Math.min(missing.size(), from + share));
        parts.add(pool.submit(() -> CertsInit.run(dir, part, List.of(), List.of(), hosts, validity)));
      }
      for (var f : parts) f.get();
    } finally {
      pool.shutdownNow();
    }
    CertsInit.run(dir, List.of(), operators, List.of(), hosts, validity);
    double s = (System.nanoTime() - t0) / 1e9;
    say("certificates: %d agents' issued in %.1f s (%s; %d threads, one EC P-256 key and certificate per agent, fsynced), %d reused from %s; load %s",
        missing.size(), s, missing.isEmpty() ? "only the collector's" : String.format(Locale.ROOT, "%.1f ms each", 1000 * s / missing.size()),
        threads, agents - missing.size(), dir, load());
    return dir;
  }

  /** Embedded, then (with {@code cluster}) cluster mode; prints both and one JSON line. */
  void run(boolean cluster) throws Exception {
    String embeddedJson;
    String clusterJson = "null";
    Figures embedded;
    try (Embedded e = new Embedded()) {
      embedded = measure("embedded", e.targets, e.pids(), e.operator);
      embeddedJson = embedded.json();
    }
    Figures clustered = null;
    if (cluster) {
      try (Clustered c = new Clustered()) {
        clustered = measure("cluster", c.targets, c.pids(), c.operator);
        clusterJson = "{" + clustered.json() + "}";
      } catch (Exception | Error e) {
        say("cluster: not measured with %d agents: %s", agents, e);
        clusterJson = "{\"error\":\"" + String.valueOf(e).replace("\\", "/").replace("\"", "'") + "\"}";
      }
    }
    if (clustered != null) {
      say("side by side (%d agents): ingest embedded %,.0f vs cluster %,.0f events/s; stop p50/p99 embedded %.0f/%.0f ms vs cluster %.0f/%.0f ms",
          agents, embedded.ingest, clustered.ingest, embedded.stopP50, embedded.stopP99,
          clustered.stopP50, clustered.stopP99);
    }
    System.out.println(String.format(Locale.ROOT,
        "{\"agents\":%d,\"tls\":true,\"procs\":%d,\"batch\":%d,\"window\":%d,\"in_flight_max\":%d,\"cores\":%d,%s,\"cluster\":%s}",
        agents, procs, batch, window, (long) agents * batch * window,
        Runtime.getRuntime().availableProcessors(), embeddedJson, clusterJson));
  }

  private Figures measure(String label, List<String> targets, long[] collectorPids,
      OperatorGrpc.OperatorBlockingStub operator) throws Exception {
    List<LoadProcess> children = new ArrayList<>();
    try {
      long rssIdle = rssKb(collectorPids);
      int share = (agents + procs - 1) / procs;
      for (int p = 0, first = 0; first < agents; p++, first += share) {
        children.add(LoadProcess.start(work, children.size() + (label.equals("cluster") ? procs : 0),
            targets, certs, first, Math.min(share, agents - first), batch, window));
      }
      say("%s: %d load processes (pids %s), %d agents each at most, batches of %d, %d in flight per agent: at most %,d events in flight",
          label, children.size(), children.stream().map(c -> Long.toString(c.pid())).toList(), share,
          batch, window, (long) agents * batch * window);
      long t0 = System.nanoTime();
      long again = sum(all(children, "connect", Duration.ofMinutes(30)), 2);
      double connectS = (System.nanoTime() - t0) / 1e9;
      Thread.sleep(5_000); // the connected streams settle (handshake garbage collected or not)
      long rssConnected = rssKb(collectorPids);
      say("%s: %d agents connected (mTLS) in %.1f s (%d connected again after the collector closed their first try); collector RSS %.0f MB before, %.0f MB with them connected and idle: %.1f KB per agent; load %s",
          label, agents, connectS, again, rssIdle / 1024.0, rssConnected / 1024.0,
          (rssConnected - rssIdle) / (double) agents, load());

      long start = System.nanoTime();
      all(children, "send", Duration.ofSeconds(30));
      long lastReport = start;
      while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(seconds)) {
        Thread.sleep(250); // sampling interval of the progress line
        if (System.nanoTime() - lastReport > TimeUnit.SECONDS.toNanos(2)) {
          lastReport = System.nanoTime();
          long acked = sum(all(children, "acked", Duration.ofSeconds(30)), 0);
          say("  %s: %,d events acked, %,.0f events/s", label, acked, acked / ((lastReport - start) / 1e9));
        }
      }
      long acked = sum(all(children, "drain", Duration.ofMinutes(3)), 0);
      double elapsed = (System.nanoTime() - start) / 1e9;
      double ingest = acked / elapsed;
      String load = load();
      say("%s: %,d events acked in %.1f s = %,.0f events/s (durable, acked by the collector); load %s",
          label, acked, elapsed, ingest, load);

      // in cluster mode the core reads the events topic in order: a mismatch waits behind its lag
      var lag = operator.getStatus(StatusRequest.getDefaultInstance()).getCluster().getCoreLagMap();
      if (!lag.isEmpty()) say("%s: the core's lag as the first stop starts: %s records", label, lag);
      Stop first = stop(children, "bench-scale-" + label + "-0001", label, collectorPids);
      double[] cold = first.ms();
      long missing = first.missing();
      FleetBench.awaitAllConfirmedStopped(operator, agents);
      int confirmed = operator.getStopStatus(StopStatusRequest.getDefaultInstance()).getConfirmed();
      decided(label);
      say("%s: stop (idle, first mismatch): mismatching golden event -> StopAck from all %d agents: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d without one); collector counts %d confirmed; load %s",
          label, agents, percentile(cold, 50), percentile(cold, 99), cold[cold.length - 1], missing, confirmed, load());
      resume(children, operator);
      lag = operator.getStatus(StatusRequest.getDefaultInstance()).getCluster().getCoreLagMap();
      if (!lag.isEmpty()) say("%s: the core's lag as the second stop starts: %s records", label, lag);
      Stop second = stop(children, "bench-scale-" + label + "-0002", label, collectorPids);
      double[] warm = second.ms();
      missing += second.missing();
      decided(label);
      say("%s: stop (idle, second mismatch): p50 %.1f ms, p99 %.1f ms, max %.1f ms; load %s",
          label, percentile(warm, 50), percentile(warm, 99), warm[warm.length - 1], load());
      FleetBench.awaitAllConfirmedStopped(operator, agents);
      resume(children, operator);

      long before = operator.getStatus(StatusRequest.getDefaultInstance()).getEventsIngested();
      long lost = -1;
      long duplicated = -1;
      try {
        lost = sum(all(children, "recheck", Duration.ofMinutes(10)), 0);
        Thread.sleep(2_000); // a duplicate would be counted by now
        duplicated = Math.max(0, operator.getStatus(StatusRequest.getDefaultInstance()).getEventsIngested() - before);
        say("%s: exactly-once check: %d agents reconnected claiming nothing acked and resent their last acked event: lost %d, duplicated %d",
            label, agents, lost, duplicated);
      } catch (IllegalStateException notDone) {
        // the figures above stand; lost/duplicated -1 in the JSON line say this check did not finish
        say("%s: exactly-once check not finished: %s", label, notDone.getMessage());
      }
      return new Figures(agents, ingest, acked, connectS, again, rssIdle, rssConnected, percentile(cold, 50),
          percentile(cold, 99), cold[cold.length - 1], percentile(warm, 50), percentile(warm, 99),
          confirmed, missing, lost, duplicated, load, first.collectorCpuMs(), first.loadCpuMs());
    } finally {
      for (LoadProcess c : children) c.close();
    }
  }

  /**
   * One stop: each agent's ms to its StopAck (sorted), how many agents sent none, and the CPU the
   * collector(s) and the load processes used from the mismatch to the last StopAck (ms).
   */
  private record Stop(double[] ms, long missing, long collectorCpuMs, long loadCpuMs) {}

  /**
   * A primary/shadow pair whose hashes differ, from agents 0 and 1 (on different collectors in
   * cluster mode); per agent, ms from the second report's send to that agent's StopAck.
   */
  private static Stop stop(List<LoadProcess> children, String runId, String label,
      long[] collectorPids) throws Exception {
    LoadProcess first = children.get(0);
    List<ThreadCpu> collectorsBefore = cpu(collectorPids);
    List<ThreadCpu> loadBefore = cpu(children.stream().mapToLong(LoadProcess::pid).toArray());
    long w0 = System.nanoTime();
    first.send("golden 0 " + runId + " primary " + SimAgent.PRIMARY_HASH);
    first.answer("golden", Duration.ofSeconds(10));
    Thread.sleep(50); // let the primary report land first, as it would in a real fleet
    first.send("golden 1 " + runId + " shadow " + SimAgent.SHADOW_HASH);
    long t0 = Long.parseLong(first.answer("golden", Duration.ofSeconds(10)));
    List<String> answers = all(children, "stopacks 120", Duration.ofSeconds(180));
    List<Double> ms = new ArrayList<>();
    long missing = 0;
    for (String a : answers) {
      String[] w = a.split(" ");
      missing += Long.parseLong(w[0]);
      for (int i = 1; i < w.length; i++) ms.add((Long.parseLong(w[i]) - t0) / 1000.0);
    }
    if (ms.isEmpty()) throw new IllegalStateException("no agent acked the stop");
    double wallMs = (System.nanoTime() - w0) / 1e6;
    List<ThreadCpu> collectorsAfter = cpu(collectorPids);
    List<ThreadCpu> loadAfter = cpu(children.stream().mapToLong(LoadProcess::pid).toArray());
    long collectorCpu = cpuSince(collectorsAfter, collectorsBefore);
    long loadCpu = cpuSince(loadAfter, loadBefore);
    // The agents are simulated on the same cores as the collector: how the CPU was shared says how
    // much of the stop's time the bench's own agents took from the collector.
    say("  %s: CPU from the mismatch to the last StopAck (%.0f ms wall, %d cores = %.0f ms of CPU"
        + " at most): collector %s; the %d load processes %d ms",
        label, wallMs, Runtime.getRuntime().availableProcessors(),
        wallMs * Runtime.getRuntime().availableProcessors(),
        collectorsAfter.get(0).since(collectorsBefore.get(0), 5)
            + (collectorsAfter.size() > 1 ? " (first collector; all: " + collectorCpu + " ms)" : ""),
        children.size(), loadCpu);
    double[] sorted = ms.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(sorted);
    return new Stop(sorted, missing, collectorCpu, loadCpu);
  }

  private static List<ThreadCpu> cpu(long[] pids) {
    List<ThreadCpu> out = new ArrayList<>();
    for (long pid : pids) out.add(ThreadCpu.of(pid));
    return out;
  }

  /** CPU ms used by the processes between the two samples; -1 where /proc could not be read. */
  static long cpuSince(List<ThreadCpu> after, List<ThreadCpu> before) {
    long sum = 0;
    for (int i = 0; i < after.size(); i++) {
      if (after.get(i).processMillis() < 0 || before.get(i).processMillis() < 0) return -1;
      sum += after.get(i).processMillis() - before.get(i).processMillis();
    }
    return sum;
  }

  private static void resume(List<LoadProcess> children, OperatorGrpc.OperatorBlockingStub operator)
      throws Exception {
    operator.resumeStop(ResumeStopRequest.newBuilder().setReason("bench: resume").setAll(true)
        .addAllOrderIds(operator.getStopStatus(dev.lockstep.proto.v1.StopStatusRequest.getDefaultInstance()).getOrdersList().stream().map(dev.lockstep.proto.v1.StopOrder::getId).toList()).build());
    all(children, "resumed 120", Duration.ofSeconds(150));
  }

  /** Sends {@code command} to every child, then collects their answers (in the children's order). */
  private static List<String> all(List<LoadProcess> children, String command, Duration limit)
      throws Exception {
    for (LoadProcess c : children) c.send(command);
    String name = command.split(" ")[0];
    List<String> out = new ArrayList<>();
    for (LoadProcess c : children) out.add(c.answer(name, limit));
    return out;
  }

  private static long sum(List<String> answers, int word) {
    return answers.stream().mapToLong(a -> Long.parseLong(a.split(" ")[word])).sum();
  }

  /** Resident set size of the processes, in KB (VmRSS of /proc/PID/status). */
  static long rssKb(long... pids) throws java.io.IOException {
    long kb = 0;
    for (long pid : pids) {
      for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (l.startsWith("VmRSS:")) kb += Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    return kb;
  }

  static String load() {
    try {
      String[] w = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return w[0] + " " + w[1] + " " + w[2];
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }

  private OperatorGrpc.OperatorBlockingStub operatorOn(String target, List<ManagedChannel> owned)
      throws Exception {
    ManagedChannel ch = NettyChannelBuilder.forTarget(target,
        Tls.channelCredentials(TlsFiles.inDirectory(certs, "bench"))).build();
    owned.add(ch);
    return OperatorGrpc.newBlockingStub(ch);
  }

  private TlsFiles collectorTls() {
    return TlsFiles.inDirectory(certs, CertsInit.COLLECTOR_NAME);
  }

  /** Collector processes and the operator channels on them; closed in reverse start order. */
  /** The embedded collector's account of where its last stop decision's time went. */
  private void decided(String label) {
    FleetBench.lastLine(work.resolve("collector.log"), "stop decided:")
        .ifPresent(l -> say("  %s: %s", label, l));
  }

  private abstract class Collectors implements AutoCloseable {
    final List<Process> processes = new ArrayList<>();
    final List<String> targets = new ArrayList<>();
    final List<ManagedChannel> channels = new ArrayList<>();
    OperatorGrpc.OperatorBlockingStub operator;

    void start(String name, List<String> extraArgs) throws Exception {
      Process p = FleetBench.startCollector(work, name, collectorTls(), agents + 100,
          FleetBench.freePort(), extraArgs);
      processes.add(p);
      String target = "localhost:" + Files.readString(work.resolve(name + ".port")).trim();
      targets.add(target);
      say("%s: collector process %d listening on %s (mTLS)", name, p.pid(), target);
      if (operator == null) operator = operatorOn(target, channels);
    }

    long[] pids() {
      return processes.stream().mapToLong(Process::pid).toArray();
    }

    @Override
    public void close() throws Exception {
      for (ManagedChannel c : channels) c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      for (Process p : processes) p.destroy();
      for (Process p : processes) {
        if (!p.waitFor(15, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
      }
    }
  }

  private final class Embedded extends Collectors {
    Embedded() throws Exception {
      start("collector", List.of());
    }
  }

  /** One KRaft broker and two collectors in cluster mode (replication 1: one broker). */
  private final class Clustered extends Collectors {
    private final LocalKafka kafka;

    Clustered() throws Exception {
      say("cluster: starting one Kafka broker (KRaft) ...");
      kafka = LocalKafka.start(work.resolve("kafka"), 1, line -> say("  %s", line));
      try {
        for (String name : List.of("c1", "c2")) {
          List<String> args = new java.util.ArrayList<>(List.of("--kafka", kafka.bootstrap(),
              "--kafka-replication", "1", "--collector-id", name));
          // BENCH_CORE_BACKLOG=0s: the cluster's core backlog never holds routine events (A/B)
          String backlog = System.getenv("BENCH_CORE_BACKLOG");
          if (backlog != null && !backlog.isBlank()) args.addAll(List.of("--max-core-backlog", backlog));
          start(name, args);
        }
      } catch (Exception e) {
        close();
        throw e;
      }
    }

    @Override
    public void close() throws Exception {
      try {
        super.close();
      } finally {
        kafka.close();
      }
    }
  }
}
