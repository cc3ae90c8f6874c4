package dev.lockstep.bench.fleet;

import dev.lockstep.collector.Collector;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.store.StoreSpace;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.StopStatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * {@code bench/run diskfull}: a collector whose data dir is a small tmpfs (bench/run mounts one in
 * a user+mount namespace), N simulated agents filling it. Measures the stop on a full disk:
 *
 * <ol>
 *   <li>fill with routine events until the flood stage (agents are sent Backoffs);
 *   <li>a mismatch at the flood stage: report to every agent STOPPED (the decisive lane still
 *       stores); then an operator resume;
 *   <li>the file system filled to the last byte by another file (real ENOSPC): an operator stop,
 *       time until every agent acked it, the store's state and held writes meanwhile;
 *   <li>the other file deleted: time until the store is OK and the held writes are on disk;
 *   <li>every agent's acked events counted in the store: none lost, none doubled.
 * </ol>
 *
 * Prints progress lines and one JSON line.
 */
public final class DiskFullBench {
  private DiskFullBench() {}

  public static void main(String[] args) throws Exception {
    Path data = null;
    int agents = 100;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--data" -> data = Path.of(args[++i]);
        case "--agents" -> agents = Integer.parseInt(args[++i]);
        default -> {
          System.err.println("diskfull: unknown argument " + args[i]
              + " (usage: --data DIR_ON_A_SMALL_FS [--agents N])");
          System.exit(2);
        }
      }
    }
    if (data == null) {
      System.err.println("diskfull: --data DIR is required (a directory on a small file system)");
      System.exit(2);
    }
    long total = Files.getFileStore(data).getTotalSpace();
    if (total > (2L << 30)) {
      System.err.println("diskfull: " + data + " is on a " + (total >> 20)
          + " MiB file system; this bench needs a small one (bench/run diskfull mounts a tmpfs)");
      System.exit(2);
    }
    System.exit(new DiskFullBench.Run(data, agents, total).run());
  }

  private static final class Run {
    final Path data;
    final int n;
    final long total;
    final Map<String, Object> json = new LinkedHashMap<>();
    Collector collector;
    final List<SimAgent> agents = new ArrayList<>();
    final List<ManagedChannel> channels = new ArrayList<>();

    Run(Path data, int n, long total) {
      this.data = data;
      this.n = n;
      this.total = total;
    }

    int run() throws Exception {
      long high = total * 3 / 8;
      long flood = total / 4;
      long reserve = total / 8;
      System.out.printf(Locale.ROOT, "diskfull: %d agents, store on a %d MiB tmpfs: high watermark %d MiB free,"
          + " flood %d MiB, reserve %d MiB%n", n, total >> 20, high >> 20, flood >> 20, reserve >> 20);
      json.put("bench", "diskfull");
      json.put("agents", n);
      json.put("fs_mib", total >> 20);
      CollectorConfig config = CollectorConfig.defaults(data.resolve("collector")).withInsecure(true)
          .withListen("127.0.0.1", 0).withStopResendInterval(Duration.ofMillis(500))
          .withStorage(new CollectorConfig.Storage(true, 16L << 20, 16L << 20, 0, high, flood, reserve));
      collector = Collector.start(config, Clock.systemUTC(), line -> System.out.println("collector: " + line));
      ManagedChannel op = NettyChannelBuilder.forAddress("127.0.0.1", collector.port()).usePlaintext().build();
      channels.add(op);
      OperatorGrpc.OperatorBlockingStub operator = OperatorGrpc.newBlockingStub(op);
      try {
        for (int i = 0; i < n; i++) {
          ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", collector.port()).usePlaintext().build();
          channels.add(c);
          SimAgent a = new SimAgent(String.format(Locale.ROOT, "agent-%04d", i), 200, 4);
          a.connect(c, 0);
          agents.add(a);
        }
        for (SimAgent a : agents) a.welcome().get(60, java.util.concurrent.TimeUnit.SECONDS);

        // 1. fill to the flood stage
        long t0 = System.nanoTime();
        agents.forEach(SimAgent::startSending);
        await(Duration.ofMinutes(10), "the flood stage", () -> collector.space().state() == StoreSpace.State.FLOOD,
            () -> String.format(Locale.ROOT, "%s, %d MiB free, %d events acked", collector.space().state(),
                collector.space().health().freeBytes() >> 20, acked()));
        double fillSeconds = (System.nanoTime() - t0) / 1e9;
        long ackedAtFlood = acked();
        System.out.printf(Locale.ROOT, "flood stage after %.1f s, %d events acked%n", fillSeconds, ackedAtFlood);
        json.put("fill_seconds", round(fillSeconds));
        json.put("events_acked_at_flood", ackedAtFlood);
        json.put("store_incident_raised", collector.fleet().incidents().all().stream()
            .anyMatch(i -> i.getKind() == IncidentKind.COLLECTOR && i.getCategory().equals("STORE_SPACE")));

        // 2. a mismatch at the flood stage
        long m0 = System.nanoTime();
        agents.get(0).sendGolden("run-flood", "primary", SimAgent.PRIMARY_HASH);
        agents.get(1).sendGolden("run-flood", "shadow", SimAgent.SHADOW_HASH);
        await(Duration.ofMinutes(2), "every agent stopped by the mismatch", this::allStopped, this::stoppedCount);
        double floodStopMs = lastStopAckMillis(m0);
        System.out.printf(Locale.ROOT, "mismatch at the flood stage: every agent STOPPED %.0f ms after the report%n",
            floodStopMs);
        json.put("flood_mismatch_to_all_stopped_ms", round(floodStopMs));
        operator.resumeStop(ResumeStopRequest.newBuilder().setAll(true).addAllOrderIds(operator.getStopStatus(dev.lockstep.proto.v1.StopStatusRequest.getDefaultInstance()).getOrdersList().stream().map(dev.lockstep.proto.v1.StopOrder::getId).toList())
            .setReason("bench: resume").build());
        await(Duration.ofMinutes(2), "every agent running again", () -> agents.stream()
            .allMatch(a -> a.stopMode() == StopMode.RUNNING), this::stoppedCount);
        agents.forEach(SimAgent::resetStopTiming);

        // 3. the file system full to the last byte, then golden reports (still taken) until the
        //    store's own preallocated room is gone and RocksDB fails a write: a real ENOSPC
        Path filler = data.resolve("filler.bin");
        long filled = fill(filler);
        System.out.printf(Locale.ROOT, "filled the file system with %d MiB more (ENOSPC for new blocks)%n", filled >> 20);
        long g0 = System.nanoTime();
        int round = 0;
        while (collector.space().state() != StoreSpace.State.FAILED) {
          if (System.nanoTime() - g0 > 120_000_000_000L) {
            throw new IllegalStateException("diskfull: the store never failed a write (" + collector.space().health() + ")");
          }
          for (int i = 0; i < n; i++) agents.get(i).sendGoldens("fill-" + round + "-" + i + "-", 200, "primary");
          round++;
          Thread.sleep(50);
        }
        System.out.printf(Locale.ROOT, "store FAILED after %.1f s of golden reports (%d per agent): %s%n",
            (System.nanoTime() - g0) / 1e9, round * 200, collector.space().health().detail());
        long s0 = System.nanoTime();
        long rpc0 = System.nanoTime();
        var issued = operator.enableStop(EnableStopRequest.newBuilder().setReason("bench: stop on a full disk").build());
        double rpcMs = (System.nanoTime() - rpc0) / 1e6;
        await(Duration.ofMinutes(2), "every agent confirmed the stop on a full disk", () -> {
          StopStatus st = operator.getStopStatus(StopStatusRequest.getDefaultInstance());
          return st.getCovered() == n && st.getConfirmed() == n;
        }, this::stoppedCount);
        double fullStopMs = (System.nanoTime() - s0) / 1e6;
        var health = collector.fleet().storeHealth();
        boolean ballastGone = !collector.space().reserveHeld();
        System.out.printf(Locale.ROOT, "stop on a full disk: EnableStop answered in %.0f ms, all %d confirmed after"
                + " %.0f ms; store %s, %d writes held in memory, ballast %s%n", rpcMs, n, fullStopMs,
            health.getState(), health.getPendingWrites(), ballastGone ? "released" : "kept");
        json.put("full_enable_stop_rpc_ms", round(rpcMs));
        json.put("full_stop_all_confirmed_ms", round(fullStopMs));
        json.put("full_store_state", health.getState());
        json.put("full_held_writes", health.getPendingWrites());
        json.put("ballast_released", ballastGone);
        String order = issued.getChangedOrderIdsList().isEmpty() ? "" : issued.getChangedOrderIdsList().get(0);

        // 4a. only the ballast's room: does the store recover on it (RocksDB's own recovery)?
        long b0 = System.nanoTime();
        double ballastRecoveryMs = -1;
        while (System.nanoTime() - b0 < 30_000_000_000L) {
          var h = collector.fleet().storeHealth();
          if (!h.getState().equals("FAILED") && h.getPendingWrites() == 0) {
            ballastRecoveryMs = (System.nanoTime() - b0) / 1e6;
            break;
          }
          Thread.sleep(50);
        }
        System.out.println(ballastRecoveryMs >= 0
            ? String.format(Locale.ROOT, "on the ballast's room alone: store %s, held writes on disk after %.0f ms",
                collector.fleet().storeHealth().getState(), ballastRecoveryMs)
            : "on the ballast's room alone: still FAILED after 30 s");
        json.put("recovered_on_ballast_ms", round(ballastRecoveryMs));

        // 4b. space returns
        long r0 = System.nanoTime();
        Files.delete(filler);
        await(Duration.ofMinutes(5), "the store OK with nothing held", () -> {
          var h = collector.fleet().storeHealth();
          return h.getPendingWrites() == 0 && (h.getState().equals("OK") || h.getState().equals("LOW")
              || h.getState().equals("FLOOD"));
        }, () -> collector.fleet().storeHealth().getState());
        double recoverMs = (System.nanoTime() - r0) / 1e6;
        System.out.printf(Locale.ROOT, "space back: store %s and held writes on disk after %.0f ms%n",
            collector.fleet().storeHealth().getState(), recoverMs);
        json.put("recovery_ms", round(recoverMs));
        boolean orderStored = collector.fleet().orders().stream().anyMatch(o -> o.getId().equals(order));
        json.put("order_on_disk", orderStored);

        // 5. nothing acked lost or doubled
        agents.forEach(SimAgent::stopSending);
        Map<String, Long> acked = new HashMap<>();
        for (int i = 0; i < n; i++) acked.put(String.format(Locale.ROOT, "agent-%04d", i), agents.get(i).acked());
        Map<String, Map<Long, Integer>> counts = new HashMap<>();
        collector.store().scanEvents(0, e -> {
          counts.computeIfAbsent(e.agentId(), k -> new HashMap<>()).merge(e.event().getSeq(), 1, Integer::sum);
          return true;
        });
        long lost = 0;
        long doubled = 0;
        for (var e : acked.entrySet()) {
          Map<Long, Integer> c = counts.getOrDefault(e.getKey(), Map.of());
          for (long s = 1; s <= e.getValue(); s++) {
            Integer k = c.get(s);
            if (k == null) lost++;
            else if (k > 1) doubled++;
          }
        }
        System.out.printf(Locale.ROOT, "acked events: %d lost, %d doubled%n", lost, doubled);
        json.put("acked_lost", lost);
        json.put("acked_doubled", doubled);
        System.out.println(toJson(json));
        return lost == 0 && doubled == 0 && orderStored ? 0 : 1;
      } finally {
        agents.forEach(SimAgent::close);
        channels.forEach(ManagedChannel::shutdownNow);
        collector.close();
      }
    }

    long acked() {
      long s = 0;
      for (SimAgent a : agents) s += a.acked();
      return s;
    }

    boolean allStopped() {
      return agents.stream().allMatch(a -> a.stopMode() == StopMode.STOPPED);
    }

    String stoppedCount() {
      return agents.stream().filter(a -> a.stopMode() == StopMode.STOPPED).count() + "/" + n + " stopped";
    }

    double lastStopAckMillis(long fromNanos) {
      long last = 0;
      for (SimAgent a : agents) last = Math.max(last, a.stopAckNanos());
      return (last - fromNanos) / 1e6;
    }

    /** Writes {@code f} until the file system refuses; returns the bytes written. */
    static long fill(Path f) throws IOException {
      byte[] buf = new byte[1 << 20];
      long written = 0;
      try (OutputStream out = Files.newOutputStream(f)) {
        while (true) {
          out.write(buf);
          written += buf.length;
        }
      } catch (IOException full) {
        if (!String.valueOf(full.getMessage()).contains("No space left")) throw full;
      }
      // the last partial megabyte
      try (OutputStream out = Files.newOutputStream(f, java.nio.file.StandardOpenOption.APPEND)) {
        while (true) {
          out.write(buf, 0, 4096);
          written += 4096;
        }
      } catch (IOException full) {
        if (!String.valueOf(full.getMessage()).contains("No space left")) throw full;
      }
      return written;
    }

    static void await(Duration timeout, String what, BooleanSupplier done, java.util.function.Supplier<String> progress)
        throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      long nextReport = System.nanoTime() + 5_000_000_000L;
      while (!done.getAsBoolean()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("diskfull: timed out waiting for " + what + " (" + progress.get() + ")");
        }
        if (System.nanoTime() > nextReport) {
          System.out.println("  waiting for " + what + ": " + progress.get());
          nextReport = System.nanoTime() + 5_000_000_000L;
        }
        Thread.sleep(20);
      }
    }

    static double round(double v) {
      return Math.round(v * 10) / 10.0;
    }

    static String toJson(Map<String, Object> m) {
      StringBuilder b = new StringBuilder("{");
      for (var e : m.entrySet()) {
        if (b.length() > 1) b.append(',');
        b.append('"').append(e.getKey()).append("\":");
        Object v = e.getValue();
        b.append(v instanceof String s ? "\"" + s + "\"" : String.valueOf(v));
      }
      return b.append('}').toString();
    }
  }
}
