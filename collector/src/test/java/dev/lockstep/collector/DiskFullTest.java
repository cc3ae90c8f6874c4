package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.store.Store;
import dev.lockstep.collector.store.StoreSpace;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EventBatch;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.IncidentState;
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
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector's own store fills (a RocksDB space cap stands in for a small disk; no root
 * needed): agents still connect, stops are issued, delivered and confirmed, the collector raises
 * a P1 about itself, and nothing acked is lost or doubled when space returns.
 */
class DiskFullTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  @TempDir Path dir;
  Collector collector;
  ManagedChannel channel;
  final List<RawAgent> agents = new ArrayList<>();
  final List<dev.lockstep.agent.Agent> realAgents = new ArrayList<>();

  @AfterEach
  void stop() {
    realAgents.forEach(dev.lockstep.agent.Agent::close);
    agents.forEach(RawAgent::close);
    if (channel != null) channel.shutdownNow();
    if (collector != null) collector.close();
  }

  void start(long capBytes) throws Exception {
    collector = Collector.start(CollectorConfig.defaults(dir).withInsecure(true)
        .withListen("127.0.0.1", 0).withStopResendInterval(Duration.ofMillis(300))
        .withStorage(new CollectorConfig.Storage(true, 8L << 20, 8L << 20, capBytes, 24L << 20,
            16L << 20, 0)), Clock.systemUTC(), line -> { });
    channel = NettyChannelBuilder.forAddress("127.0.0.1", collector.port()).usePlaintext().build();
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

  /** A batch of health samples with incompressible summaries (~2 KiB each). */
  static List<Event> routine(long firstSeq, int n, Random random) {
    List<Event> out = new ArrayList<>();
    byte[] noise = new byte[1536];
    for (int i = 0; i < n; i++) {
      random.nextBytes(noise);
      out.add(Event.newBuilder().setSeq(firstSeq + i).setHealth(HealthSample.newBuilder()
          .setProbe(HealthSample.Probe.PROCESS).setTarget("shadow").setLevel(HealthSample.Level.OK)
          .setSummary(Base64.getEncoder().encodeToString(noise))).build());
    }
    return out;
  }

  /** Sends a batch that echoes the latest Backoff received, as the protocol asks. */
  static void send(RawAgent a, List<Event> events) {
    long backoff = a.received.stream().filter(f -> f.hasBackoff()).mapToLong(f -> f.getBackoff().getId())
        .max().orElse(0);
    a.send(AgentFrame.newBuilder().setEvents(EventBatch.newBuilder().addAllEvents(events)
        .setBackoffId(backoff)).build());
  }

  long backoffs(RawAgent a) {
    return a.received.stream().filter(f -> f.hasBackoff()).count();
  }

  Incident storeIncident() {
    return collector.fleet().incidents().all().stream().filter(i -> i.getKind() == IncidentKind.COLLECTOR
        && i.getCategory().equals("STORE_SPACE")).findFirst().orElse(null);
  }

  /** Sends routine batches from {@code filler} until the collector answers with a Backoff. */
  long fillToFlood(RawAgent filler, Random random) {
    long seq = 0;
    while (backoffs(filler) == 0) {
      send(filler, routine(seq + 1, 250, random));
      seq += 250;
      long sent = seq;
      Eventually.await(WAIT, "batch answered", () -> filler.ackedUpTo() >= sent || backoffs(filler) > 0);
      if (seq > 200_000) throw new AssertionError("the store never reached its flood stage");
    }
    return seq;
  }

  @Test
  void atTheFloodStageRoutineEventsWaitInSpoolsWhileStopsAndMismatchesStillGoThrough() throws Exception {
    start(48L << 20);
    Random random = new Random(11);
    RawAgent filler = agent("filler");
    long seq = fillToFlood(filler, random);
    long storedBeforeFlood = filler.ackedUpTo();
    var backoff = filler.received.stream().filter(f -> f.hasBackoff()).findFirst().orElseThrow().getBackoff();
    assertThat(backoff.getResendAfterSeq()).isEqualTo(storedBeforeFlood);
    assertThat(backoff.getReason()).contains("flood watermark");
    assertThat(collector.space().state()).isEqualTo(StoreSpace.State.FLOOD);
    assertThat(filler.closedWith).as("the stream stays open for stops").isNull();

    var status = operator().getStatus(StatusRequest.getDefaultInstance());
    assertThat(status.getStore().getState()).isEqualTo("FLOOD");
    assertThat(status.getStore().getFreeBytes()).isLessThan(16L << 20);
    Incident p1 = Eventually.value(WAIT, "a P1 about the collector", this::storeIncident);
    assertThat(p1.getSeverity()).isEqualTo(dev.lockstep.proto.v1.Severity.P1);

    // connecting needs no room; a stop is issued, delivered and confirmed by both agents
    RawAgent late = agent("late");
    var issued = operator().enableStop(EnableStopRequest.newBuilder().setReason("drill on a full disk").build());
    assertThat(issued.getChangedOrderIdsList()).hasSize(1);
    for (RawAgent a : List.of(filler, late)) {
      StopState s = Eventually.value(WAIT, a.agentId + " stopped", () -> {
        StopState l = a.lastStop();
        return l != null && l.getMode() == StopMode.STOPPED ? l : null;
      });
      a.ack(s, true);
    }
    Eventually.await(WAIT, "both confirmed", () -> {
      var st = operator().getStopStatus(StopStatusRequest.getDefaultInstance());
      return st.getCovered() == 2 && st.getConfirmed() == 2;
    });
    // a golden report still goes in: the mismatch raises its P0
    late.report(Goldens.report("run-full", "billing", "primary", "a"), Goldens.report("run-full", "billing", "shadow", "b"));
    Eventually.await(WAIT, "the mismatch's P0", () -> collector.fleet().incidents().all().stream()
        .anyMatch(i -> i.getKind() == IncidentKind.MISMATCH && i.getRunIdsList().contains("run-full")));
    // its evidence does not take the room stops need: the artifact is kept, truncated, no bytes
    var capture = late.await("capture", f -> f.hasCapture()).getCapture();
    EvidenceTest.sendArtifact(late, capture, "logs/app.log", "log", new byte[64 << 10], 16 << 10);
    Incident withEvidence = Eventually.value(WAIT, "the artifact listed", () -> collector.fleet()
        .incidents().get(capture.getIncidentId()).filter(i -> i.getEvidenceCount() == 1).orElse(null));
    assertThat(withEvidence.getEvidence(0).getTruncated()).isTrue();
    assertThat(withEvidence.getEvidence(0).getSizeBytes()).isZero();
    assertThat(collector.fleet().evidence().totalBytes()).isZero();

    // space returns: the incident resolves by itself, the filler resends, nothing is lost or doubled
    collector.store().maxSpaceBytes(1L << 30);
    Eventually.await(WAIT, "store OK", () -> collector.space().state() == StoreSpace.State.OK);
    Eventually.await(WAIT, "P1 resolved", () -> storeIncident().getState() == IncidentState.RESOLVED);
    long last = seq;
    for (long s = storedBeforeFlood + 1; s <= last; s += 250) {
      send(filler, routine(s, (int) Math.min(250, last - s + 1), random));
    }
    Eventually.await(WAIT, "everything acked", () -> filler.ackedUpTo() == last);
    Map<Long, Integer> counts = new HashMap<>();
    collector.store().scanEvents(0, e -> {
      if (e.agentId().equals("filler")) counts.merge(e.event().getSeq(), 1, Integer::sum);
      return true;
    });
    assertThat(counts).hasSize((int) last);
    assertThat(counts.values()).allMatch(n -> n == 1);
  }

  @Test
  void aStoreThatRefusesEveryWriteStillIssuesAndConfirmsStopsAndWritesThemOnRecovery() throws Exception {
    start(0);
    RawAgent a = agent("host-a");
    collector.store().injectWriteFault("No space left on device");
    a.report(Goldens.report("run-x", "billing", "primary", "a"));
    Eventually.await(WAIT, "FAILED", () -> collector.space().state() == StoreSpace.State.FAILED);
    Eventually.await(WAIT, "the batch held back", () -> backoffs(a) > 0);
    RawAgent b = agent("host-b"); // connecting works
    var issued = operator().enableStop(EnableStopRequest.newBuilder().setReason("drill on a read-only store").build());
    String order = issued.getChangedOrderIdsList().get(0);
    for (RawAgent x : List.of(a, b)) {
      StopState s = Eventually.value(WAIT, x.agentId + " stopped", () -> {
        StopState l = x.lastStop();
        return l != null && l.getMode() == StopMode.STOPPED ? l : null;
      });
      x.ack(s, true);
    }
    Eventually.await(WAIT, "confirmed while nothing can be written", () ->
        operator().getStopStatus(StopStatusRequest.getDefaultInstance()).getConfirmed() == 2);
    var store = operator().getStatus(StatusRequest.getDefaultInstance()).getStore();
    assertThat(store.getState()).isEqualTo("FAILED");
    assertThat(store.getPendingWrites()).isPositive();
    assertThat(store.getDetail()).contains("held in memory");

    collector.store().injectWriteFault(null);
    Eventually.await(WAIT, "held writes flushed", () -> collector.fleet().storeHealth().getPendingWrites() == 0
        && collector.space().state() == StoreSpace.State.OK);
    CollectorConfig c = collector.config();
    agents.forEach(RawAgent::close);
    agents.clear();
    channel.shutdownNow();
    collector.close();
    start(0);
    assertThat(collector.fleet().orders()).extracting(o -> o.getId()).as("the order reached the disk")
        .containsExactly(order);
    assertThat(operator().listAudit(dev.lockstep.proto.v1.ListAuditRequest.newBuilder().setLimit(100).build())
        .getEntriesList()).anySatisfy(e -> {
          assertThat(e.getAction()).isEqualTo("EnableStop");
          assertThat(e.getTarget()).isEqualTo(order);
        });
    assertThat(c.storage().maxSpaceBytes()).isZero();
  }

  /**
   * An operator's fleet stop issued while the store refuses every write, and the collector
   * restarted before the store recovered (a clean restart here; a kill -9 leaves the same files):
   * the order is back after the restart, and an agent that was offline during the stop is told to
   * stop when it connects. Its resume, also issued while held, comes back as a resume.
   */
  @Test
  void aStopIssuedWhileTheStoreRefusesWritesSurvivesARestartBeforeItRecovers() throws Exception {
    start(0);
    RawAgent a = agent("host-a");
    collector.store().injectWriteFault("No space left on device");
    a.report(Goldens.report("run-x", "billing", "primary", "a"));
    Eventually.await(WAIT, "FAILED", () -> collector.space().state() == StoreSpace.State.FAILED);
    var issued = operator().enableStop(EnableStopRequest.newBuilder().setReason("fleet stop while the store fails").build());
    String order = issued.getChangedOrderIdsList().get(0);
    StopState s = Eventually.value(WAIT, "host-a stopped", () -> {
      StopState l = a.lastStop();
      return l != null && l.getMode() == StopMode.STOPPED ? l : null;
    });
    a.ack(s, true);
    assertThat(collector.fleet().storeHealth().getPendingWrites()).as("held, not written").isPositive();
    agents.forEach(RawAgent::close);
    agents.clear();
    channel.shutdownNow();
    collector.close();

    start(0);
    assertThat(collector.fleet().orders()).extracting(o -> o.getId()).as("the operator's order")
        .containsExactly(order);
    RawAgent c = agent("host-c"); // offline while the fleet was stopped
    assertThat(c.lastStop().getMode()).isEqualTo(StopMode.STOPPED);
    assertThat(c.lastStop().getOrdersList()).extracting(o -> o.getId()).containsExactly(order);
    assertThat(audited("EnableStop", order)).as("who issued it, held with it").isEqualTo(1);

    collector.store().injectWriteFault("No space left on device");
    c.report(Goldens.report("run-y", "billing", "primary", "a"));
    Eventually.await(WAIT, "FAILED again", () -> collector.space().state() == StoreSpace.State.FAILED);
    operator().resumeStop(dev.lockstep.proto.v1.ResumeStopRequest.newBuilder().addOrderIds(order)
        .setReason("fixed").build());
    Eventually.await(WAIT, "host-c told to run", () -> c.lastStop().getMode() == StopMode.RUNNING);
    agents.forEach(RawAgent::close);
    agents.clear();
    channel.shutdownNow();
    collector.close();

    start(0);
    assertThat(collector.fleet().orders()).as("the resume, held too, came back").isEmpty();
    assertThat(agent("host-d").lastStop().getMode()).isEqualTo(StopMode.RUNNING);
    assertThat(audited("ResumeStop", order)).as("who resumed it").isEqualTo(1);
    assertThat(audited("EnableStop", order)).as("stored once").isEqualTo(1);
  }

  private long audited(String action, String target) {
    return operator().listAudit(dev.lockstep.proto.v1.ListAuditRequest.newBuilder().setLimit(1000).build())
        .getEntriesList().stream().filter(e -> e.getAction().equals(action) && e.getTarget().equals(target))
        .count();
  }

  @Test
  void aBatchSentBeforeTheAgentSawABackoffIsNotStoredSoNoEventIsSkipped() throws Exception {
    start(48L << 20);
    Random random = new Random(3);
    fillToFlood(agent("filler"), random);
    RawAgent p = agent("pipelined");
    // two batches back to back: routine 1..10 (refused at the flood stage), then a golden report
    // (seq 11) sent before the agent could see the Backoff; storing it would skip 1..10 for good
    for (List<Event> batch : List.of(routine(1, 10, random),
        List.of(Goldens.golden(11, Goldens.report("run-p", "billing", "primary", "a"))))) {
      p.send(AgentFrame.newBuilder().setEvents(EventBatch.newBuilder().addAllEvents(batch).setBackoffId(0)).build());
    }
    Eventually.await(WAIT, "a Backoff", () -> backoffs(p) > 0);
    assertThat(p.received.stream().filter(f -> f.hasBackoff()).findFirst().orElseThrow().getBackoff()
        .getDecisiveTaken()).isTrue();
    // as the protocol asks: resend after resend_after_seq, echoing the Backoff's id; everything up
    // to the golden report goes in at the flood stage when marked as leading to it
    long after = p.received.stream().filter(f -> f.hasBackoff()).findFirst().orElseThrow().getBackoff()
        .getResendAfterSeq();
    assertThat(after).isZero();
    List<Event> again = new ArrayList<>(routine(1, 10, random));
    again.add(Goldens.golden(11, Goldens.report("run-p", "billing", "primary", "a")));
    long backoff = p.received.stream().filter(f -> f.hasBackoff()).mapToLong(f -> f.getBackoff().getId()).max().orElseThrow();
    p.send(AgentFrame.newBuilder().setEvents(EventBatch.newBuilder().addAllEvents(again)
        .setBackoffId(backoff)).build());
    Eventually.await(WAIT, "1..11 acked", () -> p.ackedUpTo() == 11);
    Map<Long, Integer> counts = new HashMap<>();
    collector.store().scanEvents(0, e -> {
      if (e.agentId().equals("pipelined")) counts.merge(e.event().getSeq(), 1, Integer::sum);
      return true;
    });
    assertThat(counts).as("every event once, none skipped").hasSize(11).allSatisfy((k, v) -> assertThat(v).isEqualTo(1));
  }

  @Test
  void aClientThatIgnoresBackoffsIsDisconnectedSoItResendsFromWhatTheCollectorHolds() throws Exception {
    start(48L << 20);
    Random random = new Random(9);
    fillToFlood(agent("filler"), random);
    RawAgent naive = agent("naive");
    java.util.function.Consumer<Long> sendStale = seq -> naive.send(AgentFrame.newBuilder()
        .setEvents(EventBatch.newBuilder().addAllEvents(routine(seq, 1, random))).build());
    sendStale.accept(1L);
    Eventually.await(WAIT, "a Backoff", () -> backoffs(naive) > 0);
    long[] seq = {1};
    // it keeps sending without echoing the Backoff: dropped, then (after twice the retry time) the
    // stream is closed, so it reconnects and resends from Welcome.acked_seq like any client
    Eventually.await(WAIT, "the stream closed", () -> {
      if (naive.closedWith == null) sendStale.accept(++seq[0]);
      return naive.closedWith != null;
    });
    assertThat(naive.closedWith.getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
    assertThat(naive.closedWith.getDescription()).contains("does not echo Backoff 1")
        .contains("resend after Welcome.acked_seq");
    assertThat(naive.ackedUpTo()).as("nothing of it was acked").isLessThan(1);
  }

  final List<String> progress = new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * A real agent whose disk probe reports {@code diskPaths} paths every 100 ms: a steady flow of
   * routine events (with 100 paths, more than a batch per second).
   */
  dev.lockstep.agent.Agent realAgent(String id, Path root, int diskPaths) throws Exception {
    java.nio.file.Files.createDirectories(root.resolve("golden"));
    List<Path> disks = new ArrayList<>();
    for (int i = 0; i < diskPaths; i++) disks.add(java.nio.file.Files.createDirectories(root.resolve("disk-" + i)));
    var config = dev.lockstep.agent.config.AgentConfig.defaults(id, "127.0.0.1:" + collector.port(),
            root.resolve("state"))
        .withReconnect(Duration.ofMillis(100), Duration.ofMillis(400))
        .withGolden(new dev.lockstep.agent.config.AgentConfig.GoldenWatch(List.of(root.resolve("golden").toString()),
            "*.json", Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(500)))
        .withProbes(new dev.lockstep.agent.config.AgentConfig.Probes(Duration.ofMillis(100), Duration.ofMillis(100)))
        .withDisk(new dev.lockstep.agent.config.AgentConfig.Disk(disks, 99, 100))
        .withStopFile(root.resolve("run/EMERGENCY_STOP"))
        .withHooks("true", "true", null);
    dev.lockstep.agent.Agent agent = dev.lockstep.agent.Agent.start(config, Clock.systemUTC(), progress::add);
    realAgents.add(agent);
    Eventually.await(WAIT, id + " welcomed", agent::isConnected);
    return agent;
  }

  /** Writes the primary and shadow golden files of {@code runId}, whose outputs differ. */
  static void mismatch(Path root, String runId) throws java.io.IOException {
    for (String role : List.of("primary", "shadow")) {
      Path tmp = root.resolve("golden").resolve("." + role + ".tmp");
      java.nio.file.Files.writeString(tmp,
          "{\"format\":\"lockstep.golden/v1\",\"run_id\":\"" + runId + "\",\"workflow\":\"billing\","
              + "\"role\":\"" + role + "\",\"seed\":42,\"timestamp\":\"2026-12-01T10:00:00Z\","
              + "\"duration_ms\":10,\"steps\":[{\"index\":0,\"name\":\"s\",\"kind\":\"compute\","
              + "\"output\":{\"n\":" + (role.equals("primary") ? 1 : 2) + "}}],\"output\":{}}");
      java.nio.file.Files.move(tmp, root.resolve("golden").resolve(runId + "." + role + ".golden.json"),
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
  }

  Incident mismatchIncident(String runId) {
    return collector.fleet().incidents().all().stream().filter(i -> i.getKind() == IncidentKind.MISMATCH
        && i.getRunIdsList().contains(runId)).findFirst().orElse(null);
  }

  @Test
  void atTheFloodStageARealAgentsMismatchOvertakesItsSpooledRoutineEvents() throws Exception {
    start(48L << 20);
    fillToFlood(agent("filler"), new Random(5));
    Path root = dir.resolve("agent-f");
    dev.lockstep.agent.Agent agent = realAgent("host-f", root, 100);
    Eventually.await(WAIT, "host-f asked to hold its routine events", () ->
        progress.stream().anyMatch(l -> l.contains("collector asked to hold events")
            && l.contains("golden reports still go")));
    // more routine events ahead of the mismatch than the agent sends in its in-flight batches
    int ahead = (dev.lockstep.collector.gateway.AgentGateway.MAX_BATCH_EVENTS) * 6;
    Eventually.await(WAIT, "routine events waiting in the spool", () ->
        agent.lastSpooledSeq() - agent.lastAckedSeq() > ahead);
    long acked = agent.lastAckedSeq();

    mismatch(root, "run-f");
    Incident p0 = Eventually.value(WAIT, "the mismatch's P0 at the flood stage", () -> mismatchIncident("run-f"));
    assertThat(p0.getSeverity()).isEqualTo(dev.lockstep.proto.v1.Severity.P0);
    assertThat(collector.space().state()).as("still at the flood stage").isEqualTo(StoreSpace.State.FLOOD);
    // the agent's own (lite) protocol classes
    dev.lockstep.proto.lite.v1.StopState stopped = Eventually.value(WAIT, "host-f stopped", () -> {
      var e = agent.enactedStop();
      return e != null && e.state().getMode() == dev.lockstep.proto.lite.v1.StopMode.STOPPED ? e.state() : null;
    });
    assertThat(stopped.getOrdersCount()).isEqualTo(1);
    assertThat(agent.lastAckedSeq()).as("the routine events ahead of the mismatch went in with it")
        .isGreaterThan(acked + ahead);

    // room again: the spool drains and every event the agent spooled is stored exactly once
    collector.store().maxSpaceBytes(1L << 30);
    long spooled = agent.lastSpooledSeq();
    Eventually.await(WAIT, "host-f's spool drained", () -> agent.lastAckedSeq() >= spooled);
    Map<Long, Integer> counts = new HashMap<>();
    collector.store().scanEvents(0, e -> {
      if (e.agentId().equals("host-f")) counts.merge(e.event().getSeq(), 1, Integer::sum);
      return true;
    });
    for (long seq = 1; seq <= spooled; seq++) {
      assertThat(counts.get(seq)).as("host-f event %d stored once", seq).isEqualTo(1);
    }
  }

  @Test
  void aMismatchReportedWhileTheStoreIsFullWaitsInTheAgentsSpoolAndRaisesItsP0OnceThereIsRoom()
      throws Exception {
    start(0);
    collector.store().injectWriteFault("No space left on device");
    Path root = dir.resolve("agent-m");
    dev.lockstep.agent.Agent agent = realAgent("host-m", root, 1);
    mismatch(root, "run-m");
    Eventually.await(WAIT, "the agent was asked to hold its events", () ->
        progress.stream().anyMatch(l -> l.contains("collector asked to hold events")));
    assertThat(collector.space().state()).isEqualTo(StoreSpace.State.FAILED);
    long spooled = agent.lastSpooledSeq();
    assertThat(spooled).isPositive();
    assertThat(agent.lastAckedSeq()).as("nothing was acked while nothing could be stored").isLessThan(spooled);
    assertThat(collector.fleet().incidents().all()).noneMatch(i -> i.getKind() == IncidentKind.MISMATCH);

    collector.store().injectWriteFault(null);
    Incident p0 = Eventually.value(WAIT, "the mismatch's P0 once there is room", () -> mismatchIncident("run-m"));
    assertThat(p0.getSeverity()).isEqualTo(dev.lockstep.proto.v1.Severity.P0);
    assertThat(p0.getCount()).isEqualTo(1);
    Eventually.await(WAIT, "the agent's spool acked", () -> agent.lastAckedSeq() >= spooled);
  }
}
