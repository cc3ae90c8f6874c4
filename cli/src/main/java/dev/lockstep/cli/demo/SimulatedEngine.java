package dev.lockstep.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for one host's workflow engine: each cycle it runs a workflow twice (primary and
 * shadow, same run_id and seed) and writes two golden files, renamed into place. It starts no new
 * cycle while the host's stop file exists — the contract a real engine honours.
 */
final class SimulatedEngine implements Runnable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String host;
  private final Path goldenDir;
  private final Path stopFile;
  private final AtomicBoolean diverge = new AtomicBoolean();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicInteger cycles = new AtomicInteger();
  private final long intervalMillis;

  SimulatedEngine(String host, Path goldenDir, Path stopFile, long intervalMillis) {
    this.host = host;
    this.goldenDir = goldenDir;
    this.stopFile = stopFile;
    this.intervalMillis = intervalMillis;
  }

  /** The next cycle's shadow run draws its random numbers from an unseeded generator. */
  void injectUnseededRng() {
    diverge.set(true);
  }

  int cycles() {
    return cycles.get();
  }

  void stop() {
    running.set(false);
  }

  @Override
  public void run() {
    while (running.get()) {
      if (!Files.exists(stopFile)) {
        writeCycle(cycles.incrementAndGet());
      }
      try {
        Thread.sleep(intervalMillis); // pacing of a simulated workload, not a wait for a condition
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  String runId(int cycle) {
    return String.format("billing-%s-cycle-%04d", host, cycle);
  }

  private void writeCycle(int cycle) {
    String runId = runId(cycle);
    long seed = 1000L * cycle + host.hashCode() % 1000;
    boolean unseeded = diverge.getAndSet(false);
    write(runId + ".primary.golden.json", document(runId, "primary", seed, false));
    write(runId + ".shadow.golden.json", document(runId, "shadow", seed, unseeded));
  }

  private ObjectNode document(String runId, String role, long seed, boolean unseededRng) {
    Random rng = unseededRng ? new Random() : new Random(seed);
    ObjectNode doc = JSON.createObjectNode();
    doc.put("format", "lockstep.golden/v1");
    doc.put("run_id", runId);
    doc.put("workflow", "billing.reconcile");
    doc.put("role", role);
    doc.put("seed", seed);
    doc.put("timestamp", Instant.now().toString());
    doc.put("duration_ms", 900 + new Random().nextInt(300));
    ArrayNode steps = doc.putArray("steps");
    ObjectNode load = steps.addObject();
    load.put("index", 0).put("name", "load_accounts").put("kind", "compute");
    load.putObject("output").put("n", 3);
    ObjectNode fetch = steps.addObject();
    fetch.put("index", 1).put("name", "fetch_rates").put("kind", "external");
    fetch.putObject("request").put("url", "https://rates.example/eur");
    fetch.putObject("response").put("eur", 1.08);
    ObjectNode sample = steps.addObject();
    sample.put("index", 2).put("name", "sample").put("kind", "compute");
    double a = Math.round(rng.nextDouble() * 1e6) / 1e6;
    double b = Math.round(rng.nextDouble() * 1e6) / 1e6;
    sample.putArray("rng").add(a).add(b);
    sample.putObject("output").put("pick", (int) (a * 10));
    doc.putObject("output").put("total", 42 + (int) (b * 10));
    return doc;
  }

  private void write(String name, ObjectNode doc) {
    try {
      Path tmp = goldenDir.resolve("." + name + ".tmp");
      JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), doc);
      Files.move(tmp, goldenDir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("engine " + host + ": cannot write " + name, e);
    }
  }
}
