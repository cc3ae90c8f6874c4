package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.config.ClusterConfig;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.internal.LocalKafka;
import dev.lockstep.proto.v1.ClusterStatus;
import dev.lockstep.proto.v1.CollectorMember;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.StatusRequest;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.proto.v1.StopStatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster mode in one JVM on one real KRaft broker (started once for the class): collectors share
 * stops across agents they hold, and each shows the cluster in its status and metrics.
 */
class ClusterSmokeTest {
  @TempDir static Path dir;
  static LocalKafka kafka;
  static dev.lockstep.security.CertsInit.Result certs;

  @BeforeAll
  static void brokers() throws Exception {
    // the broker also listens for mutual TLS, with a certificate of the fleet's CA naming 127.0.0.1
    certs = dev.lockstep.security.CertsInit.run(dir.resolve("certs"), List.of(), List.of(),
        List.of(), List.of("127.0.0.1"), Duration.ofDays(1));
    var broker = certs.tlsFilesFor("collector");
    kafka = LocalKafka.start(dir.resolve("kafka"), 1, System.out::println,
        new ClusterConfig.KafkaTls(broker.ca(), broker.cert(), broker.key()));
  }

  @AfterAll
  static void stopBrokers() {
    if (kafka != null) kafka.close();
  }

  Collector collector(String id) throws Exception {
    return collector(id, "lockstep", 0);
  }

  Collector collector(String id, String prefix, int metricsPort) throws Exception {
    CollectorConfig c = CollectorConfig.defaults(dir.resolve(id)).withInsecure(true)
        .withListen("127.0.0.1", 0).withCorrelationWindow(Duration.ofSeconds(30))
        .withMetricsPort(metricsPort);
    return Collector.start(c, ClusterConfig.of(kafka.bootstrap(), id).withReplication(1, 1)
            .withTopicPrefix(prefix),
        Clock.systemUTC(), line -> System.out.println("[" + id + "] " + line));
  }

  static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static String metrics(Collector c) throws Exception {
    var http = java.net.http.HttpClient.newHttpClient();
    return http.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + c.metricsPort() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void everyCollectorShowsTheClusterInItsStatusAndMetrics() throws Exception {
    try (Collector a = collector("m1", "members", freePort());
        Collector b = collector("m2", "members", freePort());
        RawAgent x = RawAgent.connect(b.port(), "agent-m")) {
      x.await("welcome", f -> f.hasWelcome());
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", a.port()).usePlaintext().build();
      try {
        var op = OperatorGrpc.newBlockingStub(ch);
        Eventually.await(Duration.ofSeconds(60), "both collectors UP, one running the core, m2 holding the agent", () -> {
          ClusterStatus c = op.getStatus(StatusRequest.getDefaultInstance()).getCluster();
          return c.getCollectorsCount() == 2
              && c.getCollectorsList().stream().allMatch(m -> m.getState().equals("UP"))
              && c.getCollectorsList().stream().filter(CollectorMember::getCore).count() == 1
              && c.getCollectorsList().stream().anyMatch(m -> m.getCollectorId().equals("m2") && m.getAgents() == 1)
              && c.getCoreLagMap().keySet().containsAll(List.of("members.events", "members.control"));
        });
        ClusterStatus c = op.getStatus(StatusRequest.getDefaultInstance()).getCluster();
        assertThat(c.getCollectorId()).isEqualTo("m1");
        assertThat(c.getBootstrap()).isEqualTo(kafka.bootstrap());
        Eventually.await(Duration.ofSeconds(30), "metrics of both collectors", () -> {
          try {
            String ma = metrics(a);
            String mb = metrics(b);
            return ma.contains("lockstep_cluster_collectors{state=\"UP\"} 2.0")
                && mb.contains("lockstep_cluster_collectors{state=\"UP\"} 2.0")
                && (ma.contains("lockstep_cluster_core_running 1.0") != mb.contains("lockstep_cluster_core_running 1.0"))
                && ma.contains("lockstep_cluster_core_lag_records{topic=\"members.events\"}")
                && mb.contains("lockstep_cluster_streams_state{state=\"RUNNING\"} 1.0");
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void theAckedMarkOfAnAgentsFirstBatchReachesTheOtherCollector() throws Exception {
    // the first mark a collector publishes: it was sent from Kafka's own network thread and waited
    // there for the acked topic's metadata, which only that thread fetches, then was dropped
    try (Collector a = collector("k1", "marks", 0); Collector b = collector("k2", "marks", 0)) {
      try (RawAgent x = RawAgent.connect(a.port(), "agent-k")) {
        x.await("welcome", f -> f.hasWelcome());
        x.events(CrashTest.notice(1), CrashTest.notice(2));
        x.await("the batch acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 2);
      }
      Eventually.await(Duration.ofSeconds(30), "the other collector welcoming agent-k with acked seq 2", () -> {
        try (RawAgent y = RawAgent.connect(b.port(), "agent-k")) {
          return y.await("welcome", f -> f.hasWelcome()).getWelcome().getAckedSeq() == 2;
        }
      });
    }
  }

  /**
   * A run whose state is over what one Kafka record holds (52,000 steps, 9.8 MB as stored, in one
   * 3.7 MB frame): its transaction failed on every retry, and no decision or stop was made after
   * it. Now each replica's steps are folded into one summary once it has been compared, and its
   * mismatch (and anything after it) still stops the fleet.
   */
  @Test
  void aRunTooLargeForOneKafkaRecordIsStillComparedAndBlocksNothing() throws Exception {
    try (Collector a = collector("c-big", "oversize", freePort());
        RawAgent x = RawAgent.connect(a.port(), "agent-big")) {
      x.await("welcome", f -> f.hasWelcome());
      GoldenReport.Builder big = Goldens.report("run-big", "wf", "primary", "a").toBuilder().clearSteps();
      String h = Goldens.hash("s");
      for (int i = 0; i < 52_000; i++) {
        big.addSteps(dev.lockstep.proto.v1.StepSummary.newBuilder().setIndex(i).setCanonicalHash(h));
      }
      x.report(big.build());
      x.await("the big report acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 1);
      x.report(Goldens.report("run-big", "wf", "shadow", "b"));
      x.await("the shadow acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 2);
      StopState s = Eventually.value(Duration.ofSeconds(60), "the big run's mismatch stops the agent", () -> {
        StopState l = x.lastStop();
        return l != null && l.getMode() == StopMode.STOPPED ? l : null;
      });
      assertThat(s.getOrdersList()).hasSize(1);
      assertThat(metrics(a)).doesNotContain("lockstep_internal_errors_total{component=\"core\"}");
    }
  }

  @Test
  void aMismatchOnOneCollectorStopsAgentsOfBoth() throws Exception {
    try (Collector a = collector("c1"); Collector b = collector("c2");
        RawAgent x = RawAgent.connect(a.port(), "agent-x");
        RawAgent y = RawAgent.connect(b.port(), "agent-y")) {
      x.await("welcome x", f -> f.hasWelcome());
      y.await("welcome y", f -> f.hasWelcome());
      x.report(Goldens.report("run-1", "wf", "primary", "a"), Goldens.report("run-1", "wf", "shadow", "b"));
      x.await("ack", f -> f.hasAck() && f.getAck().getUptoSeq() == 2);
      StopState s = Eventually.value(Duration.ofSeconds(60), "stop at y", () -> {
        StopState l = y.lastStop();
        return l != null && l.getMode() == StopMode.STOPPED ? l : null;
      });
      y.ack(s, true);
      StopState sx = Eventually.value(Duration.ofSeconds(60), "stop at x", () -> {
        StopState l = x.lastStop();
        return l != null && l.getMode() == StopMode.STOPPED ? l : null;
      });
      x.ack(sx, true);
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", b.port()).usePlaintext().build();
      try {
        var op = OperatorGrpc.newBlockingStub(ch);
        Eventually.await(Duration.ofSeconds(30), "both confirmed",
            () -> op.getStopStatus(StopStatusRequest.getDefaultInstance()).getConfirmed() == 2);
        assertThat(op.getStopStatus(StopStatusRequest.getDefaultInstance()).getOrdersCount()).isEqualTo(1);
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void aCollectorReachesKafkaOverMutualTlsAndAForeignCertificateIsRefusedNamingKafka()
      throws Exception {
    var mine = certs.tlsFilesFor("collector");
    CollectorConfig c = CollectorConfig.defaults(dir.resolve("tls-1")).withInsecure(true)
        .withListen("127.0.0.1", 0).withCorrelationWindow(Duration.ofSeconds(30));
    try (Collector a = Collector.start(c, ClusterConfig.of(kafka.tlsBootstrap(), "tls-1")
            .withReplication(1, 1).withTopicPrefix("tls")
            .withTls(new ClusterConfig.KafkaTls(mine.ca(), mine.cert(), mine.key())),
            Clock.systemUTC(), line -> System.out.println("[tls-1] " + line));
        RawAgent x = RawAgent.connect(a.port(), "agent-tls")) {
      x.await("welcome", f -> f.hasWelcome());
      x.report(Goldens.report("run-tls", "wf", "primary", "a"), Goldens.report("run-tls", "wf", "shadow", "b"));
      x.await("ack after Kafka took the batch", f -> f.hasAck() && f.getAck().getUptoSeq() == 2);
      StopState s = Eventually.value(Duration.ofSeconds(60), "the stop decided over TLS", () -> {
        StopState l = x.lastStop();
        return l != null && l.getMode() == StopMode.STOPPED ? l : null;
      });
      assertThat(s.getOrdersCount()).isEqualTo(1);
    }
    // a certificate of another CA: the broker refuses the handshake, the collector does not start
    var foreign = dev.lockstep.security.CertsInit.run(dir.resolve("foreign-certs"), List.of(),
        List.of(), List.of(), List.of("127.0.0.1"), Duration.ofDays(1)).tlsFilesFor("collector");
    CollectorConfig c2 = CollectorConfig.defaults(dir.resolve("tls-2")).withInsecure(true)
        .withListen("127.0.0.1", 0);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Collector.start(c2,
            ClusterConfig.of(kafka.tlsBootstrap(), "tls-2").withReplication(1, 1).withTopicPrefix("tls")
                .withTls(new ClusterConfig.KafkaTls(foreign.ca(), foreign.cert(), foreign.key())),
            Clock.systemUTC(), line -> System.out.println("[tls-2] " + line)).close())
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("cluster mode: Kafka at " + kafka.tlsBootstrap())
        .hasMessageContaining("SSL handshake failed");
  }

  static long outboxDepth(Collector c) {
    return (long) io.prometheus.metrics.model.snapshots.GaugeSnapshot.class.cast(
        c.metrics().registry().scrape(n -> n.equals("lockstep_alert_outbox_depth")).get(0))
        .getDataPoints().get(0).getValue();
  }

  @Test
  void eachAlertIsDeliveredByOneCollectorOnly() throws Exception {
    List<String> posted = new java.util.concurrent.CopyOnWriteArrayList<>();
    com.sun.net.httpserver.HttpServer http = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext("/hook", ex -> {
      posted.add(new String(ex.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
      ex.sendResponseHeaders(204, -1);
      ex.close();
    });
    http.start();
    CollectorConfig.Alerts hook = new CollectorConfig.Alerts(List.of(new CollectorConfig.Webhook(
        java.net.URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/hook"), "json", null)),
        null, null, 3, Duration.ofMinutes(2), Duration.ofMillis(100));
    List<Collector> both = new java.util.ArrayList<>();
    try {
      for (String id : List.of("al1", "al2")) {
        both.add(Collector.start(CollectorConfig.defaults(dir.resolve(id)).withInsecure(true)
                .withListen("127.0.0.1", 0).withCorrelationWindow(Duration.ofSeconds(30)).withAlerts(hook),
            ClusterConfig.of(kafka.bootstrap(), id).withReplication(1, 1).withTopicPrefix("alerts"),
            Clock.systemUTC(), line -> System.out.println("[" + id + "] " + line)));
      }
      try (RawAgent x = RawAgent.connect(both.get(1).port(), "agent-alerts")) {
        x.await("welcome", f -> f.hasWelcome());
        x.report(Goldens.report("run-a1", "wf-one", "primary", "a"), Goldens.report("run-a1", "wf-one", "shadow", "b"),
            Goldens.report("run-a2", "wf-two", "primary", "a"), Goldens.report("run-a2", "wf-two", "shadow", "b"));
        x.await("ack", f -> f.hasAck() && f.getAck().getUptoSeq() == 4);
      }
      List<String> ids = Eventually.value(Duration.ofSeconds(60), "two incidents", () -> {
        List<String> l = both.get(0).fleet().incidents().all().stream()
            .filter(i -> i.getKind() == dev.lockstep.proto.v1.IncidentKind.MISMATCH)
            .map(dev.lockstep.proto.v1.Incident::getId).toList();
        return l.size() == 2 ? l : null;
      });
      // once both incidents were posted and neither collector has an alert left to send, every
      // copy either of them would ever send has been sent
      Eventually.await(Duration.ofSeconds(60), "both alerts posted, both outboxes empty", () ->
          ids.stream().allMatch(id -> posted.stream().anyMatch(b -> b.contains(id)))
              && both.stream().allMatch(c -> outboxDepth(c) == 0));
      for (String id : ids) {
        assertThat(posted.stream().filter(b -> b.contains("\"incident\":\"" + id + "\"")).count())
            .as("posts of the alert for %s", id).isEqualTo(1);
      }
    } finally {
      for (Collector c : both) c.close();
      http.stop(0);
    }
  }
}
