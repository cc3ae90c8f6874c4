package dev.lockstep.bench.golden;

import dev.lockstep.golden.DiffReport;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.GoldenDiff;
import dev.lockstep.golden.GoldenDocument;
import dev.lockstep.golden.GoldenParseException;
import dev.lockstep.golden.RunSummary;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Canonical hashing and diff throughput on generated golden files of 1, 10 and 60 MB, with raw
 * SHA-256 of the same bytes as the floor. Run with {@code bench/run jmh} (never during the build).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class GoldenBench {
  @Param({"1", "10", "60"})
  public int sizeMb;

  private byte[] primary;
  private byte[] shadow;
  private GoldenDocument a;
  private GoldenDocument b;

  @Setup(Level.Trial)
  public void generate() throws GoldenParseException {
    primary = new GoldenFileGenerator((long) sizeMb << 20, "primary", 0).bytes();
    shadow = new GoldenFileGenerator((long) sizeMb << 20, "shadow", 1).bytes();
    a = Golden.parse(primary, "primary", GoldenConfig.DEFAULT);
    b = Golden.parse(shadow, "shadow", GoldenConfig.DEFAULT);
    a.canonicalText(); // the canonical form a diff walks, computed once here
    b.canonicalText();
  }

  /** Parse under limits, mask, RFC 8785, SHA-256 of document and every step: what an agent does. */
  @Benchmark
  public RunSummary canonicalHash() throws GoldenParseException {
    return Golden.parse(primary, "primary", GoldenConfig.DEFAULT).summary();
  }

  /** Structural diff and classification of two parsed documents. */
  @Benchmark
  public DiffReport diff() {
    return GoldenDiff.diff(a, b, GoldenConfig.DEFAULT);
  }

  /** What {@code lockstep diff} does after reading the files: parse both, canonicalise, diff. */
  @Benchmark
  public DiffReport parseAndDiff() throws GoldenParseException {
    GoldenDocument x = Golden.parse(primary, "primary", GoldenConfig.DEFAULT);
    GoldenDocument y = Golden.parse(shadow, "shadow", GoldenConfig.DEFAULT);
    return GoldenDiff.diff(x, y, GoldenConfig.DEFAULT);
  }

  /** The floor: SHA-256 of the raw bytes. */
  @Benchmark
  public byte[] sha256Raw() throws NoSuchAlgorithmException {
    return MessageDigest.getInstance("SHA-256").digest(primary);
  }
}
