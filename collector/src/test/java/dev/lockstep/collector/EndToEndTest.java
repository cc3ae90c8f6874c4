package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lockstep.agent.Agent;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.proto.v1.DiffRequest;
import dev.lockstep.proto.v1.DiffResponse;
import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.GetIncidentRequest;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.Severity;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.StopStatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole stop loop with real agents (in-process) against a real collector over loopback. */
class EndToEndTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  Collector collector;
  ManagedChannel channel;
  final List<Agent> agents = new ArrayList<>();

  @AfterEach
  void stop() {
    for (int i = agents.size() - 1; i >= 0; i--) agents.get(i).close();
    if (channel != null) channel.shutdownNow();
    if (collector != null) collector.close();
  }

  Path root(String id) {
    return dir.resolve("agents").resolve(id);
  }

  Agent agent(String id) throws Exception {
    Path root = root(id);
    Path golden = root.resolve("golden");
    Files.createDirectories(golden);
    Path hooks = root.resolve("hooks.log");
    AgentConfig config = AgentConfig.defaults(id, "127.0.0.1:" + collector.port(), root.resolve("state"))
        .withReconnect(Duration.ofMillis(100), Duration.ofMillis(400))
        .withGolden(new AgentConfig.GoldenWatch(List.of(golden.toString()), "*.json",
            Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(500)))
        .withProbes(new AgentConfig.Probes(Duration.ofMillis(500), Duration.ofSeconds(60)))
        .withStopFile(root.resolve("run/EMERGENCY_STOP"))
        .withHooks("echo \"on_stop $WORKFLOW_EMERGENCY_STOP $LOCKSTEP_INCIDENT\" >> " + hooks,
            "echo \"on_resume $LOCKSTEP_REASON\" >> " + hooks,
            "if [ \"$LOCKSTEP_MODE\" = STOPPED ]; then test -f \"$LOCKSTEP_STOP_FILE\"; else test ! -e \"$LOCKSTEP_STOP_FILE\"; fi");
    Agent a = Agent.start(config, Clock.systemUTC(), line -> { });
    agents.add(a);
    return a;
  }

  static String golden(String runId, String role, String rng) {
    return "{\"format\":\"lockstep.golden/v1\",\"run_id\":\"" + runId + "\",\"workflow\":\"billing.reconcile\","
        + "\"role\":\"" + role + "\",\"seed\":42,\"timestamp\":\"2025-12-02T10:00:00Z\",\"duration_ms\":1520,"
        + "\"steps\":[{\"index\":0,\"name\":\"load\",\"kind\":\"compute\",\"output\":{\"n\":3}},"
        + "{\"index\":1,\"name\":\"sample\",\"kind\":\"compute\",\"rng\":[" + rng + "],\"output\":{\"pick\":7}}],"
        + "\"output\":{\"total\":42}}";
  }

  void write(String agentId, String runId, String role, String rng) throws IOException {
    Path d = root(agentId).resolve("golden");
    Path tmp = d.resolve("." + runId + "." + role + ".tmp");
    Files.writeString(tmp, golden(runId, role, rng), StandardCharsets.UTF_8);
    Files.move(tmp, d.resolve(runId + "." + role + ".golden.json"), StandardCopyOption.ATOMIC_MOVE);
  }

  JsonNode stopFile(String agentId) {
    Path f = root(agentId).resolve("run/EMERGENCY_STOP");
    try {
      return Files.exists(f) ? JSON.readTree(Files.readAllBytes(f)) : null;
    } catch (IOException e) {
      return null;
    }
  }

  List<String> hooks(String agentId) {
    Path f = root(agentId).resolve("hooks.log");
    try {
      return Files.exists(f) ? Files.readAllLines(f) : List.of();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  StopStatus status() {
    return OperatorGrpc.newBlockingStub(channel).getStopStatus(StopStatusRequest.getDefaultInstance());
  }

  static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void agentsReconnectToARestartedCollectorAndTheStopHolds() throws Exception {
    int port = freePort();
    CollectorConfig config = CollectorConfig.defaults(dir.resolve("collector")).withInsecure(true).withListen("127.0.0.1", port);
    collector = Collector.start(config, Clock.systemUTC(), line -> { });
    for (String id : List.of("host-a", "host-b")) agent(id);
    Eventually.await(Duration.ofSeconds(10), "2 agents connected", () -> collector.fleet().connectedCount() == 2);
    write("host-a", "run-9", "primary", "0.1");
    write("host-a", "run-9", "shadow", "0.2");
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    Eventually.await(Duration.ofSeconds(10), "2 confirmations of the stop", () ->
        status().getCovered() == 2 && status().getConfirmed() == 2);

    StopStatus before = status();
    String order = before.getOrders(0).getId();
    collector.close();
    collector = Collector.start(config, Clock.systemUTC(), line -> { });
    Eventually.await(Duration.ofSeconds(15), "agents back", () -> collector.fleet().connectedCount() == 2);
    StopStatus s = status();
    assertThat(s.getOrdersList()).extracting(o -> o.getId()).containsExactly(order);
    assertThat(s.getAgentsList()).extracting(a -> a.getGeneration())
        .as("a normal reconnect changes no generation")
        .containsExactlyElementsOf(before.getAgentsList().stream().map(a -> a.getGeneration()).toList());
    assertThat(s.getConfirmed()).isEqualTo(2);
    // the restarted collector keeps correlating what the reconnected agents report
    write("host-b", "run-10", "primary", "0.5");
    write("host-b", "run-10", "shadow", "0.5");
    Eventually.await(Duration.ofSeconds(10), "run-10 matched after restart", () ->
        collector.fleet().runs().get("run-10").map(r -> r.verdict().name().equals("MATCH")).orElse(false));
    for (String id : List.of("host-a", "host-b")) {
      assertThat(stopFile(id).get("orders").get(0).get("id").asText()).isEqualTo(order);
      assertThat(hooks(id)).containsExactly("on_stop true INC-000001");
    }
  }

  @Test
  void aMismatchStopsEveryAgentLateAgentsToAndResumeRunsEverywhere() throws Exception {
    collector = Collector.start(CollectorConfig.defaults(dir.resolve("collector")).withInsecure(true).withListen("127.0.0.1", 0),
        Clock.systemUTC(), line -> { });
    channel = NettyChannelBuilder.forAddress("127.0.0.1", collector.port()).usePlaintext().build();
    for (String id : List.of("host-a", "host-b", "host-c")) agent(id);
    Eventually.await(Duration.ofSeconds(10), "3 agents connected", () -> collector.fleet().connectedCount() == 3);

    write("host-a", "run-1", "primary", "0.1, 0.2");
    write("host-a", "run-1", "shadow", "0.1, 0.2");
    Eventually.await(Duration.ofSeconds(10), "clean run matched", () ->
        collector.fleet().runs().get("run-1").map(r -> r.verdict().name().equals("MATCH")).orElse(false));
    assertThat(collector.fleet().orders()).isEmpty();

    write("host-b", "run-2", "primary", "0.1, 0.2");
    write("host-b", "run-2", "shadow", "0.7, 0.3");
    for (String id : List.of("host-a", "host-b", "host-c")) {
      JsonNode stop = Eventually.value(Duration.ofSeconds(10), id + " stop file", () -> stopFile(id));
      assertThat(stop.get("mode").asText()).isEqualTo("STOPPED");
      assertThat(stop.get("orders").get(0).get("incident_id").asText()).isEqualTo("INC-000001");
    }
    Eventually.await(Duration.ofSeconds(10), "3 confirmations", () ->
        status().getCovered() == 3 && status().getConfirmed() == 3);
    assertThat(hooks("host-c")).containsExactly("on_stop true INC-000001");
    Incident inc = OperatorGrpc.newBlockingStub(channel).getIncident(
        GetIncidentRequest.newBuilder().setId("INC-000001").build());
    assertThat(inc.getSeverity()).isEqualTo(Severity.P0);
    assertThat(inc.getCategory()).isEqualTo("UNSEEDED_RNG");
    assertThat(inc.getAgentIdsList()).containsExactly("host-b");

    // evidence: host-b sends both golden documents, the collector diffs them
    DiffResponse diff = Eventually.value(Duration.ofSeconds(10), "diff from documents", () -> {
      DiffResponse r = OperatorGrpc.newBlockingStub(channel).diff(
          DiffRequest.newBuilder().setIncidentId("INC-000001").build());
      return r.getFromDocuments() ? r : null;
    });
    assertThat(JSON.readTree(diff.getReportJson()).get("category").asText()).isEqualTo("UNSEEDED_RNG");

    Agent late = agent("host-late");
    JsonNode lateStop = Eventually.value(Duration.ofSeconds(10), "late agent stop file", () -> stopFile("host-late"));
    String order = status().getOrders(0).getId();
    assertThat(lateStop.get("orders").get(0).get("id").asText()).isEqualTo(order);
    Eventually.await(Duration.ofSeconds(10), "4 confirmations", () ->
        status().getCovered() == 4 && status().getConfirmed() == 4);
    assertThat(late.enactedStop().heldOrderIds()).containsExactly(order);

    StopStatus resumed = OperatorGrpc.newBlockingStub(channel).resumeStop(
        ResumeStopRequest.newBuilder().setReason("seeded the rng in sample").setAll(true)
            .addOrderIds(order).build());
    assertThat(resumed.getChangedOrderIdsList()).containsExactly(order);
    assertThat(resumed.getOrdersList()).isEmpty();
    for (String id : List.of("host-a", "host-b", "host-c", "host-late")) {
      Eventually.await(Duration.ofSeconds(10), id + " stop file removed",
          () -> !Files.exists(root(id).resolve("run/EMERGENCY_STOP")));
      Eventually.await(Duration.ofSeconds(10), id + " on_resume ran",
          () -> hooks(id).contains("on_resume seeded the rng in sample"));
    }
    Eventually.await(Duration.ofSeconds(10), "resume confirmed by 4", () -> status().getConfirmed() == 4
        && status().getCovered() == 0);
  }
}
