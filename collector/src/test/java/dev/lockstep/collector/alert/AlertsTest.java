package dev.lockstep.collector.alert;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.lockstep.collector.Collector;
import dev.lockstep.collector.Eventually;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.Severity;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlertsTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  record Received(String body, String signature) {}

  static Incidents raise(Collector c) throws Exception {
    return new Incidents(c);
  }

  /** Opens a P0 mismatch incident through the collector's own incident book. */
  record Incidents(Collector c) {
    Incident mismatch(String workflow) throws Exception {
      return c.fleet().onCore(() -> c.fleet().incidents().raise(new dev.lockstep.collector.incident
          .Incidents.Raise(IncidentKind.MISMATCH, Severity.P0, "UNSEEDED_RNG", workflow, 2, "sample",
          List.of(), List.of("run-1"), List.of("host-a"), "", "mismatch UNSEEDED_RNG in " + workflow,
          "step 2: random values differ", "")).incident());
    }
  }

  @Test
  void aFailingWebhookKeepsTheAlertQueuedRaisesP3AndDeliversItOnceAfterRecovery() throws Exception {
    Path secret = dir.resolve("secret");
    Files.writeString(secret, "s3cret\n");
    Files.setPosixFilePermissions(secret, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    AtomicBoolean failing = new AtomicBoolean(true);
    List<Received> delivered = new CopyOnWriteArrayList<>();
    List<String> refused = new CopyOnWriteArrayList<>();
    HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext("/hook", ex -> {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      if (failing.get()) {
        refused.add(body);
        ex.sendResponseHeaders(503, -1);
      } else {
        delivered.add(new Received(body, ex.getRequestHeaders().getFirst("X-Lockstep-Signature")));
        ex.sendResponseHeaders(204, -1);
      }
      ex.close();
    });
    http.start();
    CollectorConfig base = CollectorConfig.defaults(dir.resolve("data")).withInsecure(true).withListen("127.0.0.1", 0)
        .withStopPolicy(CollectorConfig.StopPolicy.OFF);
    CollectorConfig config = base.withAlerts(new CollectorConfig.Alerts(List.of(new CollectorConfig.Webhook(
        URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/hook"), "json", secret)),
        null, null, 3, Duration.ofMinutes(2), Duration.ofMillis(100)));
    try (Collector c = Collector.start(config, Clock.systemUTC(), l -> { })) {
      Incident inc = raise(c).mismatch("billing.reconcile");
      Eventually.await(Duration.ofSeconds(10), "P3 webhook failure", () -> c.fleet().incidents().all()
          .stream().anyMatch(i -> i.getKind() == IncidentKind.WEBHOOK_FAILURE && i.getSeverity() == Severity.P3));
      assertThat(refused.size()).isGreaterThanOrEqualTo(3);
      assertThat(c.metrics().alertDeliveries.labelValues(
          c.fleet().incidents().all().stream().filter(i -> i.getKind() == IncidentKind.WEBHOOK_FAILURE)
              .findFirst().orElseThrow().getSignature().split("\\|")[5], "error").getLongValue())
          .isGreaterThanOrEqualTo(3);
      failing.set(false);
      Eventually.await(Duration.ofSeconds(10), "delivered", () -> !delivered.isEmpty());
      Eventually.await(Duration.ofSeconds(5), "outbox drained", () -> c.metrics() != null
          && c.fleet() != null && outboxDepth(c) == 0);
      assertThat(delivered).hasSize(1);
      JsonNode body = JSON.readTree(delivered.get(0).body());
      assertThat(body.get("incident").asText()).isEqualTo(inc.getId());
      assertThat(body.get("severity").asText()).isEqualTo("P0");
      assertThat(body.get("event").asText()).isEqualTo("opened");
      assertThat(dev.lockstep.security.WebhookSigner.ofSecret("s3cret").verify(
          delivered.get(0).body().getBytes(StandardCharsets.UTF_8), delivered.get(0).signature())).isTrue();
      List<String> log = Files.readAllLines(c.config().alertLogFile());
      assertThat(log).anySatisfy(l -> assertThat(l).contains(inc.getId()).contains("\"opened\""));
      assertThat(log).anySatisfy(l -> assertThat(l).contains("WEBHOOK_FAILURE"));
    } finally {
      http.stop(0);
    }
  }

  @Test
  void queuedAlertsSurviveACollectorRestart() throws Exception {
    List<String> delivered = new CopyOnWriteArrayList<>();
    AtomicBoolean failing = new AtomicBoolean(true);
    HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext("/hook", ex -> {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      if (!failing.get()) delivered.add(body);
      ex.sendResponseHeaders(failing.get() ? 500 : 200, -1);
      ex.close();
    });
    http.start();
    CollectorConfig config = CollectorConfig.defaults(dir.resolve("data")).withInsecure(true).withListen("127.0.0.1", 0)
        .withStopPolicy(CollectorConfig.StopPolicy.OFF)
        .withAlerts(new CollectorConfig.Alerts(List.of(new CollectorConfig.Webhook(
            URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/hook"), "slack", null)),
            null, null, 100, Duration.ofMinutes(10), Duration.ofMillis(100)));
    try {
      try (Collector c = Collector.start(config, Clock.systemUTC(), l -> { })) {
        raise(c).mismatch("wf");
        Eventually.await(Duration.ofSeconds(5), "queued", () -> outboxDepth(c) == 1
            && c.metrics().alertDeliveries.labelValues(c.fleet() == null ? "" : sinkName(c), "error").getLongValue() > 0);
      }
      failing.set(false);
      try (Collector c = Collector.start(config, Clock.systemUTC(), l -> { })) {
        Eventually.await(Duration.ofSeconds(10), "delivered after restart", () -> delivered.size() == 1);
        Eventually.await(Duration.ofSeconds(5), "outbox empty", () -> outboxDepth(c) == 0);
        assertThat(JSON.readTree(delivered.get(0)).get("text").asText()).contains("P0").contains("INC-000001");
      }
    } finally {
      http.stop(0);
    }
  }

  static String sinkName(Collector c) {
    return "webhook-0(127.0.0.1:" + c.config().alerts().webhooks().get(0).url().getPort() + ")";
  }

  static long outboxDepth(Collector c) {
    return (long) io.prometheus.metrics.model.snapshots.GaugeSnapshot.class.cast(
        c.metrics().registry().scrape(n -> n.equals("lockstep_alert_outbox_depth")).get(0))
        .getDataPoints().get(0).getValue();
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void aRealAlertmanagerReceivesTheAlertWithItsLabels() throws Exception {
    Path binary = Path.of("/usr/bin/prometheus-alertmanager");
    assertThat(binary).as("prometheus-alertmanager (Debian package; .ci/run installs it)").isExecutable();
    Path conf = dir.resolve("am.yml");
    Files.writeString(conf, "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
    int port = freePort();
    Process am = new ProcessBuilder(binary.toString(), "--config.file=" + conf,
        "--storage.path=" + dir.resolve("am-data"), "--web.listen-address=127.0.0.1:" + port,
        "--cluster.listen-address=").redirectErrorStream(true)
        .redirectOutput(dir.resolve("am.log").toFile()).start();
    HttpClient client = HttpClient.newHttpClient();
    URI base = URI.create("http://127.0.0.1:" + port);
    try {
      Eventually.await(Duration.ofSeconds(20), "alertmanager ready", () -> {
        try {
          return client.send(HttpRequest.newBuilder(base.resolve("/-/ready")).build(),
              HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (Exception e) {
          return false;
        }
      });
      CollectorConfig config = CollectorConfig.defaults(dir.resolve("data")).withInsecure(true).withListen("127.0.0.1", 0)
          .withStopPolicy(CollectorConfig.StopPolicy.OFF).withAlertmanager(base);
      try (Collector c = Collector.start(config, Clock.systemUTC(), l -> { })) {
        Incident inc = raise(c).mismatch("billing.reconcile");
        JsonNode alert = Eventually.value(Duration.ofSeconds(10), "alert in alertmanager", () -> {
          try {
            String body = client.send(HttpRequest.newBuilder(base.resolve("/api/v2/alerts")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
            for (JsonNode a : JSON.readTree(body)) {
              if (inc.getId().equals(a.path("labels").path("incident").asText())) return a;
            }
            return null;
          } catch (Exception e) {
            return null;
          }
        });
        JsonNode labels = alert.get("labels");
        assertThat(labels.get("alertname").asText()).isEqualTo("LockstepMismatch");
        assertThat(labels.get("severity").asText()).isEqualTo("P0");
        assertThat(labels.get("category").asText()).isEqualTo("UNSEEDED_RNG");
        assertThat(labels.get("workflow").asText()).isEqualTo("billing.reconcile");
        assertThat(labels.get("host").asText()).isEqualTo("host-a");
        assertThat(alert.path("annotations").path("summary").asText()).contains("UNSEEDED_RNG");
        assertThat(alert.path("status").path("state").asText()).isEqualTo("active");

        // the hourly refresh re-posts open incidents (idempotent for Alertmanager)
        c.fleet().onCore(() -> {
          c.fleet().refreshAlerts();
          return null;
        });
        Eventually.await(Duration.ofSeconds(5), "refresh delivered", () -> outboxDepth(c) == 0);
        c.fleet().onCore(() -> c.fleet().incidents().resolve(inc.getId(), "fixed", "test", ""));
        Eventually.await(Duration.ofSeconds(10), "alert resolved", () -> {
          try {
            String body = client.send(HttpRequest.newBuilder(base.resolve("/api/v2/alerts?active=true")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
            for (JsonNode a : JSON.readTree(body)) {
              if (inc.getId().equals(a.path("labels").path("incident").asText())) return false;
            }
            return true;
          } catch (Exception e) {
            return false;
          }
        });
      }
    } finally {
      am.destroy();
      am.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
