package dev.lockstep.collector;

import static dev.lockstep.collector.Goldens.report;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.proto.v1.AgentStopStatus;
import dev.lockstep.proto.v1.AuditEntry;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.GetIncidentRequest;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentActionRequest;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.IncidentState;
import dev.lockstep.proto.v1.ListAuditRequest;
import dev.lockstep.proto.v1.ListIncidentsRequest;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.Severity;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.StopStatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stop loop over real gRPC against a real collector, with hand-driven agent streams. */
class StopLoopTest {
  @TempDir Path dir;
  Collector collector;
  ManagedChannel channel;
  final List<RawAgent> agents = new ArrayList<>();

  void start(CollectorConfig.StopPolicy policy) throws Exception {
    start(CollectorConfig.defaults(dir).withInsecure(true).withListen("127.0.0.1", 0)
        .withStopPolicy(policy).withStopResendInterval(Duration.ofMillis(300)));
  }

  void start(CollectorConfig config) throws Exception {
    collector = Collector.start(config, Clock.systemUTC(), line -> { });
    channel = NettyChannelBuilder.forAddress("127.0.0.1", collector.port()).usePlaintext().build();
  }

  void restart() throws Exception {
    CollectorConfig c = collector.config();
    agents.forEach(RawAgent::close);
    agents.clear();
    channel.shutdownNow();
    collector.close();
    start(c);
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

  StopStatus status() {
    return operator().getStopStatus(StopStatusRequest.getDefaultInstance());
  }

  AgentStopStatus row(String agentId) {
    return status().getAgentsList().stream().filter(r -> r.getAgentId().equals(agentId)).findFirst()
        .orElseThrow();
  }

  RawAgent agent(String id) {
    return agent(id, StopState.getDefaultInstance());
  }

  RawAgent agent(String id, StopState enacted) {
    RawAgent a = new RawAgent(collector.port(), id).hello(enacted);
    agents.add(a);
    a.await("welcome", f -> f.hasWelcome());
    return a;
  }

  static StopState awaitStop(RawAgent a, String what, Predicate<StopState> p) {
    return Eventually.value(Duration.ofSeconds(10), a.agentId + " gets " + what, () -> {
      StopState last = a.lastStop();
      return last != null && p.test(last) ? last : null;
    });
  }

  static StopState awaitStopped(RawAgent a) {
    return awaitStop(a, "STOPPED", s -> s.getMode() == StopMode.STOPPED);
  }

  /** Two agents report primary and shadow of one run that differ at step 2. */
  static void mismatch(RawAgent primaryHost, RawAgent shadowHost, String runId) {
    primaryHost.report(report(runId, "billing.reconcile", "primary", "a"));
    shadowHost.report(report(runId, "billing.reconcile", "shadow", "b"));
  }

  EnableStopRequest stopRequest(String reason, StopScope scope) {
    return EnableStopRequest.newBuilder().setReason(reason).setScope(scope).build();
  }

  @Test
  void aMismatchStopsEveryConnectedAgentAndCollectsAcks() throws Exception {
    start(CollectorConfig.StopPolicy.FLEET);
    RawAgent a = agent("host-a");
    RawAgent b = agent("host-b");
    RawAgent c = agent("host-c");
    long t0 = System.nanoTime();
    mismatch(a, b, "run-1");
    List<StopState> stops = new ArrayList<>();
    for (RawAgent x : List.of(a, b, c)) {
      StopState s = awaitStopped(x);
      assertThat(s.getOrdersList()).hasSize(1);
      assertThat(s.getOrders(0).getIncidentId()).isEqualTo("INC-000001");
      assertThat(s.getOrders(0).getIssuedBy()).isEqualTo("collector");
      assertThat(s.getOrders(0).getScope().getFleet()).isTrue();
      stops.add(s);
    }
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));

    Incident inc = operator().getIncident(GetIncidentRequest.newBuilder().setId("INC-000001").build());
    assertThat(inc.getSeverity()).isEqualTo(Severity.P0);
    assertThat(inc.getKind()).isEqualTo(IncidentKind.MISMATCH);
    assertThat(inc.getCategory()).isEqualTo("DETERMINISM_VIOLATION");
    assertThat(inc.getFirstStepIndex()).isEqualTo(2);
    assertThat(inc.getAgentIdsList()).containsExactly("host-a", "host-b");
    assertThat(inc.getStopOrderId()).isEqualTo(stops.get(0).getOrders(0).getId());
    assertThat(status().getPending()).isEqualTo(3);
    assertThat(status().getCovered()).isEqualTo(3);

    a.ack(stops.get(0), true);
    b.ack(stops.get(1), true);
    c.ack(stops.get(2), false);
    Eventually.await(Duration.ofSeconds(5), "acks recorded", () ->
        status().getConfirmed() == 2 && status().getFailed() == 1);
    assertThat(status().getAgentsList()).extracting(x -> x.getAgentId() + "=" + x.getStatus())
        .containsExactly("host-a=CONFIRMED", "host-b=CONFIRMED", "host-c=FAILED");

    // the same mismatch again: one incident counted twice, and no second order
    mismatch(a, b, "run-2");
    Eventually.await(Duration.ofSeconds(5), "repeat counted", () ->
        operator().getIncident(GetIncidentRequest.newBuilder().setId("INC-000001").build()).getCount() == 2);
    assertThat(status().getOrdersList()).hasSize(1);
  }

  @Test
  void aLaterOrderNeverResumesAnEarlierOne() throws Exception {
    start(CollectorConfig.StopPolicy.FLEET);
    RawAgent a = agent("host-a");
    RawAgent b = agent("host-b");
    mismatch(a, a, "run-1");
    StopState fleetStop = awaitStopped(b);
    b.ack(fleetStop, true);
    // an operator stops host-a on its own during the fleet stop, then a workflow stop follows
    operator().enableStop(stopRequest("bad host", StopScope.newBuilder().setAgentId("host-a").build()));
    operator().enableStop(stopRequest("drill", StopScope.newBuilder().setWorkflow("ledger").build()));
    StopState both = awaitStop(a, "two orders", s -> s.getOrdersCount() == 2);
    assertThat(both.getMode()).isEqualTo(StopMode.STOPPED);
    Eventually.holdsFor(Duration.ofMillis(700), "nobody is sent RUNNING", () ->
        agents.stream().allMatch(x -> x.stops().stream().skip(1).allMatch(s -> s.getMode() == StopMode.STOPPED)));
    assertThat(row("host-b").getStatus()).isEqualTo("CONFIRMED");
    assertThat(row("host-b").getGeneration()).as("b's desired state did not change").isEqualTo(fleetStop.getGeneration());

    // resuming the fleet order leaves host-a stopped by its own order
    String fleetOrder = fleetStop.getOrders(0).getId();
    operator().resumeStop(ResumeStopRequest.newBuilder().setReason("rng fixed").addOrderIds(fleetOrder).build());
    StopState bRunning = awaitStop(b, "RUNNING", s -> s.getMode() == StopMode.RUNNING);
    assertThat(bRunning.getReleasedOrderIdsList()).containsExactly(fleetOrder);
    StopState aStill = awaitStop(a, "one order left", s -> s.getOrdersCount() == 1);
    assertThat(aStill.getMode()).isEqualTo(StopMode.STOPPED);
    assertThat(aStill.getOrders(0).getScope().getAgentId()).isEqualTo("host-a");
  }

  /**
   * A "workflows" label over 64 KiB cannot be kept whole, and a cut list would leave the agent
   * outside a stop of a workflow it runs: it is welcomed (never refused: an agent that cannot
   * connect cannot be stopped) and every workflow stop covers it.
   */
  @Test
  void anAgentWhoseWorkflowsLabelIsTooLongToKeepIsWelcomedAndStoppedByAStopOfAnyWorkflow() throws Exception {
    start(CollectorConfig.StopPolicy.OFF);
    // 140 long names: fewer than the 1,000 kept, so only the label's length widens its stops
    StringBuilder list = new StringBuilder();
    for (int i = 0; i < 140; i++) list.append("w".repeat(496)).append(String.format("%03d,", i));
    RawAgent wide = new RawAgent(collector.port(), "host-wide").send(dev.lockstep.proto.v1.AgentFrame
        .newBuilder().setHello(dev.lockstep.proto.v1.Hello.newBuilder().setAgentId("host-wide")
            .putLabels("workflows", list.toString())).build());
    agents.add(wide);
    wide.await("welcome", f -> f.hasWelcome());
    RawAgent other = agent("host-other");
    operator().enableStop(stopRequest("drill", StopScope.newBuilder().setWorkflow("ledger").build()));
    assertThat(awaitStopped(wide).getOrders(0).getScope().getWorkflow()).isEqualTo("ledger");
    Eventually.holdsFor(Duration.ofMillis(500), "an agent outside the workflow runs on",
        () -> other.lastStop().getMode() == StopMode.RUNNING);
  }

  @Test
  void anAgentEnteringAWorkflowOrdersScopeLaterIsStoppedAndItsOldAckDoesNotCount() throws Exception {
    start(CollectorConfig.StopPolicy.OFF);
    RawAgent a = agent("host-a");
    RawAgent b = agent("host-b");
    a.report(report("run-1", "billing.reconcile", "primary", "a"));
    a.await("ack", f -> f.hasAck());
    Eventually.await(Duration.ofSeconds(5), "workflow noted", () ->
        collector.fleet().stopRecord("host-a").map(r -> r.getReportedWorkflowsList()
            .contains("billing.reconcile")).orElse(false));
    operator().enableStop(stopRequest("drill", StopScope.newBuilder().setWorkflow("billing.reconcile").build()));
    StopState aStop = awaitStopped(a);
    a.ack(aStop, true);
    StopState bRunning = b.lastStop();
    assertThat(bRunning.getMode()).isEqualTo(StopMode.RUNNING);
    b.ack(bRunning, true);
    Eventually.await(Duration.ofSeconds(5), "both confirmed", () -> status().getConfirmed() == 2);
    assertThat(status().getCovered()).isEqualTo(1);

    // host-b now reports a run of the stopped workflow: it enters the order's scope
    b.report(report("run-2", "billing.reconcile", "primary", "a"));
    StopState bStop = awaitStopped(b);
    assertThat(bStop.getGeneration()).isGreaterThan(bRunning.getGeneration());
    assertThat(row("host-b").getStatus()).as("its RUNNING ack is for an older generation").isEqualTo("PENDING");
    double refused = collector.metrics().stopAcksRefused.get();
    b.ack(bRunning, true);
    Eventually.await(Duration.ofSeconds(5), "stale ack refused",
        () -> collector.metrics().stopAcksRefused.get() > refused);
    assertThat(row("host-b").getStatus()).isEqualTo("PENDING");
    b.ack(bStop, true);
    Eventually.await(Duration.ofSeconds(5), "b confirmed STOPPED", () ->
        row("host-b").getStatus().equals("CONFIRMED") && row("host-b").getMode() == StopMode.STOPPED);
  }

  @Test
  void noNumberAnAgentSendsDisablesLaterStops() throws Exception {
    start(CollectorConfig.StopPolicy.FLEET);
    RawAgent liar = agent("host-a", StopState.newBuilder().setGeneration(Long.MAX_VALUE - 1)
        .setMode(StopMode.RUNNING).build());
    StopState welcome = liar.lastStop();
    assertThat(welcome.getGeneration()).as("the collector's own number").isLessThan(1L << 52);
    RawAgent b = agent("host-b");
    mismatch(b, b, "run-1");
    StopState stop = awaitStopped(liar);
    assertThat(stop.getGeneration()).isGreaterThan(welcome.getGeneration()).isLessThan(1L << 52);
    awaitStopped(b);
  }

  @Test
  void acksForGenerationsNeverIssuedAreRefusedAndTheStopIsResentUntilTheRightAck() throws Exception {
    start(CollectorConfig.StopPolicy.FLEET);
    RawAgent a = agent("host-a");
    mismatch(a, a, "run-1");
    StopState stop = awaitStopped(a);
    double refusedBefore = collector.metrics().stopAcksRefused.get();
    long claimed = stop.getGeneration() + 3_600_000; // an hour ahead: as if from an earlier store
    a.ack(stop.toBuilder().setGeneration(claimed).build(), true);
    a.ack(stop.toBuilder().setMode(StopMode.RUNNING).build(), true);
    Eventually.await(Duration.ofSeconds(5), "refused", () ->
        collector.metrics().stopAcksRefused.get() >= refusedBefore + 2);
    assertThat(row("host-a").getStatus()).isEqualTo("PENDING");
    int received = a.stops().size();
    Eventually.await(Duration.ofSeconds(5), "resent", () -> a.stops().size() > received);
    // the same stop again, at a fresh generation of the collector's own: never the agent's number
    StopState again = a.lastStop();
    assertThat(again.getMode()).isEqualTo(StopMode.STOPPED);
    assertThat(again.getOrdersList()).isEqualTo(stop.getOrdersList());
    assertThat(again.getGeneration()).isGreaterThan(stop.getGeneration()).isLessThan(claimed);
    a.ack(again, true);
    Eventually.await(Duration.ofSeconds(5), "confirmed", () -> row("host-a").getStatus().equals("CONFIRMED"));
  }

  @Test
  void aCollectorRestoredFromABackupBeforeTheStopAdoptsItInsteadOfResumingTheAgent() throws Exception {
    start(CollectorConfig.StopPolicy.FLEET);
    RawAgent a = agent("host-a");
    Path backup = dir.resolve("backup");
    dev.lockstep.collector.store.Store.backup(dir.resolve("db"), backup);
    mismatch(a, a, "run-1");
    StopState stop = awaitStopped(a);
    a.ack(stop, true);
    Eventually.await(Duration.ofSeconds(5), "confirmed", () -> status().getConfirmed() == 1);

    CollectorConfig c = collector.config();
    agents.forEach(RawAgent::close);
    agents.clear();
    channel.shutdownNow();
    collector.close();
    // restore: the store goes back to before the stop
    deleteTree(dir.resolve("db"));
    Files.move(backup, dir.resolve("db"));
    start(c);
    assertThat(status().getOrdersList()).as("the restored store knows no order").isEmpty();

    RawAgent again = agent("host-a", stop);
    StopState w = again.lastStop();
    assertThat(w.getMode()).as("the agent that enacted the stop stays stopped").isEqualTo(StopMode.STOPPED);
    StopOrder adopted = w.getOrders(0);
    assertThat(adopted.getId()).isEqualTo(stop.getOrders(0).getId());
    assertThat(adopted.getAdoptedFrom()).isEqualTo("host-a");
    assertThat(status().getOrdersList()).extracting(StopOrder::getId).containsExactly(adopted.getId());
    assertThat(operator().listAudit(ListAuditRequest.newBuilder().setLimit(50).build()).getEntriesList())
        .anySatisfy(e -> assertThat(e.getAction()).isEqualTo("StopAdopted"));
    assertThat(collector.fleet().incidents().all()).anySatisfy(i -> {
      assertThat(i.getKind()).isEqualTo(IncidentKind.COLLECTOR);
      assertThat(i.getCategory()).isEqualTo("STOP_ADOPTED");
    });
    // another agent that never enacted it is not stopped by it
    RawAgent other = agent("host-b");
    assertThat(other.lastStop().getMode()).isEqualTo(StopMode.RUNNING);
    // only an operator's resume ends it
    operator().resumeStop(ResumeStopRequest.newBuilder().setReason("checked, restore was fine")
        .addOrderIds(adopted.getId()).build());
    StopState running = awaitStop(again, "RUNNING", s -> s.getMode() == StopMode.RUNNING);
    assertThat(running.getReleasedOrderIdsList()).contains(adopted.getId());
  }

  @Test
  void eventsStoredButNotYetProcessedAtACrashAreActedOnAtStartupExactlyOnce() throws Exception {
    try (dev.lockstep.collector.store.Store store = dev.lockstep.collector.store.Store.open(
        dir.resolve("db"), true, 8 << 20, 8 << 20)) {
      store.ingest("host-a", List.of(Goldens.golden(1, report("run-1", "wf", "primary", "a")),
          Goldens.golden(2, report("run-1", "wf", "shadow", "b"))), System.currentTimeMillis());
    }
    start(CollectorConfig.StopPolicy.FLEET);
    assertThat(collector.fleet().incidents().get("INC-000001")).isPresent();
    assertThat(collector.fleet().orders()).hasSize(1);
    RawAgent a = agent("host-a");
    assertThat(a.lastStop().getMode()).isEqualTo(StopMode.STOPPED);
    restart();
    restart();
    assertThat(collector.fleet().incidents().all()).hasSize(1);
    assertThat(collector.fleet().incidents().get("INC-000001").orElseThrow().getCount()).isEqualTo(1);
    assertThat(collector.fleet().orders()).hasSize(1);
  }

  @Test
  void anAgentThatConnectsAfterTheStopIsStoppedByItsWelcome() throws Exception {
    start(CollectorConfig.StopPolicy.FLEET);
    RawAgent a = agent("host-a");
    mismatch(a, a, "run-1");
    StopState s = awaitStopped(a);
    RawAgent late = agent("late");
    StopState w = late.lastStop();
    assertThat(w.getMode()).isEqualTo(StopMode.STOPPED);
    assertThat(w.getOrders(0).getId()).isEqualTo(s.getOrders(0).getId());
  }

  @Test
  void ordersIncidentsAndHighWaterMarksSurviveARestart() throws Exception {
    start(CollectorConfig.StopPolicy.FLEET);
    RawAgent a = agent("host-a");
    mismatch(a, a, "run-1");
    a.report(report("run-x", "billing.reconcile", "primary", "a"));
    a.await("ack 3", f -> f.hasAck() && f.getAck().getUptoSeq() == 3);
    StopState stop = awaitStopped(a);
    a.ack(stop, true);
    Eventually.await(Duration.ofSeconds(5), "confirmed", () -> status().getConfirmed() == 1);

    restart();

    StopStatus s = status();
    assertThat(s.getOrdersList()).extracting(StopOrder::getId).containsExactly(stop.getOrders(0).getId());
    assertThat(s.getAgentsList()).extracting(x -> x.getAgentId() + "=" + x.getStatus() + "," + x.getConnected())
        .as("its confirmation of the current state survives; it is not connected")
        .containsExactly("host-a=CONFIRMED,false");
    assertThat(s.getAgents(0).getAckedGeneration()).isEqualTo(stop.getGeneration());
    Incident inc = operator().getIncident(GetIncidentRequest.newBuilder().setId("INC-000001").build());
    assertThat(inc.getState()).isEqualTo(IncidentState.OPEN);
    RawAgent again = agent("host-a", stop);
    var w = again.await("welcome", f -> f.hasWelcome()).getWelcome();
    assertThat(w.getAckedSeq()).isEqualTo(3);
    assertThat(w.getStop().getGeneration()).as("a normal reconnect changes nothing").isEqualTo(stop.getGeneration());
    again.ack(w.getStop(), true);
    Eventually.await(Duration.ofSeconds(5), "confirmed after restart", () -> status().getConfirmed() == 1);
    // pending run survives too: the shadow completes it after the restart
    again.seq(3);
    again.report(report("run-x", "billing.reconcile", "shadow", "a"));
    Eventually.await(Duration.ofSeconds(5), "run-x decided", () ->
        collector.fleet().runs().get("run-x").map(r -> r.verdict().name().equals("MATCH")).orElse(false));
    again.report(report("run-y", "other.flow", "primary", "a"), report("run-y", "other.flow", "shadow", "c"));
    Eventually.await(Duration.ofSeconds(5), "second incident", () ->
        collector.fleet().incidents().get("INC-000002").isPresent());
  }

  @Test
  void resumeNeedsAReasonAndNamesWhatItEnds() throws Exception {
    start(CollectorConfig.StopPolicy.FLEET);
    RawAgent a = agent("host-a");
    RawAgent b = agent("host-b");
    mismatch(a, b, "run-1");
    StopState stop = awaitStopped(a);
    assertThatThrownBy(() -> operator().resumeStop(ResumeStopRequest.newBuilder().setReason(" ").setAll(true).build()))
        .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("INVALID_ARGUMENT");
    assertThatThrownBy(() -> operator().resumeStop(ResumeStopRequest.newBuilder().setReason("x").build()))
        .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("order_ids");
    assertThatThrownBy(() -> operator().resumeStop(ResumeStopRequest.newBuilder().setReason("x")
        .addOrderIds("ORD-999999-000000000000").build()))
        .hasMessageContaining("NOT_FOUND").hasMessageContaining("ORD-999999");
    StopStatus resumed = operator().resumeStop(ResumeStopRequest.newBuilder()
        .setReason("fixed unseeded rng in sample step").setAll(true)
        .addOrderIds(stop.getOrders(0).getId()).build());
    assertThat(resumed.getChangedOrderIdsList()).containsExactly(stop.getOrders(0).getId());
    assertThat(awaitStop(a, "RUNNING", x -> x.getMode() == StopMode.RUNNING).getReason())
        .isEqualTo("fixed unseeded rng in sample step");
    awaitStop(b, "RUNNING", x -> x.getMode() == StopMode.RUNNING);
    assertThatThrownBy(() -> operator().resumeStop(ResumeStopRequest.newBuilder().setReason("again")
        .addOrderIds(stop.getOrders(0).getId()).build()))
        .hasMessageContaining("NOT_FOUND").hasMessageContaining("resumed by anonymous");
    List<AuditEntry> audit = operator().listAudit(ListAuditRequest.newBuilder().setLimit(50).build())
        .getEntriesList();
    assertThat(audit).anySatisfy(e -> {
      assertThat(e.getAction()).isEqualTo("ResumeStop");
      assertThat(e.getResult()).isEqualTo("OK");
      assertThat(e.getTarget()).isEqualTo(stop.getOrders(0).getId());
      assertThat(e.getWho()).isEqualTo("anonymous");
      assertThat(e.getRemoteAddress()).startsWith("127.0.0.1:");
    });
    assertThat(audit).anySatisfy(e -> {
      assertThat(e.getAction()).isEqualTo("ResumeStop");
      assertThat(e.getResult()).isEqualTo("DENIED");
    });
    // the audit log pages: two at a time, newest first, the pages together are the whole log
    List<AuditEntry> paged = new java.util.ArrayList<>();
    String token = "";
    do {
      var page = operator().listAudit(ListAuditRequest.newBuilder().setLimit(2).setPageToken(token).build());
      assertThat(page.getEntriesCount()).isLessThanOrEqualTo(2);
      paged.addAll(page.getEntriesList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    assertThat(paged).isEqualTo(operator().listAudit(ListAuditRequest.newBuilder().setLimit(10_000).build())
        .getEntriesList());
    // a token the collector did not make is refused, naming it
    assertThatThrownBy(() -> operator().listAudit(ListAuditRequest.newBuilder().setPageToken("zz-not-hex").build()))
        .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("page_token 'zz-not-hex'");
  }

  @Test
  void withPolicyOffAMismatchOpensAnIncidentButDoesNotStop() throws Exception {
    start(CollectorConfig.StopPolicy.OFF);
    RawAgent a = agent("host-a");
    mismatch(a, a, "run-1");
    Eventually.await(Duration.ofSeconds(5), "incident", () ->
        collector.fleet().incidents().get("INC-000001").isPresent());
    assertThat(collector.fleet().orders()).isEmpty();
  }

  @Test
  void incidentsMoveOpenAcknowledgedResolvedWithNotes() throws Exception {
    start(CollectorConfig.StopPolicy.OFF);
    RawAgent a = agent("host-a");
    mismatch(a, a, "run-1");
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
    mismatch(a, a, "run-2");
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

  static void deleteTree(Path p) throws java.io.IOException {
    try (var walk = Files.walk(p)) {
      for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(x);
    }
  }
}
