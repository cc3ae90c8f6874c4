package dev.lockstep.cli.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.proto.v1.Ack;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.proto.v1.Welcome;
import dev.lockstep.security.CertsInit;
import dev.lockstep.security.TlsFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lockstep conformance} against the project's own collector, a real process under mTLS:
 * every rule passes. And against a collector that acks whatever it gets: the rules it breaks fail.
 */
class CollectorConformanceTest {
  static final List<String> RULES = List.of("health.names", "health.without-client-certificate",
      "reflection.v1", "reflection.v1alpha", "hello.required-first", "hello.agent-id-pattern",
      "hello.agent-id-is-certificate-cn", "hello.enacted-orders-limit", "welcome.first-frame",
      "welcome.fields", "pins.on-connect", "stop.resent-until-acked", "stop.ack-ends-resend",
      "stop.higher-generation-reissued",
      "events.acked-after-store", "events.duplicates-acked", "events.skipped-seq-refused",
      "events.refused-batch-not-stored", "events.seqs-increase", "events.body-required",
      "events.golden-run-id", "events.golden-role", "events.hash-form", "hello.once",
      "limits.batch", "limits.frame", "correlation.match", "correlation.mismatch",
      "correlation.replica-conflict", "stop.order-on-p0", "stop.resume-releases");

  @TempDir Path dir;
  Process collector;

  @AfterEach
  void stop() throws Exception {
    Kit.stop(collector);
  }

  @Test
  void theProjectsCollectorPassesEveryRule() throws Exception {
    CertsInit.Result certs = CertsInit.run(dir.resolve("certs"), List.of("conformance-kit"),
        List.of("alice"), List.of(), List.of(), Duration.ofDays(1));
    TlsFiles server = certs.tlsFilesFor("collector");
    Path config = dir.resolve("collector.yaml");
    Files.writeString(config, String.join("\n",
        "listen: 127.0.0.1:0",
        "data_dir: " + dir.resolve("data"),
        "tls: {ca: " + server.ca() + ", cert: " + server.cert() + ", key: " + server.key() + "}",
        "stop: {policy: fleet, resend_interval: 1s}", ""));
    Path log = dir.resolve("collector.log");
    Path portFile = dir.resolve("port");
    collector = Kit.java(log, "dev.lockstep.collector.CollectorMain", "--config", config.toString(),
        "--port-file", portFile.toString());
    int port = Kit.port(portFile, collector, log);
    TlsFiles kit = certs.tlsFilesFor("conformance-kit");
    TlsFiles alice = certs.tlsFilesFor("alice");

    Kit.Result r = Kit.run("conformance", "--collector", "localhost:" + port, "--ca", kit.ca().toString(),
        "--agent-cert", kit.cert().toString(), "--agent-key", kit.key().toString(),
        "--operator-cert", alice.cert().toString(), "--operator-key", alice.key().toString(),
        "--resend-interval", "1s", "--timeout", "20s");
    System.out.println(r.out()); // the conformance report, in the build log

    String why = r.out() + r.err() + "\ncollector log:\n" + Kit.read(log);
    Map<String, String> verdicts = r.verdicts();
    assertThat(verdicts).as(why).containsOnlyKeys(RULES);
    assertThat(verdicts.values()).as(why).containsOnly("PASS");
    assertThat(r.exitCode()).as(why).isZero();
    assertThat(r.out()).contains("collector localhost:" + port + ": " + RULES.size() + " passed, 0 failed, 0 skipped");
  }

  @Test
  void aCollectorThatAcksWhateverItGetsFailsTheRulesItBreaks() throws Exception {
    ExecutorService pool = Executors.newCachedThreadPool();
    try (KitCollector lax = new KitCollector("127.0.0.1", 0, null, java.time.Clock.systemUTC())) {
      pool.execute(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          KitCollector.Connection c = lax.accept(Duration.ofMillis(200));
          if (c != null) pool.execute(() -> ackEverything(c));
        }
      });
      Kit.Result r = Kit.run("conformance", "--collector", "127.0.0.1:" + lax.port(), "--insecure",
          "--timeout", "1s", "--resend-interval", "200ms");
      Map<String, String> verdicts = r.verdicts();
      String why = r.out() + r.err();
      assertThat(r.exitCode()).as(why).isEqualTo(1);
      for (String broken : List.of("health.names", "reflection.v1", "hello.required-first",
          "hello.agent-id-pattern", "pins.on-connect", "stop.resent-until-acked",
          "events.skipped-seq-refused", "events.refused-batch-not-stored", "events.body-required",
          "events.golden-role", "events.hash-form", "limits.batch")) {
        assertThat(verdicts).as(why).containsEntry(broken, "FAIL");
      }
      assertThat(verdicts).as(why).containsEntry("welcome.first-frame", "PASS")
          .containsEntry("events.acked-after-store", "PASS")
          .containsEntry("events.duplicates-acked", "PASS")
          .containsEntry("hello.agent-id-is-certificate-cn", "SKIP");
    } finally {
      pool.shutdownNow();
    }
  }

  /** Welcomes any Hello (or anything), acks every batch up to its highest seq, refuses nothing. */
  private static void ackEverything(KitCollector.Connection c) {
    long[] high = {0};
    int[] handled = {0};
    while (c.await(Duration.ofSeconds(5), f -> f.size() > handled[0])) {
      List<AgentFrame> frames = c.frames();
      for (int i = handled[0]; i < frames.size(); i++) {
        AgentFrame f = frames.get(i);
        if (i == 0) {
          c.send(CollectorFrame.newBuilder().setWelcome(Welcome.newBuilder().setAckedSeq(high[0])
              .setMaxBatchEvents(500).setMaxFrameBytes(4 << 20).setStop(StopState.newBuilder()
                  .setGeneration(1).setMode(StopMode.RUNNING))).build());
        }
        if (f.hasEvents()) {
          for (var e : f.getEvents().getEventsList()) high[0] = Math.max(high[0], e.getSeq());
          c.send(CollectorFrame.newBuilder().setAck(Ack.newBuilder().setUptoSeq(high[0])).build());
        }
      }
      handled[0] = frames.size();
    }
  }
}
