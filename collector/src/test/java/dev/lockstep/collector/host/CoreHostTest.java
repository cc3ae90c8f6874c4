package dev.lockstep.collector.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.Eventually;
import dev.lockstep.collector.Goldens;
import dev.lockstep.collector.core.Core;
import dev.lockstep.collector.core.CoreConfig;
import dev.lockstep.collector.core.Effect;
import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.core.Lane;
import dev.lockstep.collector.correlate.CorrelationPolicy;
import dev.lockstep.collector.incident.Incidents;
import dev.lockstep.collector.store.AuditLog;
import dev.lockstep.collector.store.RocksRunStateStore;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.IncidentKind;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded host's inbox: priorities, the routine spill to the store, replay. */
class CoreHostTest {
  @TempDir Path dir;

  record Host(Store store, StoreState state, CoreHost host, List<Effect> effects,
      AtomicInteger spills) implements AutoCloseable {
    @Override
    public void close() {
      host.close();
      store.close();
    }
  }

  Host open(int capacity, java.util.function.Consumer<List<Effect>> extra) throws Exception {
    Store store = Store.open(dir.resolve("db"), false, 16 << 20, 16 << 20);
    AuditLog audit = new AuditLog(store, Clock.systemUTC());
    StoreState state = new StoreState(store, new RocksRunStateStore(store), new Incidents(store), audit);
    List<Effect> effects = new CopyOnWriteArrayList<>();
    AtomicInteger spills = new AtomicInteger();
    Core core = new Core(new CoreConfig(CoreConfig.StopPolicy.FLEET,
        CorrelationPolicy.primaryShadow(Duration.ofMinutes(5)), 1 << 20, 10), new Random(1));
    CoreHost host = new CoreHost(core, state, store, Clock.systemUTC(), e -> {
      effects.addAll(e);
      extra.accept(e);
    }, new CoreHost.Monitor() {
      @Override
      public void committed(int changes, boolean sync, double seconds) { }

      @Override
      public void queueDepth(int controlItems, int events) { }

      @Override
      public void failed(String what, Throwable t) { }

      @Override
      public void spilled(boolean on) {
        if (on) spills.incrementAndGet();
      }

      @Override
      public void caughtUp(int scanned, int taken) {
        scannedPerStep.add(scanned);
      }
    }, capacity);
    return new Host(store, state, host, effects, spills);
  }

  /** Store entries read by each step of reading spilled events back. */
  final List<Integer> scannedPerStep = new CopyOnWriteArrayList<>();

  static Event health(long seq, HealthSample.Level level) {
    return Goldens.health(seq, HealthSample.Probe.DISK, "/data", level);
  }

  @Test
  void aMismatchOvertakesARoutineBacklogOnItsWayToTheStop() throws Exception {
    AtomicLong routineLeftAtDecision = new AtomicLong(-1);
    CoreHost[] ref = new CoreHost[1];
    try (Host h = open(1_000_000, effects -> {
      for (Effect e : effects) {
        if (e instanceof Effect.IncidentChanged i && i.incident().getKind() == IncidentKind.MISMATCH) {
          routineLeftAtDecision.compareAndSet(-1, ref[0].depth()[2]);
        }
      }
    })) {
      ref[0] = h.host();
      // a backlog of 100,000 routine events is queued first, the mismatching pair after it
      List<Event> backlog = new ArrayList<>();
      for (long seq = 1; seq <= 100_000; seq++) {
        backlog.add(health(seq, HealthSample.Level.OK));
        if (backlog.size() == 500) {
          h.host().submitEvents(new Input.Events("host-a", Lane.ROUTINE, backlog, 1), () -> { });
          backlog.clear();
        }
      }
      h.host().submitEvents(new Input.Events("host-b", Lane.DECISIVE, List.of(
          Goldens.golden(1, Goldens.report("run-1", "wf", "primary", "a")),
          Goldens.golden(2, Goldens.report("run-1", "wf", "shadow", "b"))), 2), () -> { });
      h.host().start();
      Eventually.await(Duration.ofSeconds(30), "the decision", () -> routineLeftAtDecision.get() >= 0);
      assertThat(routineLeftAtDecision.get()).as("routine events still queued when the mismatch was decided")
          .isEqualTo(100_000);
      assertThat(h.state().activeOrders()).as("its stop order").hasSize(1);
      Eventually.await(Duration.ofSeconds(60), "backlog processed", () ->
          h.state().processedSeq("host-a", Lane.ROUTINE) == 100_000);
    }
  }

  private static List<java.util.concurrent.CompletableFuture<Object>> acks(Host h, int from, int n) {
    List<java.util.concurrent.CompletableFuture<Object>> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      out.add(h.host().submit(new Input.Ack("agent-" + i, dev.lockstep.proto.v1.StopAck.newBuilder()
          .setGeneration(1).setMode(dev.lockstep.proto.v1.StopMode.STOPPED).setEnacted(true)
          .setVerified(true).build())));
    }
    return out;
  }

  /** Holds the core thread busy until the returned latch is counted down. */
  private static java.util.concurrent.CountDownLatch holdCore(Host h) throws Exception {
    h.host().start();
    return holdStartedCore(h);
  }

  /** {@link #holdCore} for a core already started. */
  private static java.util.concurrent.CountDownLatch holdStartedCore(Host h) throws Exception {
    java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    h.host().runOnCore(() -> {
      started.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertThat(started.await(30, java.util.concurrent.TimeUnit.SECONDS)).as("core held").isTrue();
    return release;
  }

  private static void mismatch(Host h, String run) {
    h.host().submitEvents(new Input.Events("host-b", Lane.DECISIVE, List.of(
        Goldens.golden(1, Goldens.report(run, "wf", "primary", "a")),
        Goldens.golden(2, Goldens.report(run, "wf", "shadow", "b"))), 2), () -> { });
  }

  /**
   * A fleet acking a stop queues thousands of acks on the core; the next mismatch is decided
   * before them (an ack issues and resumes nothing), not after as many transactions.
   */
  @Test
  void aMismatchIsDecidedAheadOfAFleetsQueuedAcks() throws Exception {
    AtomicLong acksDoneAtDecision = new AtomicLong(-1);
    List<java.util.concurrent.CompletableFuture<Object>> acks = new ArrayList<>();
    try (Host h = open(1_000_000, effects -> {
      for (Effect e : effects) {
        if (e instanceof Effect.IncidentChanged i && i.incident().getKind() == IncidentKind.MISMATCH) {
          acksDoneAtDecision.compareAndSet(-1, acks.stream().filter(f -> f.isDone()).count());
        }
      }
    })) {
      java.util.concurrent.CountDownLatch release = holdCore(h);
      acks.addAll(acks(h, 0, 2_000));
      mismatch(h, "run-1");
      assertThat(acks).as("queued, not refused").noneMatch(f -> f.isDone());
      release.countDown();
      Eventually.await(Duration.ofSeconds(30), "the decision", () -> acksDoneAtDecision.get() >= 0);
      assertThat(acksDoneAtDecision.get()).as("acks taken before the mismatch was decided").isZero();
      Eventually.await(Duration.ofSeconds(30), "every ack taken",
          () -> acks.stream().allMatch(f -> f.isDone()));
      assertThat(acks).as("taken, not failed").noneMatch(f -> f.isCompletedExceptionally());
      assertThat(h.state().activeOrders()).as("its stop order").hasSize(1);
    }
  }

  /**
   * Any other control input keeps its place ahead of a mismatch: an operator's resume of all
   * orders, queued among acks before the mismatch arrived, must not resume the order that the
   * mismatch issues.
   */
  @Test
  void anOperatorsResumeQueuedBeforeAMismatchIsTakenBeforeIt() throws Exception {
    try (Host h = open(1_000_000, effects -> { })) {
      h.host().start();
      String drill = ((dev.lockstep.proto.v1.StopOrder) h.host().submit(new Input.IssueOrder(
          dev.lockstep.proto.v1.StopScope.newBuilder().setFleet(true).build(), "drill", "alice",
          "operator", "")).get(30, java.util.concurrent.TimeUnit.SECONDS)).getId();
      java.util.concurrent.CountDownLatch release = holdStartedCore(h);
      List<java.util.concurrent.CompletableFuture<Object>> all = new ArrayList<>();
      all.addAll(acks(h, 0, 300));
      // every order, as the operator saw them: the drill
      all.add(h.host().submit(new Input.Resume(List.of(drill), true, "drill over", "alice", "operator", "")));
      all.addAll(acks(h, 300, 300));
      mismatch(h, "run-1");
      assertThat(all).as("queued, not refused").noneMatch(f -> f.isDone());
      release.countDown();
      Eventually.await(Duration.ofSeconds(30), "every control input taken",
          () -> all.stream().allMatch(f -> f.isDone()));
      assertThat(all).as("taken, not failed").noneMatch(f -> f.isCompletedExceptionally());
      Eventually.await(Duration.ofSeconds(30), "the mismatch's order",
          () -> h.state().activeOrders().size() == 1);
      assertThat(h.state().activeOrders()).singleElement()
          .satisfies(o -> assertThat(o.getReason()).doesNotContain("drill"));
    }
  }

  @Test
  void routineEventsSpilledToTheStoreAreProcessedInOrderExactlyOnce() throws Exception {
    int agents = 8;
    int perAgent = 6_000;
    try (Host h = open(1_000, e -> { })) {
      // the first half before the core runs: 24,000 events against a queue of 1,000 must spill
      // (fed while it ran, a fast core could keep up and nothing spilled: a flaky assertion)
      feed(h, agents, 1, perAgent / 2);
      assertThat(h.spills().get()).as("the routine queue spilled").isPositive();
      h.host().start();
      feed(h, agents, perAgent / 2 + 1, perAgent);
      Eventually.await(Duration.ofSeconds(60), "caught up", () -> {
        for (int a = 0; a < agents; a++) {
          if (h.state().processedSeq("agent-" + a, Lane.ROUTINE) != perAgent) return false;
        }
        return h.host().lagMillis() == 0;
      });
      checkIncidents(h, agents);
    }
  }

  @Test
  void aCrashWhileSpilledLeavesNothingForReplayToLoseOrDouble() throws Exception {
    int agents = 6;
    int perAgent = 6_000;
    try (Host h = open(1_000, e -> { })) {
      feed(h, agents, 1, perAgent / 2);
      assertThat(h.spills().get()).as("the routine queue spilled").isPositive();
      h.host().start();
      feed(h, agents, perAgent / 2 + 1, perAgent);
      h.host().checkpoint();
      // the host goes away (its thread stops mid-catch-up), the store stays
    }
    try (Host again = open(1_000, e -> { })) {
      int replayed = again.host().replay();
      assertThat(replayed).isGreaterThanOrEqualTo(0);
      for (int a = 0; a < agents; a++) {
        assertThat(again.state().processedSeq("agent-" + a, Lane.ROUTINE)).isEqualTo(perAgent);
      }
      checkIncidents(again, agents);
    }
  }

  /**
   * Seqs {@code from..to} (batches of 500) of each agent's health samples, stored like ingest does;
   * each agent reports its disk critical once (seq 4000) among OK samples.
   */
  /**
   * Reading spilled events back starts a little before the spill, over events the live path
   * processed already (in the fleet bench, 2 s of them at 200k events/s): a step reads a bounded
   * number of store entries, not only of events it takes, since a decisive event waits for the
   * step under way (seen: steps of 100-500 ms in the loaded phase).
   */
  @Test
  void readingSpilledEventsBackTakesBoundedStepsOverEventsProcessedAlready() throws Exception {
    try (Host h = open(1_000, e -> { })) {
      h.host().start();
      // 10,000 events processed as they come (each batch waited for, so nothing spills), all
      // stamped with one ingest time, so all are within the read-back's slack
      for (long start = 1; start <= 10_000; start += 500) {
        ingest(h, "agent-0", start, 500);
        long last = start + 499;
        Eventually.await(Duration.ofSeconds(30), "batch up to " + last + " processed",
            () -> h.state().processedSeq("agent-0", Lane.ROUTINE) == last);
      }
      assertThat(h.spills().get()).as("nothing spilled yet").isZero();
      // a batch larger than the queue spills at once, and is read back from the store
      ingest(h, "agent-0", 10_001, 1_500);
      assertThat(h.spills().get()).as("the large batch spilled").isPositive();
      Eventually.await(Duration.ofSeconds(30), "caught up", () ->
          h.state().processedSeq("agent-0", Lane.ROUTINE) == 11_500 && h.host().lagMillis() == 0);
      assertThat(scannedPerStep.stream().mapToInt(Integer::intValue).sum())
          .as("entries read back: the 10,000 processed already and the 1,500 spilled")
          .isGreaterThanOrEqualTo(11_500);
      assertThat(scannedPerStep).as("entries read per step").allSatisfy(n ->
          assertThat(n).isLessThanOrEqualTo(2_000));
    }
  }

  /** Stores {@code n} routine events of {@code agent} from {@code from} on and hands them to the host. */
  private static void ingest(Host h, String agent, long from, int n) throws Exception {
    List<Event> batch = new ArrayList<>();
    for (long seq = from; seq < from + n; seq++) batch.add(health(seq, HealthSample.Level.OK));
    long at = h.store().ingestMillis(1_000_000);
    h.store().ingest(agent, batch, at, r -> h.host().submitEvents(
        new Input.Events(agent, Lane.ROUTINE, r.stored(), at), () -> { }));
  }

  private static void feed(Host h, int agents, long from, long to) throws Exception {
    for (long start = from; start <= to; start += 500) {
      for (int a = 0; a < agents; a++) {
        String id = "agent-" + a;
        List<Event> batch = new ArrayList<>();
        for (long seq = start; seq < start + 500; seq++) {
          batch.add(health(seq, seq == 4_000 ? HealthSample.Level.CRITICAL : HealthSample.Level.OK));
        }
        long at = h.store().ingestMillis(System.currentTimeMillis());
        h.store().ingest(id, batch, at, r -> h.host().submitEvents(
            new Input.Events(id, Lane.ROUTINE, r.stored(), at), () -> { }));
      }
    }
  }

  private static void checkIncidents(Host h, int agents) {
    var disk = h.state().incidents().all().stream().filter(i -> i.getKind() == IncidentKind.DISK_FULL).toList();
    assertThat(disk).as("one disk incident per agent").hasSize(agents);
    assertThat(disk).allSatisfy(i -> assertThat(i.getCount()).as(i.getId() + " counted once").isEqualTo(1));
  }
}
