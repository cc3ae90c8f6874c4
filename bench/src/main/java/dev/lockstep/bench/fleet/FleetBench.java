package dev.lockstep.bench.fleet;

import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.StatusRequest;
import dev.lockstep.proto.v1.StopStatusRequest;
import dev.lockstep.security.CertsInit;
import dev.lockstep.security.Tls;
import dev.lockstep.security.TlsFiles;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * {@code bench/run fleet}: N simulated agents, each on its own mTLS gRPC connection (its own
 * certificate) over loopback, against a real collector process. Measures durable ingest, then the
 * time from a mismatching golden event to every agent's StopAck: idle (nothing else going on),
 * and loaded (full ingest, retention passes every 2 s and evidence uploads in flight while the
 * stop is issued); in the same run a no-op gRPC sink and raw RocksDB batched writes for
 * comparison. Prints readable lines and ends with one JSON line.
 */
public final class FleetBench {
  private static final int BATCH = 500;
  private static final int WINDOW = 4;
  /** Events in flight (sent, not yet acked) across all agents: 1,000 agents at full batches. */
  private static final long DEFAULT_IN_FLIGHT = 2_000_000;
  /** Past this many agents the load generator is several processes (FleetScale). */
  private static final int ONE_PROCESS_AGENTS = 1_000;

  /** Events per batch so that all agents' windows together hold at most {@code inFlight} events. */
  static int batchFor(int agents, long inFlight) {
    return (int) Math.max(1, Math.min(BATCH, inFlight / ((long) agents * WINDOW)));
  }

  public static void main(String[] args) throws Exception {
    int agents = 100;
    int seconds = 10;
    int procs = 0;
    boolean cluster = false;
    long inFlight = DEFAULT_IN_FLIGHT;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--agents" -> agents = Integer.parseInt(args[++i]);
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--procs" -> procs = Integer.parseInt(args[++i]);
        case "--in-flight" -> inFlight = Long.parseLong(args[++i]);
        case "--cluster" -> cluster = true;
        default -> throw new IllegalArgumentException("bench fleet: unknown argument " + args[i]
            + " (usage: fleet --agents N --seconds S [--procs P] [--in-flight EVENTS] [--cluster])");
      }
    }
    int batch = batchFor(agents, inFlight);
    Path work = Files.createTempDirectory("lockstep-bench-fleet-");
    try {
      run(work, agents, seconds, procs, batch, cluster);
    } finally {
      // a run leaves GBs of stores behind; LOCKSTEP_BENCH_KEEP=1 keeps them (and the logs)
      if ("1".equals(System.getenv("LOCKSTEP_BENCH_KEEP"))) {
        say("workspace kept: %s", work);
      } else {
        deleteTree(work);
      }
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  private static void run(Path work, int agents, int seconds, int procs, int batch, boolean cluster)
      throws Exception {
    if (cluster || procs > 1 || (procs == 0 && agents > ONE_PROCESS_AGENTS)) {
      if (procs <= 0) procs = (agents + FleetScale.AGENTS_PER_PROCESS - 1) / FleetScale.AGENTS_PER_PROCESS;
      say("fleet benchmark: %d agents in %d load processes, %d s of ingest, mTLS%s, workspace %s; %d cores, load average %s",
          agents, procs, seconds, cluster ? ", embedded then cluster mode (1 broker, 2 collectors)" : "", work,
          Runtime.getRuntime().availableProcessors(), FleetScale.load());
      Path certs = FleetScale.certificates(Path.of(System.getProperty("lockstep.bench.data",
          work.toString())).resolve("fleet-certs"), agents);
      new FleetScale(agents, seconds, procs, batch, WINDOW, work, certs).run(cluster);
      return;
    }
    say("fleet benchmark: %d agents, %d s per phase, mTLS, batches of %d, workspace %s", agents, seconds, batch, work);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < agents; i++) ids.add(String.format("sim-%04d", i));
    long t0 = System.nanoTime();
    CertsInit.Result certs = CertsInit.run(work.resolve("certs"), ids, List.of("bench"), List.of(),
        List.of("127.0.0.1", "localhost"), java.time.Duration.ofDays(1));
    say("issued %d certificates in %.1f s", agents + 2, (System.nanoTime() - t0) / 1e9);

    double noop;
    try (NoopSink sink = new NoopSink()) {
      noop = ingest("no-op gRPC sink (plaintext)", "127.0.0.1:" + sink.port(), ids, seconds, batch, null,
          id -> InsecureChannelCredentials.create()).eventsPerSecond;
    }
    // The collector fsyncs each ingested batch before it acks (Store: syncWrites), so the fair
    // baseline is synced batches; unsynced (WAL in the page cache) is printed for scale.
    double rocksUnsynced = rocksdbPuts(work.resolve("raw-rocksdb-nosync"), seconds, false);
    double rocks = rocksdbPuts(work.resolve("raw-rocksdb-sync"), seconds, true);

    Process collector = startCollector(work, certs, agents);
    collectorPid = collector.pid();
    collectorLog = work.resolve("collector.log");
    try {
      String target = "127.0.0.1:" + Files.readString(work.resolve("collector.port")).trim();
      say("collector process %d listening on %s (mTLS)", collector.pid(), target);
      ManagedChannel opChannel = NettyChannelBuilder.forTarget(target,
          Tls.channelCredentials(certs.tlsFilesFor("bench"))).build();
      OperatorGrpc.OperatorBlockingStub operator = OperatorGrpc.newBlockingStub(opChannel);
      try {
        Ingest result = ingest("collector (durable, mTLS)", target, ids, seconds, batch, operator, id -> {
          try {
            return Tls.channelCredentials(certs.tlsFilesFor(id));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        long ingested = operator.getStatus(StatusRequest.getDefaultInstance()).getEventsIngested();
        say("collector reports %d events ingested (acked by the collector: %d)", ingested, result.acked);
        say("ratios: collector/no-op sink = %.2f, collector/raw RocksDB = %.2f",
            result.eventsPerSecond / noop, result.eventsPerSecond / rocks);
        System.out.println(String.format(Locale.ROOT,
            "{\"agents\":%d,\"tls\":true,\"procs\":1,\"batch\":%d,\"ingest_events_per_s\":%.0f,\"noop_sink_events_per_s\":%.0f,\"rocksdb_puts_per_s\":%.0f,\"rocksdb_unsynced_puts_per_s\":%.0f,"
                + "\"stop_idle_p50_ms\":%.1f,\"stop_idle_p99_ms\":%.1f,\"stop_idle_max_ms\":%.1f,\"stop_warm_p50_ms\":%.1f,\"stop_warm_p99_ms\":%.1f,"
                + "\"stop_loaded_p50_ms\":%.1f,\"stop_loaded_p99_ms\":%.1f,\"stop_loaded_max_ms\":%.1f,\"loaded_ingest_events_per_s\":%.0f,\"loaded_evidence_bytes\":%d,\"loaded_retention_passes\":%.0f,"
                + "\"stop_overload_p50_ms\":%.1f,\"stop_overload_p99_ms\":%.1f,\"overload_ingest_events_per_s\":%.0f,"
                + "\"stop_confirmed\":%d,\"lost\":%d,\"duplicated\":%d}",
            agents, batch, result.eventsPerSecond, noop, rocks, rocksUnsynced, result.stopP50, result.stopP99, result.stopMax,
            result.warmP50, result.warmP99, result.loadedP50, result.loadedP99, result.loadedMax,
            result.loadedIngest, result.loadedEvidence, result.loadedRetention, result.overloadP50,
            result.overloadP99, result.overloadIngest, result.stopConfirmed,
            result.lost, result.duplicated));
      } finally {
        opChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } finally {
      collector.destroy();
      if (!collector.waitFor(15, TimeUnit.SECONDS)) collector.destroyForcibly().waitFor();
    }
  }

  private static final class Ingest {
    double eventsPerSecond;
    long acked;
    long lost;
    long duplicated;
    double stopP50;
    double stopP99;
    double stopMax;
    int stopConfirmed;
    double warmP50;
    double warmP99;
    double loadedP50;
    double loadedP99;
    double loadedMax;
    double loadedIngest;
    long loadedEvidence;
    double loadedRetention;
    double overloadP50;
    double overloadP99;
    double overloadIngest;
  }

  private record Loaded(double p50, double p99, double max, double ingest, long evidence,
      double retention) {}

  /** One stop measured while every agent sends at {@code perAgentRate} (0: as fast as it can). */
  private static Loaded loaded(OperatorGrpc.OperatorBlockingStub operator, List<SimAgent> sims,
      int uploaders, double perAgentRate, String run, String label) throws Exception {
    for (int i = 0; i < uploaders; i++) {
      SimAgent u = sims.get(sims.size() - 1 - i);
      u.evidenceOnCapture(48L << 20);
      u.sendProcessDied();
    }
    java.util.concurrent.ScheduledExecutorService ticker =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    try {
      long ackedBefore = sims.stream().mapToLong(SimAgent::acked).sum();
      long start = System.nanoTime();
      for (SimAgent s : sims) s.startSending(perAgentRate);
      if (perAgentRate > 0) {
        ticker.scheduleAtFixedRate(() -> sims.forEach(SimAgent::tick), 10, 10, TimeUnit.MILLISECONDS);
      }
      if (uploaders > 0) await(() -> sims.stream().mapToLong(SimAgent::evidenceSent).sum() > (1L << 20), 30);
      Thread.sleep(1_500); // let ingest and uploads run at their pace first
      // The phase's new work (rate-limited sending, uploads, retention) is JIT-compiled by both
      // processes in its first seconds; a stop measured then measures the compilers. Wait until
      // they have settled (as a collector that has run this load for a while would be).
      say("  %s: JIT settled after %.1f s of this load", label, settle() / 1000.0);
      long evidenceBefore = sims.stream().mapToLong(SimAgent::evidenceSent).sum();
      double[] lat = stopLatencies(sims, run);
      long evidenceDuring = sims.stream().mapToLong(SimAgent::evidenceSent).sum() - evidenceBefore;
      sims.forEach(SimAgent::stopSending);
      ticker.shutdownNow();
      await(() -> sims.stream().allMatch(s -> s.acked() == s.sentSeq()), 120);
      double ingest = (sims.stream().mapToLong(SimAgent::acked).sum() - ackedBefore)
          / ((System.nanoTime() - start) / 1e9);
      double retention = metric(operator, "lockstep_retention_passes_total");
      Loaded l = new Loaded(percentile(lat, 50), percentile(lat, 99), lat[lat.length - 1], ingest,
          sims.stream().mapToLong(SimAgent::evidenceSent).sum(), retention);
      say("stop (%s: %,.0f events/s ingest%s, %.1f MB of evidence sent while the stop was under way, %.0f retention passes so far): p50 %.1f ms, p99 %.1f ms, max %.1f ms",
          label, ingest, perAgentRate > 0 ? String.format(Locale.ROOT, " (%.0f/s per agent)", perAgentRate) : " (unlimited)",
          evidenceDuring / 1e6, retention, l.p50, l.p99, l.max);
      awaitAllConfirmedStopped(operator, sims.size());
      resume(operator, sims);
      return l;
    } finally {
      ticker.shutdownNow();
    }
  }

  /** The collector's last log line that holds {@code marker}, from the marker on. */
  static java.util.Optional<String> lastLine(Path log, String marker) {
    if (log == null) return java.util.Optional.empty();
    try (var lines = Files.lines(log)) {
      return lines.filter(l -> l.contains(marker)).reduce((a, b) -> b)
          .map(l -> l.substring(l.indexOf(marker)));
    } catch (IOException | java.io.UncheckedIOException e) {
      return java.util.Optional.empty();
    }
  }

  /** Sends a mismatching pair for {@code runId}; per agent, ms from the second report to its StopAck. */
  private static double[] stopLatencies(List<SimAgent> sims, String runId) throws InterruptedException {
    SimAgent primary = sims.get(0);
    SimAgent shadow = sims.get(Math.min(1, sims.size() - 1));
    primary.sendGolden(runId, "primary", SimAgent.PRIMARY_HASH);
    Thread.sleep(50); // let the primary report land first, as it would in a real fleet
    double decidedBefore = metric(null, "lockstep_stop_decision_seconds_sum");
    ThreadCpu collectorCpu = ThreadCpu.of(collectorPid);
    ThreadCpu benchCpu = ThreadCpu.of(ProcessHandle.current().pid());
    long t0 = System.nanoTime();
    shadow.sendGolden(runId, "shadow", SimAgent.SHADOW_HASH);
    await(() -> sims.stream().allMatch(s -> s.stopAckNanos() != 0), 60);
    // both processes share the machine's cores: where their CPU went while the stop went out
    say("  %s: CPU while the stop went out (%.0f ms): collector %s; this bench (all %d agents) %s",
        runId, (System.nanoTime() - t0) / 1e6, ThreadCpu.of(collectorPid).since(collectorCpu, 6),
        sims.size(), ThreadCpu.of(ProcessHandle.current().pid()).since(benchCpu, 4));
    // the collector's own share: from storing the shadow's report to the stop frames queued
    say("  %s: the collector took %.1f ms from storing the mismatching report to queueing the stop"
        + " to every agent (lockstep_stop_decision_seconds)", runId,
        (metric(null, "lockstep_stop_decision_seconds_sum") - decidedBefore) * 1000);
    lastLine(collectorLog, "stop decided:").ifPresent(l -> say("  %s: %s", runId, l));
    return sims.stream().mapToDouble(s -> (s.stopAckNanos() - t0) / 1e6).sorted().toArray();
  }

  private static Ingest ingest(String label, String target, List<String> ids, int seconds, int batch,
      OperatorGrpc.OperatorBlockingStub operator,
      java.util.function.Function<String, ChannelCredentials> credentials) throws Exception {
    int agents = ids.size();
    List<ManagedChannel> channels = new ArrayList<>();
    List<SimAgent> sims = new ArrayList<>();
    Ingest result = new Ingest();
    try {
      for (int i = 0; i < agents; i++) {
        ManagedChannel channel = NettyChannelBuilder.forTarget(target, credentials.apply(ids.get(i)))
            .directExecutor().maxInboundMessageSize(4 << 20).build();
        channels.add(channel);
        SimAgent sim = new SimAgent(ids.get(i), batch, WINDOW);
        sim.connect(channel, 0);
        sims.add(sim);
      }
      for (SimAgent sim : sims) sim.welcome().get(30, TimeUnit.SECONDS);
      say("%s: %d agents connected", label, agents);

      long start = System.nanoTime();
      sims.forEach(SimAgent::startSending);
      long lastReport = start;
      while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(seconds)) {
        Thread.sleep(250); // sampling interval of the progress line
        if (System.nanoTime() - lastReport > TimeUnit.SECONDS.toNanos(2)) {
          lastReport = System.nanoTime();
          long acked = sims.stream().mapToLong(SimAgent::acked).sum();
          say("  %s: %,d events acked, %.0f events/s", label, acked, acked / ((lastReport - start) / 1e9));
        }
      }
      sims.forEach(SimAgent::stopSending);
      await(() -> sims.stream().allMatch(s -> s.acked() == s.sentSeq()), 30);
      long elapsed = System.nanoTime() - start;
      result.acked = sims.stream().mapToLong(SimAgent::acked).sum();
      result.eventsPerSecond = result.acked / (elapsed / 1e9);
      say("%s: %,d events acked in %.1f s = %,.0f events/s", label, result.acked, elapsed / 1e9, result.eventsPerSecond);
      if (operator == null) return result;

      // Stop latency: a primary/shadow pair whose hashes differ, from two different agents. The
      // first mismatch of the collector's life runs cold code paths; after a resume a second one
      // shows the warm path. Nothing else is going on (idle).
      double[] cold = stopLatencies(sims, "bench-mismatch-0001");
      result.stopP50 = percentile(cold, 50);
      result.stopP99 = percentile(cold, 99);
      result.stopMax = cold[cold.length - 1];
      awaitAllConfirmedStopped(operator, agents);
      result.stopConfirmed = operator.getStopStatus(StopStatusRequest.getDefaultInstance()).getConfirmed();
      say("stop (idle, first mismatch, cold): mismatching golden event -> StopAck from all %d agents: p50 %.1f ms, p99 %.1f ms, max %.1f ms; collector counts %d confirmed",
          agents, result.stopP50, result.stopP99, result.stopMax, result.stopConfirmed);
      resume(operator, sims);
      double[] warm = stopLatencies(sims, "bench-mismatch-0002");
      result.warmP50 = percentile(warm, 50);
      result.warmP99 = percentile(warm, 99);
      say("stop (idle, second mismatch, warm): p50 %.1f ms, p99 %.1f ms, max %.1f ms", result.warmP50, result.warmP99, warm[warm.length - 1]);
      awaitAllConfirmedStopped(operator, agents);
      resume(operator, sims);

      // Loaded: busy ingest (60 % of the durable capacity measured above, spread over every
      // agent), retention passes (every 2 s in this collector's config) and evidence uploads in
      // flight when the stop is issued. Then the same with ingest unlimited (overload: more than
      // the collector can take, so every agent's stream queues behind its own backlog).
      int uploaders = Math.max(1, Math.min(20, agents / 10));
      double rate = 0.6 * result.eventsPerSecond;
      Loaded busy = loaded(operator, sims, uploaders, rate / agents, "bench-mismatch-0003", "loaded");
      result.loadedP50 = busy.p50;
      result.loadedP99 = busy.p99;
      result.loadedMax = busy.max;
      result.loadedIngest = busy.ingest;
      result.loadedEvidence = busy.evidence;
      result.loadedRetention = busy.retention;
      Loaded over = loaded(operator, sims, 0, 0, "bench-mismatch-0004", "overload");
      result.overloadP50 = over.p50;
      result.overloadP99 = over.p99;
      result.overloadIngest = over.ingest;

      // Exactly once: every agent reconnects claiming nothing acked; the collector must know
      // every acked seq (lost) and must not store a resent, already-acked event again (duplicated).
      long before = operator.getStatus(StatusRequest.getDefaultInstance()).getEventsIngested();
      long resent = 0;
      for (int i = 0; i < sims.size(); i++) {
        SimAgent old = sims.get(i);
        old.close();
        SimAgent again = new SimAgent(String.format("sim-%04d", i), batch, WINDOW);
        again.connect(channels.get(i), 0);
        long known = again.welcome().get(30, TimeUnit.SECONDS);
        result.lost += Math.max(0, old.acked() - known);
        again.resend(old.acked());
        resent++;
        sims.set(i, again);
      }
      await(() -> sims.stream().allMatch(s -> s.acked() >= s.sentSeq()), 30);
      long after = operator.getStatus(StatusRequest.getDefaultInstance()).getEventsIngested();
      result.duplicated = Math.max(0, after - before);
      say("exactly-once check: %d agents reconnected and resent their last acked event: lost %d, duplicated %d",
          resent, result.lost, result.duplicated);
      return result;
    } finally {
      sims.forEach(SimAgent::close);
      for (ManagedChannel c : channels) c.shutdownNow();
      for (ManagedChannel c : channels) c.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  static void awaitAllConfirmedStopped(OperatorGrpc.OperatorBlockingStub operator, int agents)
      throws InterruptedException {
    await(() -> {
      var st = operator.getStopStatus(StopStatusRequest.getDefaultInstance());
      return st.getCovered() >= agents && st.getConfirmed() >= agents;
    }, 60);
  }

  private static void resume(OperatorGrpc.OperatorBlockingStub operator, List<SimAgent> sims)
      throws InterruptedException {
    operator.resumeStop(ResumeStopRequest.newBuilder().setReason("bench: resume").setAll(true)
        .addAllOrderIds(operator.getStopStatus(dev.lockstep.proto.v1.StopStatusRequest.getDefaultInstance()).getOrdersList().stream().map(dev.lockstep.proto.v1.StopOrder::getId).toList()).build());
    await(() -> sims.stream().allMatch(s -> s.stopMode() == StopMode.RUNNING), 60);
    sims.forEach(SimAgent::resetStopTiming);
  }

  /** A counter of the collector's /metrics (its port is in the workspace). */
  private static double metric(OperatorGrpc.OperatorBlockingStub unused, String name) {
    try {
      String body = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      for (String l : body.split("\n")) {
        if (l.startsWith(name + " ")) return Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
      }
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  private static volatile int metricsPort;

  private static double rocksdbPuts(Path dir, int seconds, boolean sync) throws Exception {
    RocksDB.loadLibrary();
    Files.createDirectories(dir);
    byte[] value = Event.newBuilder().setSeq(1).setHealth(HealthSample.newBuilder()
        .setProbe(HealthSample.Probe.PROCESS).setTarget("run_shadow_simulation")
        .setLevel(HealthSample.Level.OK).setSummary("process run_shadow_simulation running")).build().toByteArray();
    long puts = 0;
    long start = System.nanoTime();
    try (Options options = new Options().setCreateIfMissing(true);
        RocksDB db = RocksDB.open(options, dir.toString());
        WriteOptions write = new WriteOptions().setSync(sync)) {
      while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(seconds)) {
        try (WriteBatch batch = new WriteBatch()) {
          for (int i = 0; i < BATCH; i++) {
            byte[] key = java.nio.ByteBuffer.allocate(16).putLong(puts % 1000).putLong(puts).array();
            batch.put(key, value);
            puts++;
          }
          db.write(write, batch);
        }
      }
    }
    double rate = puts / ((System.nanoTime() - start) / 1e9);
    say("raw RocksDB (%s): %,d puts in batches of %d = %,.0f puts/s", sync ? "fsync per batch" : "no fsync", puts, BATCH, rate);
    return rate;
  }

  private static Process startCollector(Path work, CertsInit.Result certs, int agents)
      throws IOException, InterruptedException {
    metricsPort = freePort();
    return startCollector(work, "collector", certs.tlsFilesFor("collector"), agents + 100, metricsPort, List.of());
  }

  /**
   * Starts collector {@code name} (config {@code name.yaml}, data in {@code name-data}, port in
   * {@code name.port}, log {@code name.log}) with {@code extraArgs} on its command line; returns
   * once it listens.
   */
  static Process startCollector(Path work, String name, TlsFiles tls, int maxStreams, int metrics,
      List<String> extraArgs) throws IOException, InterruptedException {
    Path config = work.resolve(name + ".yaml");
    Path portFile = work.resolve(name + ".port");
    Path log = work.resolve(name + ".log");
    Files.writeString(config, """
        listen: 127.0.0.1:0
        data_dir: %s
        metrics_port: %d
        tls:
          ca: %s
          cert: %s
          key: %s
        stop:
          policy: fleet
        retention:
          interval: 2s
        agents:
          max_streams: %d
        """.formatted(work.resolve(name + "-data"), metrics, tls.ca(), tls.cert(), tls.key(), maxStreams));
    List<String> command = new ArrayList<>(Arrays.asList(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        // the collector's JVM options, as ./lockstep collector and the installed launcher use them
        "@" + Path.of(System.getProperty("lockstep.root", "."), "collector", "jvm.options").toAbsolutePath(),
        "-cp", System.getProperty("java.class.path"), "dev.lockstep.collector.CollectorMain",
        "--config", config.toString(), "--port-file", portFile.toString(),
        // the benchmark measures ingest capacity, not the per-agent rate limit (default 20,000/s)
        "--max-events-per-second", "100000000"));
    command.addAll(extraArgs);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!Files.exists(portFile)) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new IllegalStateException("collector " + name + " did not start; see " + log);
      }
      Thread.sleep(50); // polling for the port file
    }
    return p;
  }

  static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * Waits (at most 10 s, so uploads are still in flight) until neither the collector nor this process spent more than 10 % of a
   * core in JIT compiler threads over the last 500 ms; returns how long that took (ms).
   */
  private static long settle() throws InterruptedException {
    long t0 = System.nanoTime();
    ThreadCpu c = ThreadCpu.of(collectorPid);
    ThreadCpu b = ThreadCpu.of(ProcessHandle.current().pid());
    while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10)) {
      Thread.sleep(500); // sampling interval of the compilers' CPU
      ThreadCpu c2 = ThreadCpu.of(collectorPid);
      ThreadCpu b2 = ThreadCpu.of(ProcessHandle.current().pid());
      if (c2.compilerMillisSince(c) <= 50 && b2.compilerMillisSince(b) <= 50) break;
      c = c2;
      b = b2;
    }
    return (System.nanoTime() - t0) / 1_000_000;
  }

  /** The collector process of the durable phases (its CPU is read from /proc). */
  private static volatile long collectorPid;
  private static volatile Path collectorLog;

  static void await(BooleanSupplier condition, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("bench fleet: condition not met in " + seconds + " s");
      Thread.sleep(5); // polling interval
    }
  }

  static double percentile(double[] sorted, int p) {
    int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
  }

  static void say(String format, Object... args) {
    System.out.println(String.format(Locale.ROOT, format, args));
    System.out.flush();
  }

  private FleetBench() {}
}
