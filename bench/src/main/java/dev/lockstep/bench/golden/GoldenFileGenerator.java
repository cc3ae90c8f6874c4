package dev.lockstep.bench.golden;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Writes realistic golden files of a target size: a billing-like workflow whose steps carry account
 * lists, money amounts, full-precision random draws, external calls with responses, timestamps and
 * engine step hashes. The same seed gives the same content; a shadow copy can differ in a chosen
 * number of steps (an rng draw) besides its volatile fields.
 *
 * <pre>java -cp ... dev.lockstep.bench.golden.GoldenFileGenerator SIZE_MB OUT [--role shadow] [--differ N]</pre>
 */
public final class GoldenFileGenerator {
  private final long targetBytes;
  private final String role;
  private final int differingSteps;

  public GoldenFileGenerator(long targetBytes, String role, int differingSteps) {
    this.targetBytes = targetBytes;
    this.role = role;
    this.differingSteps = differingSteps;
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: GoldenFileGenerator SIZE_MB OUT [--role primary|shadow] [--differ N]");
      System.exit(2);
    }
    double mb = Double.parseDouble(args[0]);
    Path out = Path.of(args[1]);
    String role = "primary";
    int differ = 0;
    for (int i = 2; i < args.length; i++) {
      switch (args[i]) {
        case "--role" -> role = args[++i];
        case "--differ" -> differ = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    new GoldenFileGenerator((long) (mb * 1024 * 1024), role, differ).write(out);
  }

  /** Writes the file; returns its size in bytes. */
  public long write(Path out) throws IOException {
    try (Writer w = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(out), StandardCharsets.UTF_8), 1 << 16)) {
      write(w);
    }
    return Files.size(out);
  }

  public byte[] bytes() {
    java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 8, targetBytes + 4096));
    try (Writer w = new OutputStreamWriter(buf, StandardCharsets.UTF_8)) {
      write(w);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return buf.toByteArray();
  }

  private void write(Writer w) throws IOException {
    Counting out = new Counting(w);
    SplittableRandom content = new SplittableRandom(1234567);
    SplittableRandom volatiles = new SplittableRandom(role.hashCode());
    boolean shadow = !role.equals("primary");
    String runId = "bench-" + (targetBytes >> 20) + "mb-cycle-0042";
    out.append("{\n  \"format\": \"lockstep.golden/v1\",\n  \"run_id\": \"").append(runId)
        .append("\",\n  \"workflow\": \"billing.reconcile\",\n  \"role\": \"").append(role)
        .append("\",\n  \"seed\": 1234567,\n  \"timestamp\": \"").append(timestamp(volatiles))
        .append("\",\n  \"duration_ms\": ").append(Integer.toString(10_000 + volatiles.nextInt(90_000)))
        .append(",\n  \"steps\": [\n");
    // Estimate steps from the target so the differing ones sit in the middle.
    long approxStep = 1500;
    long expectedSteps = Math.max(1, targetBytes / approxStep);
    long firstDiffer = expectedSteps / 2;
    double total = 0;
    int differed = 0;
    int i = 0;
    long header = out.count - role.length(); // so that every role gets the same steps
    while (out.count - header < targetBytes - 600 || i == 0) {
      if (i > 0) {
        out.append(",\n");
      }
      boolean differ = shadow && i >= firstDiffer && i % 5 == 2 && differed < differingSteps;
      if (differ) {
        differed++;
      }
      total += step(out, i, content, volatiles, differ);
      i++;
    }
    out.append("\n  ],\n  \"output\": {\"total\": ").append(money(total)).append(", \"steps\": ")
        .append(Integer.toString(i)).append("},\n  \"hash\": \"sha256:")
        .append(hex(new SplittableRandom(i))).append("\"\n}\n");
  }

  private static double step(Counting out, int index, SplittableRandom r, SplittableRandom vol, boolean differ)
      throws IOException {
    int kind = index % 5;
    String name = switch (kind) {
      case 0 -> "load_accounts";
      case 1 -> "fetch_rates";
      case 2 -> "sample";
      case 3 -> "apply_fees";
      default -> "reconcile";
    };
    out.append("    {\"index\": ").append(Integer.toString(index)).append(", \"name\": \"").append(name)
        .append("_").append(Integer.toString(index)).append("\", \"kind\": \"")
        .append(kind == 1 ? "external" : "compute").append("\", \"started_at\": \"").append(timestamp(vol))
        .append("\", \"duration_ms\": ").append(Integer.toString(1000 + vol.nextInt(9000)));
    double sum = 0;
    if (kind == 1) {
      out.append(",\n      \"request\": {\"url\": \"https://rates.example.com/v2/latest?base=EUR&day=")
          .append(Integer.toString(index)).append("\", \"method\": \"GET\"},\n      \"response\": {\"status\": 200, \"rates\": {");
      String[] ccy = {"USD", "GBP", "JPY", "CHF", "SEK", "NOK", "DKK", "PLN"};
      for (int c = 0; c < ccy.length; c++) {
        out.append(c == 0 ? "" : ", ").append("\"").append(ccy[c]).append("\": ")
            .append(Double.toString(Math.round((0.5 + r.nextDouble() * 150) * 10000) / 10000.0));
      }
      out.append("}}");
    }
    if (kind == 2) {
      out.append(",\n      \"rng\": [");
      for (int k = 0; k < 8; k++) {
        double d = r.nextDouble();
        if (differ && k == 3) {
          d = d / 2 + 0.25;
        }
        out.append(k == 0 ? "" : ", ").append(Double.toString(d));
      }
      out.append("]");
    }
    out.append(",\n      \"output\": {\"accounts\": [");
    int n = 4 + r.nextInt(4);
    for (int a = 0; a < n; a++) {
      double balance = Math.round(r.nextDouble() * 1_000_000) / 100.0;
      sum += balance;
      out.append(a == 0 ? "\n        " : ",\n        ").append("{\"id\": \"acct-")
          .append(String.format(Locale.ROOT, "%06d", r.nextInt(1_000_000))).append("\", \"balance\": ")
          .append(money(balance)).append(", \"currency\": \"EUR\", \"active\": ")
          .append(r.nextBoolean() ? "true" : "false").append(", \"note\": \"")
          .append(a % 3 == 0 ? "r\\u00e9vision trimestrielle \\u2014 ok" : "monthly close").append("\"}");
    }
    out.append("],\n        \"total\": ").append(money(sum)).append(", \"count\": ").append(Integer.toString(n))
        .append(", \"finished_at\": \"").append(timestamp(vol)).append("\"},\n      \"hash\": \"sha256:")
        .append(hex(r)).append("\"}");
    return sum;
  }

  private static String money(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static String timestamp(SplittableRandom r) {
    return String.format(Locale.ROOT, "2025-12-02T%02d:%02d:%02d.%03dZ", r.nextInt(24), r.nextInt(60),
        r.nextInt(60), r.nextInt(1000));
  }

  private static String hex(SplittableRandom r) {
    StringBuilder sb = new StringBuilder(64);
    for (int i = 0; i < 4; i++) {
      sb.append(String.format(Locale.ROOT, "%016x", r.nextLong()));
    }
    return sb.toString();
  }

  /** A writer that counts the chars written (ASCII mostly, so close to bytes). */
  private static final class Counting {
    private final Writer w;
    long count;

    Counting(Writer w) {
      this.w = w;
    }

    Counting append(String s) throws IOException {
      w.write(s);
      count += s.length();
      return this;
    }
  }
}
