package dev.lockstep.collector.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.Goldens;
import dev.lockstep.collector.correlate.CorrelationPolicy;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.LogMatch;
import dev.lockstep.proto.v1.Severity;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The core as a function: decisions, their atomicity, replay, a failing event. */
class CoreTest {
  final Core core = new Core(new CoreConfig(CoreConfig.StopPolicy.FLEET,
      CorrelationPolicy.primaryShadow(Duration.ofMinutes(5)), 1 << 20, 10), new Random(3));
  MemoryState state = new MemoryState();
  long now = 1_000_000;

  Tx apply(Input in) {
    Tx tx = new Tx(state, now++);
    core.apply(tx, in);
    return tx;
  }

  static Input.Events mismatch(String agent, String run, long firstSeq) {
    return new Input.Events(agent, Lane.DECISIVE, List.of(
        Goldens.golden(firstSeq, Goldens.report(run, "billing", "primary", "a")),
        Goldens.golden(firstSeq + 1, Goldens.report(run, "billing", "shadow", "b"))), 0);
  }

  /** A report of 60 steps whose step 41 has {@code engineHash} as its engine hash. */
  static GoldenReport sixtySteps(String role, String engineHash41) {
    var b = Goldens.report("run-big", "billing", role, "a").toBuilder().clearSteps();
    for (int i = 0; i < 60; i++) {
      b.addSteps(dev.lockstep.proto.v1.StepSummary.newBuilder().setIndex(i).setName("s" + i)
          .setCanonicalHash(Goldens.hash("s" + i)).setEngineHash(i == 41 ? engineHash41 : Goldens.hash("e" + i)));
    }
    return b.build();
  }

  /** A core whose host stores at most 5,000 "bytes" of run state (100 per step). */
  static Core bounded() {
    Core c = new Core(new CoreConfig(CoreConfig.StopPolicy.FLEET,
        CorrelationPolicy.primaryShadow(Duration.ofMinutes(5)), 1 << 20, 10), new Random(3));
    c.limitRunState(r -> 100L * r.replicas().stream().mapToInt(x -> x.summary().steps().size()).sum(), 5_000);
    return c;
  }

  Tx applyTo(Core c, Input in) {
    Tx tx = new Tx(state, now++);
    c.apply(tx, in);
    state.commit(tx);
    return tx;
  }

  /**
   * A host that stores a run in a bounded record (cluster mode: one Kafka record): a run over the
   * bound is kept with each replica's steps folded into one summary, and a later replica, folded
   * the same way, is still compared by every step hash. Here the documents are equal and only step
   * 41's engine hash differs: a VOLATILE_LEAK, which stops the fleet. Dropping the steps instead
   * (the first version of this bound) read it as a MATCH.
   */
  @Test
  void aRunOverItsHostsLimitIsKeptFoldedAndAStepEngineHashThatDiffersStillStops() {
    Core bounded = bounded();
    state.commit(apply(new Input.Hello("host-a", 1, Map.of(), StopState.getDefaultInstance())));
    Tx first = applyTo(bounded, new Input.Events("host-a", Lane.DECISIVE,
        List.of(Goldens.golden(1, sixtySteps("primary", Goldens.hash("e41")))), 0));
    assertThat(state.run("run-big").orElseThrow().replicas()).singleElement()
        .satisfies(r -> assertThat(r.summary().steps()).as("steps over the bound, folded").singleElement()
            .satisfies(st -> assertThat(st.name()).contains("60 steps")));
    assertThat(first.effects()).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(Effect.Progress.class,
        p -> assertThat(p.line()).contains("run run-big", "6000 bytes", "folded")));
    Tx second = applyTo(bounded, new Input.Events("host-a", Lane.DECISIVE,
        List.of(Goldens.golden(2, sixtySteps("shadow", Goldens.hash("e41 with a timestamp")))), 0));
    RunState decided = state.run("run-big").orElseThrow();
    assertThat(decided.verdict()).isEqualTo(dev.lockstep.collector.correlate.Verdict.MISMATCH);
    assertThat(decided.category()).isEqualTo("VOLATILE_LEAK");
    assertThat(second.effects()).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(Effect.SendStop.class,
        st -> assertThat(st.desired().getMode()).isEqualTo(StopMode.STOPPED)));
  }

  /** Folded replicas that agree in every step hash match: folding adds no false stop. */
  @Test
  void foldedReplicasThatAgreeInEveryStepMatch() {
    Core bounded = bounded();
    state.commit(apply(new Input.Hello("host-a", 1, Map.of(), StopState.getDefaultInstance())));
    applyTo(bounded, new Input.Events("host-a", Lane.DECISIVE, List.of(
        Goldens.golden(1, sixtySteps("primary", Goldens.hash("e41"))),
        Goldens.golden(2, sixtySteps("shadow", Goldens.hash("e41")))), 0));
    assertThat(state.run("run-big").orElseThrow().verdict()).isEqualTo(dev.lockstep.collector.correlate.Verdict.MATCH);
    assertThat(state.orders).isEmpty();
  }

  /** An agent's remediation notes on its incident are the newest 200; operators' notes all stay. */
  @Test
  void anIncidentKeepsTheNewestRemediationNotesOfAnAgentRestartingInALoop() {
    state.commit(apply(new Input.Events("host-a", Lane.ROUTINE, List.of(Goldens.health(1,
        dev.lockstep.proto.v1.HealthSample.Probe.PROCESS, "shadow", dev.lockstep.proto.v1.HealthSample.Level.CRITICAL)), 0)));
    for (int i = 0; i < Core.MAX_REMEDIATION_NOTES + 50; i++) {
      state.commit(apply(new Input.Events("host-a", Lane.ROUTINE, List.of(Event.newBuilder().setSeq(2 + i)
          .setRemediation(dev.lockstep.proto.v1.Remediation.newBuilder().setProcess("shadow")
              .setAction(dev.lockstep.proto.v1.Remediation.Action.RESTART)
              .setOutcome(dev.lockstep.proto.v1.Remediation.Outcome.DONE).setReason("restart " + i)).build()), 0)));
    }
    Incident died = state.incidents.values().stream()
        .filter(i -> i.getKind() == IncidentKind.PROCESS_DIED).findFirst().orElseThrow();
    assertThat(died.getNotesList()).filteredOn(n -> n.getAction().equals("REMEDIATION"))
        .hasSize(Core.MAX_REMEDIATION_NOTES)
        .last().satisfies(n -> assertThat(n.getNote()).contains("restart " + (Core.MAX_REMEDIATION_NOTES + 49)));
    // an incident stored with more (before the bound) comes down to it at the next note
    var over = died.toBuilder();
    for (int i = 0; i < 100; i++) {
      over.addNotes(dev.lockstep.proto.v1.IncidentNote.newBuilder().setAction("REMEDIATION").setNote("old " + i));
    }
    over.addNotes(dev.lockstep.proto.v1.IncidentNote.newBuilder().setAction("NOTE").setBy("alice").setNote("operator"));
    state.incidents.put(died.getId(), over.build());
    state.commit(apply(new Input.Events("host-a", Lane.ROUTINE, List.of(Event.newBuilder().setSeq(1_000)
        .setRemediation(dev.lockstep.proto.v1.Remediation.newBuilder().setProcess("shadow")
            .setAction(dev.lockstep.proto.v1.Remediation.Action.RESTART)
            .setOutcome(dev.lockstep.proto.v1.Remediation.Outcome.DONE).setReason("after")).build()), 0)));
    Incident after = state.incidents.get(died.getId());
    assertThat(after.getNotesList()).filteredOn(n -> n.getAction().equals("REMEDIATION")).hasSize(Core.MAX_REMEDIATION_NOTES);
    assertThat(after.getNotesList()).anySatisfy(n -> assertThat(n.getNote()).isEqualTo("operator"));
  }

  @Test
  void aMismatchsDecisionIncidentOrderAlertAndMarkAreOneFsyncedTransaction() {
    state.commit(apply(new Input.Hello("host-a", 1, Map.of(), StopState.getDefaultInstance())));
    Tx tx = apply(mismatch("host-a", "run-1", 1));
    assertThat(tx.syncRequired()).isTrue();
    List<Change> changes = tx.changes();
    assertThat(changes).anySatisfy(c -> assertThat(c).isInstanceOfSatisfying(Change.PutRun.class,
        r -> assertThat(r.run().incidentId()).isEqualTo("INC-000001")));
    assertThat(changes).anySatisfy(c -> assertThat(c).isInstanceOf(Change.PutIncident.class));
    assertThat(changes).anySatisfy(c -> assertThat(c).isInstanceOfSatisfying(Change.PutOrder.class,
        o -> assertThat(o.order().getIncidentId()).isEqualTo("INC-000001")));
    assertThat(changes).anySatisfy(c -> assertThat(c).isInstanceOf(Change.Alert.class));
    assertThat(changes).anySatisfy(c -> assertThat(c).isInstanceOfSatisfying(Change.Processed.class,
        p -> assertThat(p.seq()).isEqualTo(2)));
    assertThat(tx.effects()).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(Effect.SendStop.class,
        s -> assertThat(s.desired().getMode()).isEqualTo(StopMode.STOPPED)));
  }

  @Test
  void replayingAnUncommittedDecisionDecidesItOnceAndACommittedOneNotAgain() {
    state.commit(apply(new Input.Hello("host-a", 1, Map.of(), StopState.getDefaultInstance())));
    apply(mismatch("host-a", "run-1", 1)); // crashed before its commit: nothing of it is kept
    assertThat(state.incidents).isEmpty();
    state.commit(apply(mismatch("host-a", "run-1", 1))); // replay after the restart
    state.commit(apply(mismatch("host-a", "run-1", 1))); // and again: already processed
    assertThat(state.incidents).hasSize(1);
    assertThat(state.incidents.get("INC-000001").getCount()).isEqualTo(1);
    assertThat(state.orders).hasSize(1);
    assertThat(state.processed).containsEntry("DECISIVE/host-a", 2L);
  }

  @Test
  void anEventTheCoreFailsOnIsRaisedLoudlyAndTheRestOfItsBatchStillCounts() {
    MemoryState healthy = state;
    state = new MemoryState() {
      @Override
      public Optional<RunState> run(String runId) {
        if (runId.equals("boom")) throw new IllegalStateException("corrupt run record");
        return healthy.run(runId);
      }
    };
    Tx tx = apply(new Input.Events("host-a", Lane.DECISIVE, List.<Event>of(
        Goldens.golden(1, Goldens.report("ok-1", "billing", "primary", "a")),
        Goldens.golden(2, Goldens.report("boom", "billing", "primary", "a")),
        Goldens.golden(3, Goldens.report("ok-2", "billing", "primary", "a"))), 0));
    state.commit(tx);
    assertThat(state.runs).containsKeys("ok-1", "ok-2").doesNotContainKey("boom");
    Incident loud = state.incidents.values().iterator().next();
    assertThat(loud.getKind()).isEqualTo(IncidentKind.COLLECTOR);
    assertThat(loud.getSeverity()).isEqualTo(Severity.P1);
    assertThat(loud.getCategory()).isEqualTo("PROCESSING_FAILED");
    assertThat(loud.getTitle()).contains("host-a/2");
    assertThat(loud.getExplanation()).contains("corrupt run record");
    assertThat(state.processed).containsEntry("DECISIVE/host-a", 3L);
  }

  static Input.Events logMismatch(String agent, long seq, String run) {
    Event e = Event.newBuilder().setSeq(seq).setLogMatch(LogMatch.newBuilder()
        .setKind(LogMatch.Kind.MISMATCH_COUNT).setCount(2).setPath("/var/log/engine.log")
        .setLine("CRITICAL: 2 mismatch errors found").setRunId(run)).build();
    return new Input.Events(agent, Lane.of(e), List.of(e), 0);
  }

  @Test
  void aLogMatchWhoseRunIdIsOverTheLimitStillStopsButNamesNoRun() {
    state.commit(apply(new Input.Hello("host-a", 1, Map.of(), StopState.getDefaultInstance())));
    Tx tx = apply(logMismatch("host-a", 1, "r".repeat(257)));
    state.commit(tx);
    Incident inc = state.incidents.get("INC-000001");
    assertThat(inc.getSeverity()).isEqualTo(Severity.P0);
    assertThat(inc.getRunIdsList()).as("not pinned, not captured").isEmpty();
    assertThat(inc.getTitle()).doesNotContain("rrr");
    assertThat(state.orders).hasSize(1);
    assertThat(tx.effects()).noneMatch(Effect.PinsChanged.class::isInstance);

    state.commit(apply(logMismatch("host-a", 2, "r".repeat(256))));
    assertThat(state.incidents.get("INC-000001").getRunIdsList()).containsExactly("r".repeat(256));
  }

  /** Stored before the gateway cut log matches: the core cuts it, and it still stops. */
  @Test
  void aStoredLogMatchWithAHugeLineStillStopsAndItsIncidentShowsTheLineCut() {
    state.commit(apply(new Input.Hello("host-a", 1, Map.of(), StopState.getDefaultInstance())));
    Input.Events in = logMismatch("host-a", 1, "run-1");
    Event huge = in.events().get(0).toBuilder().setLogMatch(in.events().get(0).getLogMatch()
        .toBuilder().setLine("CRITICAL: 2 mismatch errors found " + "x".repeat(3_000_000))).build();
    state.commit(apply(new Input.Events("host-a", Lane.of(huge), List.of(huge), 0)));
    Incident inc = state.incidents.get("INC-000001");
    assertThat(inc.getSeverity()).isEqualTo(Severity.P0);
    assertThat(state.orders).hasSize(1);
    assertThat(inc.getExplanation()).contains("CRITICAL: 2 mismatch errors found xxx")
        .contains("… [cut: 3000034 characters]").hasSizeLessThan(5_000);
  }

  /** Stored before the gateway cut step names: the core cuts them, and the mismatch still stops. */
  @Test
  void aStoredGoldenReportWithAHugeStepNameStillStopsAndItsIncidentShowsTheNameCut() {
    state.commit(apply(new Input.Hello("host-a", 1, Map.of(), StopState.getDefaultInstance())));
    Input.Events in = mismatch("host-a", "run-1", 1);
    List<Event> huge = in.events().stream().map(e -> e.toBuilder().setGolden(e.getGolden().toBuilder()
        .setSteps(2, e.getGolden().getSteps(2).toBuilder().setName("sample " + "x".repeat(3_000_000))))
        .build()).toList();
    state.commit(apply(new Input.Events("host-a", Lane.DECISIVE, huge, 0)));
    Incident inc = state.incidents.get("INC-000001");
    assertThat(inc.getSeverity()).isEqualTo(Severity.P0);
    assertThat(state.orders).hasSize(1);
    assertThat(inc.getFirstStepIndex()).isEqualTo(2);
    assertThat(inc.getFirstStepName()).startsWith("sample xxx").endsWith("… [cut: 3000007 characters]")
        .hasSize(EventBounds.MAX_STEP_NAME);
    assertThat(state.runs.get("run-1").replicas()).allSatisfy(r ->
        assertThat(r.summary().steps().get(2).name()).hasSize(EventBounds.MAX_STEP_NAME));
  }

  /**
   * A label listing more workflows than are kept could leave its agent outside a stop of one it
   * runs; such an agent is covered by every workflow stop instead.
   */
  @Test
  void anAgentWhoseWorkflowsLabelListsMoreThanAreKeptIsStoppedByAStopOfAnyWorkflow() {
    String wf1001 = String.join(",", IntStream.rangeClosed(1, 1_001).mapToObj(i -> "wf-" + i).toList());
    String wf1000 = String.join(",", IntStream.rangeClosed(1, 1_000).mapToObj(i -> "wf-" + i).toList());
    state.commit(apply(new Input.Hello("many", 1, Map.of("workflows", wf1001), StopState.getDefaultInstance())));
    state.commit(apply(new Input.Hello("kept", 2, Map.of("workflows", wf1000), StopState.getDefaultInstance())));
    state.commit(apply(new Input.IssueOrder(dev.lockstep.proto.v1.StopScope.newBuilder().setWorkflow("wf-1001")
        .build(), "drill", "op", "operator", "")));
    assertThat(state.agentStops.get("many").getDesired().getMode()).isEqualTo(StopMode.STOPPED);
    assertThat(state.agentStops.get("kept").getDesired().getMode())
        .as("1,000 workflows are kept: a stop of another one does not cover it").isEqualTo(StopMode.RUNNING);
    state.commit(apply(new Input.IssueOrder(dev.lockstep.proto.v1.StopScope.newBuilder().setWorkflow("wf-7")
        .build(), "drill", "op", "operator", "")));
    assertThat(state.agentStops.get("kept").getDesired().getMode()).isEqualTo(StopMode.STOPPED);
  }

  /**
   * An agent covered by more orders than a Hello once could name (64: say 100 workflow stops and
   * an agent whose workflows label is "*") holds them all: its ack naming them counts, it can
   * reconnect naming them, and a resume of them all releases it. A refusal there left its stop
   * unconfirmed forever and the agent unable to reconnect, so no resume could reach it.
   */
  @Test
  void anAgentCoveredByAHundredOrdersConfirmsReconnectsAndIsReleased() {
    state.commit(apply(new Input.Hello("host-a", 1, Map.of(), StopState.getDefaultInstance())));
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 100; i++) {
      Tx tx = apply(new Input.IssueOrder(dev.lockstep.proto.v1.StopScope.newBuilder().setFleet(true).build(),
          "drill " + i, "op", "operator", ""));
      state.commit(tx);
    }
    StopState d = state.agentStops.get("host-a").getDesired();
    assertThat(d.getOrdersCount()).isEqualTo(100);
    d.getOrdersList().forEach(o -> ids.add(o.getId()));
    dev.lockstep.proto.v1.StopAck ack = dev.lockstep.proto.v1.StopAck.newBuilder()
        .setGeneration(d.getGeneration()).setMode(StopMode.STOPPED).setEnacted(true).setVerified(true)
        .addAllHeldOrders(d.getOrdersList()).build();
    state.commit(apply(new Input.Ack("host-a", ack)));
    assertThat(state.agentStops.get("host-a").getAck().getGeneration())
        .as("the ack naming 100 held orders counts").isEqualTo(d.getGeneration());
    state.commit(apply(new Input.Hello("host-a", 2, Map.of(), d)));
    assertThat(state.agentStops.get("host-a").getDesired().getGeneration())
        .as("the Hello naming them is taken; nothing changed").isEqualTo(d.getGeneration());
    assertThat(state.activeOrders()).hasSize(100);
    state.commit(apply(new Input.Resume(ids, true, "drill over", "op", "operator", "")));
    StopState after = state.agentStops.get("host-a").getDesired();
    assertThat(after.getMode()).isEqualTo(StopMode.RUNNING);
    assertThat(after.getReleasedOrderIdsList()).containsExactlyInAnyOrderElementsOf(ids);
  }

  /** Likewise an agent reporting runs of more workflows than are kept. */
  @Test
  void anAgentReportingRunsOfMoreWorkflowsThanAreKeptIsStoppedByAStopOfAnyWorkflow() {
    state.commit(apply(new Input.Hello("many", 1, Map.of(), StopState.getDefaultInstance())));
    state.commit(apply(new Input.Hello("other", 2, Map.of(), StopState.getDefaultInstance())));
    for (int i = 1; i <= 1_001; i++) {
      Event e = Goldens.golden(i, Goldens.report("run-" + i, "wf-" + i, "primary", "a"));
      state.commit(apply(new Input.Events("many", Lane.of(e), List.of(e), 0)));
    }
    state.commit(apply(new Input.IssueOrder(dev.lockstep.proto.v1.StopScope.newBuilder().setWorkflow("wf-1001")
        .build(), "drill", "op", "operator", "")));
    assertThat(state.agentStops.get("many").getDesired().getMode()).isEqualTo(StopMode.STOPPED);
    assertThat(state.agentStops.get("other").getDesired().getMode()).isEqualTo(StopMode.RUNNING);
    assertThat(state.agentStops.get("many").getReportedWorkflowsCount()).isEqualTo(1_000);
  }

  @Test
  void aRepeatThatAddsARunChangesPinsAsAnOpeningDoes() {
    state.commit(apply(new Input.Hello("host-a", 1, Map.of(), StopState.getDefaultInstance())));
    state.commit(apply(mismatch("host-a", "run-1", 1)));
    Tx tx = apply(mismatch("host-a", "run-2", 3));
    state.commit(tx);
    assertThat(state.incidents).hasSize(1);
    assertThat(state.incidents.get("INC-000001").getRunIdsList()).containsExactly("run-1", "run-2");
    assertThat(tx.effects()).anyMatch(Effect.PinsChanged.class::isInstance);

    state.commit(apply(new Input.Hello("host-b", 2, Map.of(), StopState.getDefaultInstance())));
    assertThat(apply(logMismatch("host-b", 1, "run-9")).effects()).as("an opening")
        .anyMatch(Effect.PinsChanged.class::isInstance);
    state.commit(apply(logMismatch("host-b", 1, "run-9")));
    assertThat(apply(logMismatch("host-b", 2, "run-9")).effects()).as("a repeat adding no run")
        .noneMatch(Effect.PinsChanged.class::isInstance);
  }

  @Test
  void aGoldenReportStoredBeforeTheLengthLimitsIsRaisedLoudlyAndNotCorrelated() {
    state.commit(apply(report("host-a", 1, "r".repeat(2_000), "primary", "a")));
    assertThat(state.runs).isEmpty();
    Incident loud = state.incidents.get("INC-000001");
    assertThat(loud.getCategory()).isEqualTo("PROCESSING_FAILED");
    assertThat(loud.getRunIdsList()).isEmpty();
    assertThat(loud.getExplanation()).contains("GoldenReport.run_id is 2000 characters, the limit is 256")
        .hasSizeLessThan(1_200);
    assertThat(state.processed).containsEntry("DECISIVE/host-a", 1L);
  }

  static Input.Events report(String agent, long seq, String run, String role, String variant) {
    return new Input.Events(agent, Lane.DECISIVE, List.of(
        Goldens.golden(seq, Goldens.report(run, "billing", role, variant))), 0);
  }

  @Test
  void twoPrimariesWithDifferentHashesOpenAP0ConflictThatStopsAndCapturesFromBoth() {
    state.commit(apply(new Input.Hello("host-a", 1, Map.of(), StopState.getDefaultInstance())));
    state.commit(apply(new Input.Hello("host-b", 2, Map.of(), StopState.getDefaultInstance())));
    state.commit(apply(report("host-a", 1, "run-1", "primary", "a")));
    Tx tx = apply(report("host-b", 1, "run-1", "primary", "b"));
    assertThat(tx.syncRequired()).isTrue();
    state.commit(tx);
    Incident inc = state.incidents.get("INC-000001");
    assertThat(inc.getKind()).isEqualTo(IncidentKind.MISMATCH);
    assertThat(inc.getCategory()).isEqualTo("REPLICA_CONFLICT");
    assertThat(inc.getSeverity()).isEqualTo(Severity.P0);
    assertThat(inc.getAgentIdsList()).containsExactly("host-a", "host-b");
    assertThat(inc.getTitle()).contains("role primary reported twice with different hashes");
    assertThat(inc.getStopOrderId()).isNotEmpty();
    assertThat(state.orders).containsKey(inc.getStopOrderId());
    assertThat(state.runs.get("run-1").verdict().name()).isEqualTo("REPLICA_CONFLICT");
    assertThat(state.runs.get("run-1").incidentId()).isEqualTo("INC-000001");
    assertThat(tx.effects()).filteredOn(Effect.SendCapture.class::isInstance)
        .extracting(e -> ((Effect.SendCapture) e).agentId()).containsExactlyInAnyOrder("host-a", "host-b");
    assertThat(tx.effects()).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(Effect.RunDecided.class,
        r -> assertThat(r.verdict()).isEqualTo("REPLICA_CONFLICT")));
  }

  /**
   * An agent reports a run first under a role nobody runs; the run is MISSING_REPLICA when its
   * window closes; the real primary and shadow then differ: the late mismatch opens a P0 and stops
   * the fleet, as an on-time one does.
   */
  @Test
  void aMismatchCompletingAMissingReplicaRunLateStopsTheFleet() {
    state.commit(apply(report("evil", 1, "run-1", "decoy", "x")));
    now += Duration.ofMinutes(5).toMillis();
    state.commit(apply(new Input.Sweep()));
    assertThat(state.incidents.values()).extracting(Incident::getCategory).containsExactly("MISSING_REPLICA");
    assertThat(state.orders).isEmpty();
    state.commit(apply(mismatch("host-a", "run-1", 1)));
    assertThat(state.incidents.values()).filteredOn(i -> i.getSeverity() == Severity.P0)
        .singleElement().satisfies(i -> assertThat(i.getRunIdsList()).contains("run-1"));
    assertThat(state.orders.values()).singleElement()
        .satisfies(o -> assertThat(o.getScope().getFleet()).isTrue());
  }

  @Test
  void aReReportOfADecidedRunWithAnotherHashIsNeverDroppedSilently() {
    state.commit(apply(mismatch("host-a", "run-1", 1)));
    state.commit(apply(report("host-a", 3, "run-1", "shadow", "c")));
    assertThat(state.incidents.values()).extracting(Incident::getCategory)
        .hasSize(2).contains("REPLICA_CONFLICT");
    Incident conflict = state.incidents.values().stream()
        .filter(i -> i.getCategory().equals("REPLICA_CONFLICT")).findFirst().orElseThrow();
    assertThat(conflict.getSeverity()).isEqualTo(Severity.P0);
    assertThat(conflict.getExplanation()).contains("re-reported by host-a with another canonical hash");
    assertThat(state.runs.get("run-1").incidentId()).as("the run keeps its mismatch incident")
        .isEqualTo("INC-000001");
    state.commit(apply(report("host-a", 4, "run-1", "shadow", "d")));
    assertThat(conflict.getId()).isNotEmpty();
    assertThat(state.incidents.get(conflict.getId()).getCount()).as("a repeat counts").isEqualTo(2);
    assertThat(state.orders).as("one fleet order covers it all").hasSize(1);
  }

  @Test
  void twoAgentsClaimingOneRoleWithTheSameHashOpenAP2WithoutAStop() {
    state.commit(apply(report("host-a", 1, "run-1", "primary", "a")));
    state.commit(apply(report("host-b", 1, "run-1", "primary", "a")));
    Incident inc = state.incidents.get("INC-000001");
    assertThat(inc.getCategory()).isEqualTo("REPLICA_CONFLICT");
    assertThat(inc.getSeverity()).isEqualTo(Severity.P2);
    assertThat(inc.getTitle()).contains("claimed by host-a and host-b");
    assertThat(state.orders).isEmpty();
    assertThat(state.runs.get("run-1").verdict().name()).isEqualTo("PENDING");
    state.commit(apply(report("host-c", 1, "run-1", "shadow", "a")));
    assertThat(state.runs.get("run-1").verdict().name()).isEqualTo("MATCH");
  }

  @Test
  void aStoredReportWithoutARoleIsRaisedLoudlyNotCorrelatedAsUnknown() {
    Tx tx = apply(new Input.Events("host-a", Lane.DECISIVE, List.of(Goldens.golden(1,
        Goldens.report("run-1", "billing", "", "a"))), 0));
    state.commit(tx);
    assertThat(state.runs).isEmpty();
    Incident loud = state.incidents.values().iterator().next();
    assertThat(loud.getCategory()).isEqualTo("PROCESSING_FAILED");
    assertThat(loud.getExplanation()).contains("GoldenReport.role is empty");
  }

  @Test
  void eventsOfTheOtherLaneAreLeftForTheirOwnLane() {
    Tx tx = apply(new Input.Events("host-a", Lane.ROUTINE, List.of(
        Goldens.golden(1, Goldens.report("r", "billing", "primary", "a")),
        Goldens.health(2, dev.lockstep.proto.v1.HealthSample.Probe.DISK, "/", dev.lockstep.proto.v1.HealthSample.Level.OK)), 0));
    state.commit(tx);
    assertThat(state.runs).as("the golden report belongs to the decisive lane").isEmpty();
    assertThat(state.processed).containsEntry("ROUTINE/host-a", 2L).doesNotContainKey("DECISIVE/host-a");
  }

  @Test
  void resumedOrderRecordsAreForgottenAfterRetention() {
    state.commit(apply(new Input.IssueOrder(dev.lockstep.proto.v1.StopScope.newBuilder().setFleet(true).build(),
        "drill", "op", "operator", "")));
    state.commit(apply(new Input.Resume(List.copyOf(state.orders.keySet()), true, "done", "op", "operator", "")));
    assertThat(state.resumed).hasSize(1);
    state.commit(apply(new Input.ForgetResumedOrders(now - 10_000)));
    assertThat(state.resumed).as("resumed after the cutoff: kept").hasSize(1);
    state.commit(apply(new Input.ForgetResumedOrders(now + 10_000)));
    assertThat(state.resumed).isEmpty();
  }
}
