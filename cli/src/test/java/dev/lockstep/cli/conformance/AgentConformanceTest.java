package dev.lockstep.cli.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EventBatch;
import dev.lockstep.proto.v1.Hello;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.security.CertsInit;
import dev.lockstep.security.TlsFiles;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lockstep conformance serve} against the project's own agent, a real process under mTLS
 * with real stop hooks and golden files: every rule passes. And against an agent that sends
 * before the Welcome and never acks a stop: those rules fail.
 */
class AgentConformanceTest {
  static final List<String> RULES = List.of("agent.connects", "hello.first-frame",
      "hello.agent-id-pattern", "hello.agent-id-is-certificate-cn", "hello.hostname-and-version",
      "hello.enacted-stop", "agent.waits-for-welcome", "stop.acks-welcome", "stop.answers-resend",
      "stop.enacts-stopped", "events.batch-limits", "events.seq-order", "events.well-formed",
      "agent.reconnects", "agent.reconnect-backoff", "hello.reports-enacted-stop",
      "stop.acks-welcome-of-enacted-state", "events.resent-after-reconnect",
      "events.resent-identical", "backoff.pauses", "backoff.resends-after-retry",
      "stop.keeps-unreleased-orders", "stop.resume-releases",
      "evidence.capture", "hello.reports-enacted-resume", "stop.acks-welcome-after-resume",
      "events.acked-not-resent", "events.golden-report");

  @TempDir Path dir;
  Process agent;

  @AfterEach
  void stop() throws Exception {
    Kit.stop(agent);
  }

  static int listening(CompletableFuture<Kit.Result> kit, Path portFile) {
    return Kit.await(Duration.ofSeconds(30), "kit listening", () -> {
      if (kit.isDone()) throw new AssertionError("the kit ended early: " + kit.join());
      String s = Kit.read(portFile).trim();
      return s.isEmpty() ? null : Integer.parseInt(s);
    });
  }

  @Test
  void theProjectsAgentPassesEveryRule() throws Exception {
    CertsInit.Result certs = CertsInit.run(dir.resolve("certs"), List.of("worker-1"), List.of(),
        List.of(), List.of(), Duration.ofDays(1));
    TlsFiles collector = certs.tlsFilesFor("collector");
    Path portFile = dir.resolve("port");
    CompletableFuture<Kit.Result> kit = CompletableFuture.supplyAsync(() -> Kit.run("conformance",
        "serve", "--listen", "127.0.0.1:0", "--port-file", portFile.toString(),
        "--ca", collector.ca().toString(), "--cert", collector.cert().toString(),
        "--key", collector.key().toString(), "--timeout", "30s"));
    int port = listening(kit, portFile);
    Path golden = Files.createDirectories(dir.resolve("golden"));
    Path marker = dir.resolve("stopped-by-hook");
    TlsFiles worker = certs.tlsFilesFor("worker-1");
    Path log = dir.resolve("agent.log");
    agent = Kit.java(log, "dev.lockstep.agent.AgentMain", "--id", "worker-1",
        "--collector", "localhost:" + port, "--state-dir", dir.resolve("state").toString(),
        "--golden-dir", golden.toString(), "--stop-file", dir.resolve("EMERGENCY_STOP").toString(),
        "--on-stop", "touch " + marker, "--on-resume", "rm -f " + marker, "--metrics-port", "0",
        "--ca", worker.ca().toString(), "--cert", worker.cert().toString(), "--key", worker.key().toString());
    for (int i = 1; i <= 7; i++) { // more events than the kit's max_batch_events (3)
      Path tmp = golden.resolve(".run-" + i + ".tmp");
      Files.writeString(tmp, "{\"run_id\": \"run-" + i + "\", \"workflow\": \"billing\","
          + " \"role\": \"primary\", \"seed\": 7, \"steps\": [{\"index\": 0, \"name\": \"load\","
          + " \"output\": {\"n\": " + i + "}}], \"output\": {\"total\": " + i + "}}", StandardCharsets.UTF_8);
      Files.move(tmp, golden.resolve("run-" + i + ".primary.golden.json"));
    }

    Kit.Result r = kit.get(3, TimeUnit.MINUTES);
    System.out.println(r.out()); // the conformance report, in the build log

    String why = r.out() + r.err() + "\nagent log:\n" + Kit.read(log);
    Map<String, String> verdicts = r.verdicts();
    assertThat(verdicts).as(why).containsOnlyKeys(RULES);
    assertThat(verdicts.values()).as(why).containsOnly("PASS");
    assertThat(r.exitCode()).as(why).isZero();
    assertThat(Files.exists(marker)).as("on_resume ran last: " + why).isFalse();
    assertThat(Kit.read(log)).as("the stop was real: its hook ran").contains("STOPPED");
  }

  @Test
  void anAgentThatSendsBeforeTheWelcomeAndNeverAcksFails() throws Exception {
    Path portFile = dir.resolve("port");
    CompletableFuture<Kit.Result> kit = CompletableFuture.supplyAsync(() -> Kit.run("conformance",
        "serve", "--listen", "127.0.0.1:0", "--port-file", portFile.toString(), "--insecure",
        "--timeout", "2s"));
    int port = listening(kit, portFile);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try (RawStream rude = new RawStream(channel)) {
      rude.hello(Hello.newBuilder().setAgentId("rude-1").setHostname("h").setVersion("0")
          .setEnactedStop(StopState.getDefaultInstance()).build());
      rude.send(AgentFrame.newBuilder().setEvents(EventBatch.newBuilder()
          .addEvents(Event.newBuilder().setSeq(2).setNotice(AgentNotice.newBuilder()
              .setKind(AgentNotice.Kind.RETENTION)))
          .addEvents(Event.newBuilder().setSeq(1))).build());
      Kit.Result r = kit.get(2, TimeUnit.MINUTES);
      String why = r.out() + r.err();
      assertThat(r.exitCode()).as(why).isEqualTo(1);
      assertThat(r.verdicts()).as(why)
          .containsEntry("hello.first-frame", "PASS")
          .containsEntry("agent.waits-for-welcome", "FAIL")
          .containsEntry("stop.acks-welcome", "FAIL")
          .containsEntry("events.seq-order", "FAIL")
          .containsEntry("events.well-formed", "FAIL")
          .containsEntry("agent.reconnects", "FAIL")
          .containsEntry("hello.agent-id-is-certificate-cn", "SKIP");
      assertThat(r.out()).contains("seq 1: no body");
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
