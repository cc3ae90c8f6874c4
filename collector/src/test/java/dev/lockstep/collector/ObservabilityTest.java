package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.FleetStatus;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.StatusRequest;
import dev.lockstep.proto.v1.WatchEvent;
import dev.lockstep.proto.v1.WatchRequest;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ObservabilityTest {
  @TempDir Path dir;
  Collector collector;
  ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    collector = Collector.start(CollectorConfig.defaults(dir).withInsecure(true).withListen("127.0.0.1", 0)
        .withMetricsPort(freePort()), Clock.systemUTC(), l -> { });
    channel = NettyChannelBuilder.forAddress("127.0.0.1", collector.port()).usePlaintext().build();
  }

  static int freePort() throws Exception {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    collector.close();
  }

  @Test
  void metricsAreServedAndPassPromtool() throws Exception {
    try (RawAgent a = RawAgent.connect(collector.port(), "host-a")) {
      a.report(Goldens.report("r1", "wf", "primary", "a"), Goldens.report("r1", "wf", "shadow", "b"));
      a.await("stop", f -> f.hasStop());
      String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + collector.metricsPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertThat(text).contains("lockstep_ingest_events_total 2.0")
          .contains("lockstep_stop_orders_active 1.0")
          .contains("lockstep_core_transactions_total{sync=\"fsync\"}")
          .contains("lockstep_core_queue{kind=\"events\"}")
          .contains("lockstep_stop_acks_refused_total 0.0")
          .contains("lockstep_gateway_streams_connected 1.0")
          .contains("lockstep_incidents{severity=\"P0\",state=\"OPEN\"} 1.0")
          .contains("lockstep_stop_agents{status=\"PENDING\"} 1.0")
          .contains("lockstep_ingest_batch_write_seconds_bucket")
          .contains("lockstep_correlation_lag_seconds_count 1")
          .contains("lockstep_alert_outbox_depth")
          .contains("lockstep_stop_fanout_seconds_count 1")
          .contains("lockstep_stop_decision_seconds_count 1");
      Path promtool = Path.of("/usr/bin/promtool");
      assertThat(promtool).as("promtool (Debian package prometheus; .ci/run installs it)").isExecutable();
      Path file = dir.resolve("metrics.txt");
      Files.writeString(file, text);
      Process p = new ProcessBuilder(promtool.toString(), "check", "metrics")
          .redirectInput(file.toFile()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(out).isZero();
    }
  }

  @Test
  void healthAnswersForTheServerAndEachServiceByName() {
    var health = HealthGrpc.newBlockingStub(channel);
    for (String name : List.of("", "lockstep.v1.AgentGateway", "lockstep.v1.Operator")) {
      assertThat(health.check(HealthCheckRequest.newBuilder().setService(name).build()).getStatus())
          .as("'" + name + "'").isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }
    assertThatThrownBy(() -> health.check(HealthCheckRequest.newBuilder().setService("lockstep.v1.Nope").build()))
        .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.NOT_FOUND));
  }

  @Test
  void reflectionAnswersV1AndV1Alpha() {
    List<ServerReflectionResponse> v1 = new CopyOnWriteArrayList<>();
    StreamObserver<ServerReflectionRequest> req = ServerReflectionGrpc.newStub(channel)
        .serverReflectionInfo(collect(v1));
    req.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    req.onCompleted();
    List<io.grpc.reflection.v1alpha.ServerReflectionResponse> alpha = new CopyOnWriteArrayList<>();
    StreamObserver<io.grpc.reflection.v1alpha.ServerReflectionRequest> reqAlpha =
        io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(channel).serverReflectionInfo(collect(alpha));
    reqAlpha.onNext(io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder()
        .setFileContainingSymbol("lockstep.v1.AgentGateway").build());
    reqAlpha.onNext(io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder().setListServices("").build());
    reqAlpha.onCompleted();
    Eventually.await(Duration.ofSeconds(5), "reflection answers", () -> !v1.isEmpty() && alpha.size() == 2);
    assertThat(v1.get(0).getListServicesResponse().getServiceList())
        .extracting(s -> s.getName())
        .contains("lockstep.v1.AgentGateway", "lockstep.v1.Operator", "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection");
    assertThat(alpha.get(0).getFileDescriptorResponse().getFileDescriptorProtoCount()).isPositive();
    assertThat(alpha.get(1).getListServicesResponse().getServiceList())
        .extracting(s -> s.getName()).contains("lockstep.v1.AgentGateway", "lockstep.v1.Operator");
  }

  static <T> StreamObserver<T> collect(List<T> into) {
    return new StreamObserver<>() {
      public void onNext(T r) { into.add(r); }
      public void onError(Throwable t) { }
      public void onCompleted() { }
    };
  }

  @Test
  void watchStreamsCurrentStateThenChanges() {
    List<WatchEvent> events = new CopyOnWriteArrayList<>();
    OperatorGrpc.newStub(channel).watch(WatchRequest.newBuilder().setIncludeCurrent(true).build(),
        new StreamObserver<>() {
          public void onNext(WatchEvent e) { events.add(e); }
          public void onError(Throwable t) { }
          public void onCompleted() { }
        });
    Eventually.await(Duration.ofSeconds(5), "current stop state", () ->
        events.stream().anyMatch(WatchEvent::hasStop));
    OperatorGrpc.newBlockingStub(channel).enableStop(EnableStopRequest.newBuilder().setReason("drill").build());
    Eventually.await(Duration.ofSeconds(5), "stop change", () -> events.stream()
        .anyMatch(e -> e.hasStop() && e.getStop().getOrdersCount() == 1));
    try (RawAgent a = RawAgent.connect(collector.port(), "host-w")) {
      Eventually.await(Duration.ofSeconds(5), "agent event", () -> events.stream()
          .anyMatch(e -> e.hasAgent() && e.getAgent().getAgentId().equals("host-w")));
      a.report(Goldens.report("r1", "wf", "primary", "a"), Goldens.report("r1", "wf", "shadow", "b"));
      Eventually.await(Duration.ofSeconds(5), "incident event", () -> events.stream()
          .anyMatch(e -> e.hasIncident() && e.getIncident().getId().equals("INC-000001")));
      FleetStatus s = OperatorGrpc.newBlockingStub(channel).getStatus(StatusRequest.getDefaultInstance());
      assertThat(s.getAgentsConnected()).isEqualTo(1);
      assertThat(s.getOpenIncidentsMap()).containsEntry("P0", 1);
      assertThat(s.getEventsIngested()).isEqualTo(2);
      assertThat(s.getRunsMismatched()).isEqualTo(1);
    }
  }
}
