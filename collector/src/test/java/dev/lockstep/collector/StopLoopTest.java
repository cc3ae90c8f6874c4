package dev.lockstep.collector;

import static dev.lockstep.collector.Goldens.report;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.proto.v1.AuditEntry;
import dev.lockstep.proto.v1.DisableStopRequest;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.GetIncidentRequest;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentActionRequest;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.IncidentState;
import dev.lockstep.proto.v1.ListAuditRequest;
import dev.lockstep.proto.v1.ListIncidentsRequest;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.Severity;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.StopStatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StopLoopTest {
  @TempDir Path dir;
  Collector collector;
  ManagedChannel channel;
  final List<RawAgent> agents = new ArrayList<>();

  void start(CollectorConfig.StopPolicy policy) throws Exception {
    collector = Collector.start(CollectorConfig.defaults(dir).withInsecure(true).withListen("127.0.0.1", 0)
        .withStopPolicy(policy), Clock.systemUTC(), line -> { });
    channel = NettyChannelBuilder.forAddress("127.0.0.1", collector.port()).usePlaintext().build();
  }

  void restart() throws Exception {
    agents.forEach(RawAgent::close);
    agents.clear();
    channel.shutdownNow();
    collector.close();
    start(collector.config().stopPolicy());
  }

  @AfterEach
  void stop() {
    agents.forEach(RawAgent::close);
    if (channel != null) channel.shutdownNow();
    if (collector != null) collector.close();
  }

  OperatorGrpc.OperatorBlockingStub operator() {
    return OperatorGrpc.newBlockingStub(channel);
  }

  RawAgent agent(String id) {
    RawAgent a = RawAgent.connect(collector.port(), id);
    agents.add(a);
    a.await("welcome", f -> f.hasWelcome());
    return a;
  }

  static StopState awaitStop(RawAgent a, long epoch) {
    return Eventually.value(Duration.ofSeconds(5), a.agentId + " gets epoch " + epoch, () ->
        a.stops().stream().filter(s -> s.getEpoch() == epoch).findFirst().orElse(null));
  }

  /** Two agents report primary and shadow of one run that differ at step 2. */
  void mismatch(RawAgent primaryHost, RawAgent shadowHost, String runId, long unused) {
    primaryHost.report(report(runId, "billing.reconcile", "primary", "a"));
    shadowHost.report(report(runId, "billing.reconcile", "shadow", "b"));
  }

  @Test
  void aMismatchStopsEveryConnectedAgentAndCollectsAcks() throws Exception {
    start(CollectorConfig.StopPolicy.FLEET);
    RawAgent a = agent("host-a");
    RawAgent b = agent("host-b");
    RawAgent c = agent("host-c");
    long t0 = System.nanoTime();
    mismatch(a, b, "run-1", 1);
    for (RawAgent x : List.of(a, b, c)) {
      StopState s = awaitStop(x, 1);
      assertThat(s.getMode()).isEqualTo(StopMode.STOPPED);
      assertThat(s.getIncidentId()).isEqualTo("INC-000001");
      assertThat(s.getIssuedBy()).isEqualTo("collector");
    }
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));

    Incident inc = operator().getIncident(GetIncidentRequest.newBuilder().setId("INC-000001").build());
    assertThat(inc.getSeverity()).isEqualTo(Severity.P0);
    assertThat(inc.getKind()).isEqualTo(IncidentKind.MISMATCH);
    assertThat(inc.getCategory()).isEqualTo("DETERMINISM_VIOLATION");
    assertThat(inc.getFirstStepIndex()).isEqualTo(2);
    assertThat(inc.getFirstStepName()).isEqualTo("sample");
    assertThat(inc.getHostsList()).containsExactly("host-a", "host-b");
    assertThat(inc.getStopEpoch()).isEqualTo(1);

    StopStatus pending = operator().getStopStatus(StopStatusRequest.getDefaultInstance());
    assertThat(pending.getPending()).isEqualTo(3);

    a.ack(awaitStop(a, 1), true);
    b.ack(awaitStop(b, 1), true);
    c.ack(awaitStop(c, 1), false);
    Eventually.await(Duration.ofSeconds(5), "acks recorded", () ->
        operator().getStopStatus(StopStatusRequest.getDefaultInstance()).getConfirmed() == 2
            && operator().getStopStatus(StopStatusRequest.getDefaultInstance()).getFailed() == 1);
    StopStatus status = operator().getStopStatus(StopStatusRequest.getDefaultInstance());
    assertThat(status.getAgentsList()).extracting(x -> x.getAgentId() + "=" + x.getStatus())
        .containsExactly("host-a=CONFIRMED", "host-b=CONFIRMED", "host-c=FAILED");

    // the same mismatch again: deduplicated, and the fleet is already stopped (no new epoch)
    mismatch(a, b, "run-2", 2);
    Eventually.await(Duration.ofSeconds(5), "repeat counted", () ->
        operator().getIncident(GetIncidentRequest.newBuilder().setId("INC-000001").build()).getCount() == 2);
    assertThat(collector.fleet().stopState().getEpoch()).isEqualTo(1);
  }

  @Test
  void eventsStoredButNotYetProcessedAtACrashAreActedOnAtStartup() throws Exception {
    try (dev.lockstep.collector.store.Store store = dev.lockstep.collector.store.Store.open(
        dir.resolve("db"), true, 8 << 20, 8 << 20)) {
      store.ingest("host-a", List.of(Goldens.golden(1, report("run-1", "wf", "primary", "a")),
          Goldens.golden(2, report("run-1", "wf", "shadow", "b"))), System.currentTimeMillis());
    }
    start(CollectorConfig.StopPolicy.FLEET);
    assertThat(collector.fleet().incidents().get("INC-000001")).isPresent();
    assertThat(collector.fleet().stopState().getEpoch()).isEqualTo(1);
    RawAgent a = agent("host-a");
    assertThat(a.stops().get(0).getEpoch()).isEqualTo(1);
    restart();
    assertThat(collector.fleet().incidents().get("INC-000001").orElseThrow().getCount()).isEqualTo(1);
  }

  @Test
  void anAgentAheadOfTheCollectorsEpochRaisesItSoNewStopsAreNotIgnored() throws Exception {
    start(CollectorConfig.StopPolicy.FLEET);
    RawAgent a = new RawAgent(collector.port(), "host-a");
    agents.add(a);
    a.send(dev.lockstep.proto.v1.AgentFrame.newBuilder().setHello(dev.lockstep.proto.v1.Hello.newBuilder()
        .setAgentId("host-a").setEnactedStopEpoch(7).setEnactedStopMode(StopMode.RUNNING)).build());
    StopState w = a.await("welcome", f -> f.hasWelcome()).getWelcome().getStop();
    assertThat(w.getEpoch()).isEqualTo(8);
    assertThat(w.getMode()).isEqualTo(StopMode.RUNNING);
    mismatch(a, a, "run-1", 0);
    assertThat(awaitStop(a, 9).getMode()).isEqualTo(StopMode.STOPPED);
    restart();
    assertThat(collector.fleet().stopState().getEpoch()).isEqualTo(9);
    // the normal reconnect: the agent enacted exactly the current epoch; nothing is raised
    RawAgent again = new RawAgent(collector.port(), "host-a");
    agents.add(again);
    again.send(dev.lockstep.proto.v1.AgentFrame.newBuilder().setHello(dev.lockstep.proto.v1.Hello.newBuilder()
        .setAgentId("host-a").setEnactedStopEpoch(9).setEnactedStopMode(StopMode.STOPPED)).build());
    assertThat(again.await("welcome", f -> f.hasWelcome()).getWelcome().getStop().getEpoch()).isEqualTo(9);
    assertThat(collector.fleet().stopState().getEpoch()).isEqualTo(9);
  }

  @Test
  void anAgentThatConnectsAfterTheStopIsStoppedByItsWelcome() throws Exception {
    start(CollectorConfig.StopPolicy.FLEET);
    RawAgent a = agent("host-a");
    mismatch(a, a, "run-1", 1);
    awaitStop(a, 1);
    RawAgent late = agent("late");
    StopState w = late.await("welcome", f -> f.hasWelcome()).getWelcome().getStop();
    assertThat(w.getEpoch()).isEqualTo(1);
    assertThat(w.getMode()).isEqualTo(StopMode.STOPPED);
  }

  @Test
  void stopStateIncidentsAndHighWaterMarksSurviveARestart() throws Exception {
    start(CollectorConfig.StopPolicy.FLEET);
    RawAgent a = agent("host-a");
    mismatch(a, a, "run-1", 1);
    a.report(report("run-x", "billing.reconcile", "primary", "a"));
    a.await("ack 3", f -> f.hasAck() && f.getAck().getUptoSeq() == 3);
    a.ack(awaitStop(a, 1), true);
    Eventually.await(Duration.ofSeconds(5), "confirmed", () ->
        operator().getStopStatus(StopStatusRequest.getDefaultInstance()).getConfirmed() == 1);

    restart();

    StopStatus s = operator().getStopStatus(StopStatusRequest.getDefaultInstance());
    assertThat(s.getState().getEpoch()).isEqualTo(1);
    assertThat(s.getState().getMode()).isEqualTo(StopMode.STOPPED);
    assertThat(s.getAgentsList()).extracting(x -> x.getAgentId() + "=" + x.getStatus())
        .containsExactly("host-a=CONFIRMED");
    Incident inc = operator().getIncident(GetIncidentRequest.newBuilder().setId("INC-000001").build());
    assertThat(inc.getState()).isEqualTo(IncidentState.OPEN);
    RawAgent again = agent("host-a");
    var w = again.await("welcome", f -> f.hasWelcome()).getWelcome();
    assertThat(w.getAckedSeq()).isEqualTo(3);
    assertThat(w.getStop().getEpoch()).isEqualTo(1);
    // pending run survives too: the shadow completes it after the restart
    again.seq(3);
    again.report(report("run-x", "billing.reconcile", "shadow", "a"));
    Eventually.await(Duration.ofSeconds(5), "run-x decided", () ->
        collector.fleet().runs().get("run-x").map(r -> r.verdict().name().equals("MATCH")).orElse(false));
    // a new incident after restart does not reuse an id
    again.report(report("run-y", "other.flow", "primary", "a"),
        report("run-y", "other.flow", "shadow", "c"));
    Eventually.await(Duration.ofSeconds(5), "second incident", () ->
        collector.fleet().incidents().get("INC-000002").isPresent());
  }

  @Test
  void resumeNeedsAReasonAndReachesEveryAgentAsANewEpoch() throws Exception {
    start(CollectorConfig.StopPolicy.FLEET);
    RawAgent a = agent("host-a");
    RawAgent b = agent("host-b");
    mismatch(a, b, "run-1", 1);
    awaitStop(a, 1);
    assertThatThrownBy(() -> operator().disableStop(DisableStopRequest.newBuilder().setReason(" ").build()))
        .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("INVALID_ARGUMENT");
    StopStatus resumed = operator().disableStop(DisableStopRequest.newBuilder()
        .setReason("fixed unseeded rng in sample step").build());
    assertThat(resumed.getState().getEpoch()).isEqualTo(2);
    assertThat(resumed.getState().getMode()).isEqualTo(StopMode.RUNNING);
    assertThat(awaitStop(a, 2).getMode()).isEqualTo(StopMode.RUNNING);
    assertThat(awaitStop(b, 2).getMode()).isEqualTo(StopMode.RUNNING);
    List<AuditEntry> audit = operator().listAudit(ListAuditRequest.newBuilder().setLimit(50).build())
        .getEntriesList();
    assertThat(audit).anySatisfy(e -> {
      assertThat(e.getAction()).isEqualTo("DisableStop");
      assertThat(e.getResult()).isEqualTo("OK");
      assertThat(e.getWho()).isEqualTo("anonymous");
      assertThat(e.getRemoteAddress()).startsWith("127.0.0.1:");
    });
    assertThat(audit).anySatisfy(e -> {
      assertThat(e.getAction()).isEqualTo("DisableStop");
      assertThat(e.getResult()).isEqualTo("DENIED");
    });
  }

  @Test
  void operatorStopsByWorkflowOnlyReachAgentsRunningIt() throws Exception {
    start(CollectorConfig.StopPolicy.OFF);
    RawAgent a = agent("host-a");
    RawAgent b = agent("host-b");
    a.report(report("run-1", "billing.reconcile", "primary", "a"));
    a.await("ack", f -> f.hasAck());
    Eventually.await(Duration.ofSeconds(5), "workflow noted", () ->
        collector.fleet().agents().target("host-a").workflows().contains("billing.reconcile"));
    StopStatus s = operator().enableStop(EnableStopRequest.newBuilder().setReason("drill")
        .setScope(StopScope.newBuilder().setWorkflow("billing.reconcile")).build());
    assertThat(s.getState().getEpoch()).isEqualTo(1);
    assertThat(awaitStop(a, 1).getMode()).isEqualTo(StopMode.STOPPED);
    assertThat(awaitStop(b, 1).getMode()).isEqualTo(StopMode.RUNNING);
    StopStatus st = operator().getStopStatus(StopStatusRequest.getDefaultInstance());
    assertThat(st.getAgentsList()).extracting(x -> x.getAgentId() + "=" + x.getStatus())
        .containsExactly("host-a=PENDING", "host-b=NOT_IN_SCOPE");
  }

  @Test
  void withPolicyOffAMismatchOpensAnIncidentButDoesNotStop() throws Exception {
    start(CollectorConfig.StopPolicy.OFF);
    RawAgent a = agent("host-a");
    mismatch(a, a, "run-1", 1);
    Eventually.await(Duration.ofSeconds(5), "incident", () ->
        collector.fleet().incidents().get("INC-000001").isPresent());
    assertThat(collector.fleet().stopState().getEpoch()).isZero();
  }

  @Test
  void incidentsMoveOpenAcknowledgedResolvedWithNotes() throws Exception {
    start(CollectorConfig.StopPolicy.OFF);
    RawAgent a = agent("host-a");
    mismatch(a, a, "run-1", 1);
    Eventually.await(Duration.ofSeconds(5), "incident", () ->
        collector.fleet().incidents().get("INC-000001").isPresent());
    assertThatThrownBy(() -> operator().ackIncident(IncidentActionRequest.newBuilder()
        .setId("INC-000001").build())).hasMessageContaining("INVALID_ARGUMENT");
    Incident acked = operator().ackIncident(IncidentActionRequest.newBuilder().setId("INC-000001")
        .setNote("looking").build());
    assertThat(acked.getState()).isEqualTo(IncidentState.ACKNOWLEDGED);
    Incident resolved = operator().resolveIncident(IncidentActionRequest.newBuilder()
        .setId("INC-000001").setNote("seeded the rng").build());
    assertThat(resolved.getState()).isEqualTo(IncidentState.RESOLVED);
    assertThat(resolved.getNotesList()).extracting(n -> n.getAction() + ":" + n.getNote())
        .containsExactly("ACKNOWLEDGED:looking", "RESOLVED:seeded the rng");
    assertThatThrownBy(() -> operator().resolveIncident(IncidentActionRequest.newBuilder()
        .setId("INC-000001").setNote("again").build())).hasMessageContaining("FAILED_PRECONDITION");
    assertThatThrownBy(() -> operator().getIncident(GetIncidentRequest.newBuilder()
        .setId("INC-999999").build())).hasMessageContaining("NOT_FOUND");
    // the same signature after resolution opens a new incident
    mismatch(a, a, "run-2", 2);
    Eventually.await(Duration.ofSeconds(5), "new incident", () ->
        collector.fleet().incidents().get("INC-000002").isPresent());
    assertThat(operator().listIncidents(ListIncidentsRequest.newBuilder().setOpenOnly(true).build())
        .getIncidentsList()).extracting(Incident::getId).containsExactly("INC-000002");
    var page1 = operator().listIncidents(ListIncidentsRequest.newBuilder().setPageSize(1).build());
    assertThat(page1.getIncidentsList()).extracting(Incident::getId).containsExactly("INC-000002");
    var page2 = operator().listIncidents(ListIncidentsRequest.newBuilder().setPageSize(1)
        .setPageToken(page1.getNextPageToken()).build());
    assertThat(page2.getIncidentsList()).extracting(Incident::getId).containsExactly("INC-000001");
    assertThat(page2.getNextPageToken()).isEmpty();
  }
}
