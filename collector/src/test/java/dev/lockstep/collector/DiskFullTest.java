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

  static void send(RawAgent a, List<Event> events) {
    a.send(AgentFrame.newBuilder().setEvents(EventBatch.newBuilder().addAllEvents(events)).build());
  }

  long backoffs(RawAgent a) {
    return a.received.stream().filter(f -> f.hasBackoff()).count();
  }

  Incident storeIncident() {
    return collector.fleet().incidents().all().stream().filter(i -> i.getKind() == IncidentKind.COLLECTOR
        && i.getCategory().equals("STORE_SPACE")).findFirst().orElse(null);
  }

  @Test
  void atTheFloodStageRoutineEventsWaitInSpoolsWhileStopsAndMismatchesStillGoThrough() throws Exception {
    start(48L << 20);
    Random random = new Random(11);
    RawAgent filler = agent("filler");
    // fill: routine batches until the collector answers with a Backoff (flood stage)
    long seq = 0;
    while (backoffs(filler) == 0) {
      send(filler, routine(seq + 1, 250, random));
      seq += 250;
      long sent = seq;
      Eventually.await(WAIT, "batch answered", () -> filler.ackedUpTo() >= sent || backoffs(filler) > 0);
      if (seq > 200_000) throw new AssertionError("the store never reached its flood stage");
    }
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
    assertThat(a.received.stream().filter(f -> f.hasBackoff()).count()).as("the batch was held back").isPositive();
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

  @Test
  void aMismatchReportedWhileTheStoreIsFullWaitsInTheAgentsSpoolAndRaisesItsP0OnceThereIsRoom()
      throws Exception {
    start(0);
    collector.store().injectWriteFault("No space left on device");
    Path root = dir.resolve("agent-m");
    Path golden = root.resolve("golden");
    java.nio.file.Files.createDirectories(golden);
    List<String> progress = new java.util.concurrent.CopyOnWriteArrayList<>();
    var config = dev.lockstep.agent.config.AgentConfig.defaults("host-m", "127.0.0.1:" + collector.port(),
            root.resolve("state"))
        .withReconnect(Duration.ofMillis(100), Duration.ofMillis(400))
        .withGolden(new dev.lockstep.agent.config.AgentConfig.GoldenWatch(List.of(golden.toString()),
            "*.json", Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(500)))
        .withStopFile(root.resolve("run/EMERGENCY_STOP"))
        .withHooks("true", "true", null);
    dev.lockstep.agent.Agent agent = dev.lockstep.agent.Agent.start(config, Clock.systemUTC(), progress::add);
    realAgents.add(agent);
    Eventually.await(WAIT, "agent welcomed on a store that takes no writes", agent::isConnected);
    for (String role : List.of("primary", "shadow")) {
      java.nio.file.Files.writeString(golden.resolve("run-m." + role + ".golden.json"),
          "{\"format\":\"lockstep.golden/v1\",\"run_id\":\"run-m\",\"workflow\":\"billing\","
              + "\"role\":\"" + role + "\",\"seed\":42,\"timestamp\":\"2026-12-01T10:00:00Z\","
              + "\"duration_ms\":10,\"steps\":[{\"index\":0,\"name\":\"s\",\"kind\":\"compute\","
              + "\"output\":{\"n\":" + (role.equals("primary") ? 1 : 2) + "}}],\"output\":{}}");
    }
    Eventually.await(WAIT, "the agent was asked to hold its events", () ->
        progress.stream().anyMatch(l -> l.contains("collector asked to hold events")));
    assertThat(collector.space().state()).isEqualTo(StoreSpace.State.FAILED);
    long spooled = agent.lastSpooledSeq();
    assertThat(spooled).isPositive();
    assertThat(agent.lastAckedSeq()).as("nothing was acked while nothing could be stored").isLessThan(spooled);
    assertThat(collector.fleet().incidents().all()).noneMatch(i -> i.getKind() == IncidentKind.MISMATCH);

    collector.store().injectWriteFault(null);
    Incident p0 = Eventually.value(WAIT, "the mismatch's P0 once there is room", () ->
        collector.fleet().incidents().all().stream().filter(i -> i.getKind() == IncidentKind.MISMATCH
            && i.getRunIdsList().contains("run-m")).findFirst().orElse(null));
    assertThat(p0.getSeverity()).isEqualTo(dev.lockstep.proto.v1.Severity.P0);
    assertThat(p0.getCount()).isEqualTo(1);
    Eventually.await(WAIT, "the agent's spool acked", () -> agent.lastAckedSeq() >= spooled);
  }
}
