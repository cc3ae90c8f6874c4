package dev.lockstep.bench.golden;

import dev.lockstep.golden.DiffReport;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.GoldenDiff;
import dev.lockstep.golden.GoldenDocument;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Locale;

/**
 * {@code bench/run inproc HASH_FILE DIFF_A DIFF_B [ROUNDS]}: warm, in-process best-of-N timings,
 * without JVM start-up and JIT warm-up: the run hash alone and the whole summary (run hash plus
 * every step, output, rng and response hash) of one file against the same JVM's raw SHA-256 of the
 * same bytes, and read + diff of a pair. Each is timed in wall time and in this thread's CPU time:
 * on a shared machine the CPU time is the figure that other people's builds disturb least.
 * Ends with one JSON line.
 */
public final class InProcessBench {
  private InProcessBench() {}

  public static void main(String[] args) throws Exception {
    byte[] hashBytes = Files.readAllBytes(Path.of(args[0]));
    Path a = Path.of(args[1]);
    Path b = Path.of(args[2]);
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 8;
    long bestRunHash = Long.MAX_VALUE;
    long bestSummary = Long.MAX_VALUE;
    long bestSha = Long.MAX_VALUE;
    long bestDiff = Long.MAX_VALUE;
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long[] cpu = new long[4];
    java.util.Arrays.fill(cpu, Long.MAX_VALUE);
    for (int i = 0; i < rounds; i++) {
      long c0 = threads.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      Golden.canonicalHash(hashBytes, "hash", GoldenConfig.DEFAULT);
      long t1 = System.nanoTime();
      long c1 = threads.getCurrentThreadCpuTime();
      Golden.parse(hashBytes, "hash", GoldenConfig.DEFAULT).summary();
      long t2 = System.nanoTime();
      long c2 = threads.getCurrentThreadCpuTime();
      MessageDigest.getInstance("SHA-256").digest(hashBytes);
      long t3 = System.nanoTime();
      long c3 = threads.getCurrentThreadCpuTime();
      GoldenDocument x = Golden.readForDiff(a, GoldenConfig.DEFAULT);
      GoldenDocument y = Golden.readForDiff(b, GoldenConfig.DEFAULT);
      DiffReport r = GoldenDiff.diff(x, y, GoldenConfig.DEFAULT);
      r.renderTable(false);
      long t4 = System.nanoTime();
      long c4 = threads.getCurrentThreadCpuTime();
      cpu[0] = Math.min(cpu[0], c1 - c0);
      cpu[1] = Math.min(cpu[1], c2 - c1);
      cpu[2] = Math.min(cpu[2], c3 - c2);
      cpu[3] = Math.min(cpu[3], c4 - c3);
      bestRunHash = Math.min(bestRunHash, t1 - t0);
      bestSummary = Math.min(bestSummary, t2 - t1);
      bestSha = Math.min(bestSha, t3 - t2);
      bestDiff = Math.min(bestDiff, t4 - t3);
    }
    double mb = hashBytes.length / 1048576.0;
    double runHashS = bestRunHash / 1e9;
    double summaryS = bestSummary / 1e9;
    double shaS = bestSha / 1e9;
    double diffS = bestDiff / 1e9;
    System.out.printf(Locale.ROOT, "in-process, warm, best of %d, %.1f MB:%n", rounds, mb);
    System.out.printf(Locale.ROOT, "  raw SHA-256 of the bytes   %.3f s  (%.0f MB/s)%n", shaS, mb / shaS);
    System.out.printf(Locale.ROOT, "  run hash alone             %.3f s  (%.0f MB/s, %.0f %% of raw SHA-256's throughput; target >= 50 %%)%n",
        runHashS, mb / runHashS, 100 * shaS / runHashS);
    System.out.printf(Locale.ROOT, "  whole summary              %.3f s  (%.0f MB/s, %.0f %% of raw SHA-256's throughput)%n",
        summaryS, mb / summaryS, 100 * shaS / summaryS);
    System.out.printf(Locale.ROOT, "  read + diff of %s and %s: %.3f s%n", a.getFileName(), b.getFileName(), diffS);
    System.out.printf(Locale.ROOT, "  cpu: raw SHA-256 %.3f s, run hash %.3f s (%.0f %%), whole summary %.3f s (%.0f %%), read + diff %.3f s%n",
        cpu[2] / 1e9, cpu[0] / 1e9, 100.0 * cpu[2] / cpu[0], cpu[1] / 1e9, 100.0 * cpu[2] / cpu[1], cpu[3] / 1e9);
    System.out.printf(Locale.ROOT,
        "{\"bench\":\"inproc\",\"rounds\":%d,\"hash_mb\":%.1f,\"raw_sha256_s\":%.3f,\"run_hash_s\":%.3f,"
            + "\"run_hash_vs_sha256_throughput\":%.2f,\"summary_s\":%.3f,\"summary_vs_sha256_throughput\":%.2f,"
            + "\"read_diff_s\":%.3f,\"cpu_raw_sha256_s\":%.3f,\"cpu_run_hash_s\":%.3f,"
            + "\"cpu_run_hash_vs_sha256_throughput\":%.2f,\"cpu_summary_s\":%.3f,\"cpu_read_diff_s\":%.3f}%n",
        rounds, mb, shaS, runHashS, shaS / runHashS, summaryS, shaS / summaryS, diffS,
        cpu[2] / 1e9, cpu[0] / 1e9, (double) cpu[2] / cpu[0], cpu[1] / 1e9, cpu[3] / 1e9);
  }
}
