package dev.lockstep.bench.golden;

import dev.lockstep.golden.DiffReport;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.GoldenDiff;
import dev.lockstep.golden.GoldenDocument;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Locale;

/**
 * {@code bench/run inproc HASH_FILE DIFF_A DIFF_B [ROUNDS]}: warm, in-process best-of-N timings of
 * canonical hashing (vs raw SHA-256 of the same bytes) and of read+diff of a pair, without JVM
 * start-up and JIT warm-up. Ends with one JSON line.
 */
public final class InProcessBench {
  private InProcessBench() {}

  public static void main(String[] args) throws Exception {
    byte[] hashBytes = Files.readAllBytes(Path.of(args[0]));
    Path a = Path.of(args[1]);
    Path b = Path.of(args[2]);
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 8;
    long bestHash = Long.MAX_VALUE;
    long bestSha = Long.MAX_VALUE;
    long bestDiff = Long.MAX_VALUE;
    for (int i = 0; i < rounds; i++) {
      long t0 = System.nanoTime();
      Golden.parse(hashBytes, "hash", GoldenConfig.DEFAULT).summary();
      long t1 = System.nanoTime();
      MessageDigest.getInstance("SHA-256").digest(hashBytes);
      long t2 = System.nanoTime();
      GoldenDocument x = Golden.readForDiff(a, GoldenConfig.DEFAULT);
      GoldenDocument y = Golden.readForDiff(b, GoldenConfig.DEFAULT);
      DiffReport r = GoldenDiff.diff(x, y, GoldenConfig.DEFAULT);
      r.renderTable(false);
      long t3 = System.nanoTime();
      bestHash = Math.min(bestHash, t1 - t0);
      bestSha = Math.min(bestSha, t2 - t1);
      bestDiff = Math.min(bestDiff, t3 - t2);
    }
    double mb = hashBytes.length / 1048576.0;
    double hashS = bestHash / 1e9;
    double shaS = bestSha / 1e9;
    double diffS = bestDiff / 1e9;
    System.out.printf(Locale.ROOT, "in-process, warm, best of %d:%n", rounds);
    System.out.printf(Locale.ROOT, "  canonical hash %.1f MB: %.3f s (%.0f MB/s); raw SHA-256 %.3f s; ratio %.1fx%n",
        mb, hashS, mb / hashS, shaS, hashS / shaS);
    System.out.printf(Locale.ROOT, "  read + diff of %s and %s: %.3f s%n", a.getFileName(), b.getFileName(), diffS);
    System.out.printf(Locale.ROOT,
        "{\"bench\":\"inproc\",\"rounds\":%d,\"hash_mb\":%.1f,\"canonical_hash_s\":%.3f,\"raw_sha256_s\":%.3f,"
            + "\"hash_vs_sha256\":%.2f,\"read_diff_s\":%.3f}%n",
        rounds, mb, hashS, shaS, hashS / shaS, diffS);
  }
}
