package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EventBatch;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Hello;
import dev.lockstep.proto.v1.LogMatch;
import dev.lockstep.proto.v1.StopMode;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile input on the agent port. Each bad frame closes only its own stream with a clear status;
 * the collector keeps serving another agent and never loses events it already acked. (Hostile
 * golden files are covered by the golden module's parser tests and the CLI's verify tests; config
 * files and CLI arguments by cli's HostileInputTest.)
 */
class HostileFramesTest {
  @TempDir Path dir;
  Collector collector;
  final List<RawAgent> agents = new ArrayList<>();
  final List<String> progress = new CopyOnWriteArrayList<>();

  void start(CollectorConfig.Limits limits) throws Exception {
    collector = Collector.start(CollectorConfig.defaults(dir).withInsecure(true)
        .withListen("127.0.0.1", 0).withLimits(limits), Clock.systemUTC(), progress::add);
  }

  @AfterEach
  void stop() {
    agents.forEach(RawAgent::close);
    if (collector != null) collector.close();
  }

  RawAgent agent(String id) {
    RawAgent a = RawAgent.connect(collector.port(), id);
    agents.add(a);
    return a;
  }

  RawAgent silentStream() {
    RawAgent a = new RawAgent(collector.port(), "?");
    agents.add(a);
    return a;
  }

  static Event notice(long seq) {
    return Event.newBuilder().setSeq(seq).setNotice(AgentNotice.newBuilder()
        .setKind(AgentNotice.Kind.SPOOL_NEAR_CAP).setMessage("n" + seq)).build();
  }

  static AgentFrame batch(long... seqs) {
    EventBatch.Builder b = EventBatch.newBuilder();
    for (long s : seqs) b.addEvents(notice(s));
    return AgentFrame.newBuilder().setEvents(b).build();
  }

  static AgentFrame labelled(String id, Map<String, String> labels) {
    return AgentFrame.newBuilder().setHello(Hello.newBuilder().setAgentId(id).putAllLabels(labels)).build();
  }

  static Map<String, String> many(int n) {
    Map<String, String> labels = new HashMap<>();
    for (int i = 0; i < n; i++) labels.put("label-" + i, "v");
    return labels;
  }

  static AgentFrame hello(String id) {
    return AgentFrame.newBuilder().setHello(Hello.newBuilder().setAgentId(id).setHostname(id)).build();
  }

  /** A keeper agent with acked events, checked again after every hostile case. */
  final class Keeper {
    final RawAgent stream = agent("keeper");
    long acked;

    Keeper() {
      stream.await("keeper welcome", f -> f.hasWelcome());
      sendOne();
    }

    /** The collector still stores and acks this agent's next event. */
    void sendOne() {
      long seq = ++acked;
      stream.events(notice(seq));
      stream.await("keeper ack " + seq, f -> f.hasAck() && f.getAck().getUptoSeq() == seq);
    }

    /** A fresh stream's Welcome still says everything acked so far is stored. */
    void storedEverything(String context) {
      RawAgent probe = RawAgent.connect(collector.port(), "keeper");
      agents.add(probe);
      long stored = probe.await("probe welcome", f -> f.hasWelcome()).getWelcome().getAckedSeq();
      assertThat(stored).as(context).isEqualTo(acked);
      probe.complete();
    }
  }

  record Case(String name, Consumer<RawAgent> send, boolean helloFirst, Status.Code code,
      String description) {}

  @Test
  void eachBadFrameClosesOnlyItsStreamWithAClearStatusAndLosesNothing() throws Exception {
    start(CollectorConfig.Limits.DEFAULT);
    Keeper keeper = new Keeper();
    byte[] oversized = batch(1).toBuilder().setEvents(EventBatch.newBuilder().addEvents(
        Event.newBuilder().setSeq(1).setNotice(AgentNotice.newBuilder().setMessage("x".repeat(5 << 20)))))
        .build().toByteArray();
    EventBatch.Builder tooMany = EventBatch.newBuilder();
    for (int i = 1; i <= 501; i++) tooMany.addEvents(notice(i));
    List<Case> cases = List.of(
        new Case("garbage bytes", a -> a.sendBytes(new byte[] {(byte) 0xff, (byte) 0xff, 0x7f, 0x01}),
            false, Status.Code.INVALID_ARGUMENT, "is not a valid AgentFrame"),
        new Case("a frame before Hello", a -> a.send(batch(1)), false,
            Status.Code.INVALID_ARGUMENT, "the first frame must be Hello"),
        new Case("an empty frame before Hello", a -> a.sendBytes(new byte[0]), false,
            Status.Code.INVALID_ARGUMENT, "the first frame must be Hello"),
        new Case("an oversized frame", a -> a.sendBytes(oversized), true,
            Status.Code.RESOURCE_EXHAUSTED, "exceeds the limit of 4194304 bytes"),
        new Case("non-increasing seqs", a -> a.send(batch(3, 2)), true,
            Status.Code.INVALID_ARGUMENT, "seqs must strictly increase, got 2 after 3"),
        new Case("a repeated seq in one batch", a -> a.send(batch(1, 1)), true,
            Status.Code.INVALID_ARGUMENT, "seqs must strictly increase, got 1 after 1"),
        new Case("seq 0", a -> a.send(batch(0)), true,
            Status.Code.INVALID_ARGUMENT, "event seq must be positive"),
        new Case("501 events in one batch", a -> a.send(AgentFrame.newBuilder().setEvents(tooMany).build()),
            true, Status.Code.INVALID_ARGUMENT, "501 events, the limit is 500"),
        new Case("Hello twice", a -> a.send(hello(a.agentId)), true,
            Status.Code.INVALID_ARGUMENT, "Hello sent twice"),
        new Case("an empty frame after Hello", a -> a.sendBytes(new byte[0]), true,
            Status.Code.INVALID_ARGUMENT, "empty AgentFrame"),
        new Case("a malformed agent id", a -> a.send(hello("../../etc/passwd")), false,
            Status.Code.INVALID_ARGUMENT, "Hello.agent_id must match"),
        new Case("a huge malformed agent id", a -> a.send(hello("../" + "x".repeat(1_500_000))),
            false, Status.Code.INVALID_ARGUMENT, "got '../" + "x".repeat(137) + "…'"),
        new Case("an event without a body", a -> a.events(notice(1), Event.newBuilder().setSeq(2).build()),
            true, Status.Code.INVALID_ARGUMENT, "event seq 2: the event has no body"),
        new Case("a golden report without a run id", a -> a.events(notice(1), Goldens.golden(2,
            Goldens.report("", "wf", "primary", "a"))), true, Status.Code.INVALID_ARGUMENT,
            "event seq 2: GoldenReport.run_id is empty"),
        new Case("a golden report without a role", a -> a.events(Goldens.golden(1,
            Goldens.report("run-1", "wf", "", "a"))), true, Status.Code.INVALID_ARGUMENT,
            "event seq 1: GoldenReport.role is empty"),
        new Case("a hash in another form", a -> a.events(Goldens.golden(1,
            Goldens.report("run-1", "wf", "primary", "a").toBuilder().setCanonicalHash("d41d8cd9").build())),
            true, Status.Code.INVALID_ARGUMENT, "canonical_hash must be \"sha256:\" and 64"),
        new Case("a health sample without a probe", a -> a.events(Goldens.health(1,
            HealthSample.Probe.PROBE_UNSPECIFIED, "/", HealthSample.Level.CRITICAL)), true,
            Status.Code.INVALID_ARGUMENT, "HealthSample.probe is PROBE_UNSPECIFIED"));
    int n = 0;
    for (Case c : cases) {
      String id = "hostile-" + n++;
      RawAgent a = c.helloFirst() ? agent(id) : new RawAgent(collector.port(), id);
      if (!c.helloFirst()) agents.add(a);
      if (c.helloFirst()) a.await(c.name() + ": welcome", f -> f.hasWelcome());
      c.send().accept(a);
      Eventually.await(Duration.ofSeconds(10), c.name() + ": stream closed", () -> a.closedWith != null);
      assertThat(a.closedWith.getCode()).as(c.name()).isEqualTo(c.code());
      assertThat(a.closedWith.getDescription()).as(c.name()).contains(c.description())
          .hasSizeLessThan(1_000);
      assertThat(keeper.stream.closedWith).as(c.name() + ": keeper untouched").isNull();
      keeper.sendOne();
    }
    keeper.storedEverything("after every hostile case");
    assertThat(collector.metrics().eventsIngested.getLongValue()).isEqualTo(keeper.acked);
  }

  /** A stream with the real agent's inbound limit (agent Uplink: 4 MiB), so a larger frame ends it. */
  RawAgent agentWithAgentLimits(String id) {
    RawAgent a = new RawAgent(NettyChannelBuilder.forAddress("127.0.0.1", collector.port())
        .usePlaintext().maxInboundMessageSize(4 << 20).build(), id).hello();
    agents.add(a);
    return a;
  }

  /**
   * Two runs whose run ids total more than 4 MiB, each with a mismatch: stored, they would be
   * pinned, and every agent connecting afterwards would be sent a Pins frame over its 4 MiB
   * limit and lose its stream. Refused, they never get that far.
   */
  @Test
  void hugeRunIdsAreRefusedNamingTheirLengthAndEveryOtherAgentKeepsItsStream() throws Exception {
    start(CollectorConfig.Limits.DEFAULT);
    Keeper keeper = new Keeper();
    RawAgent bystander = agentWithAgentLimits("bystander");
    bystander.await("bystander pins", f -> f.hasPins());
    RawAgent hostile = agent("hostile");
    hostile.await("hostile welcome", f -> f.hasWelcome());
    hostile.report(Goldens.report("run-ok", "billing", "primary", "a"));
    hostile.await("hostile ack 1", f -> f.hasAck() && f.getAck().getUptoSeq() == 1);

    List<Status> refusals = new ArrayList<>();
    for (char c : new char[] {'a', 'b'}) {
      String run = String.valueOf(c).repeat(2_200_000);
      for (String role : List.of("primary", "shadow")) {
        RawAgent sender = hostile;
        sender.report(Goldens.report(run, "billing", role, role).toBuilder()
            .setPath("/golden/huge-" + c + "." + role + ".golden.json").build());
        Eventually.await(Duration.ofSeconds(10), "report of run " + c + " as " + role
            + " refused or acked", () -> sender.closedWith != null || sender.ackedUpTo() == sender.lastSeq());
        if (sender.closedWith == null) continue;
        refusals.add(sender.closedWith);
        hostile = agent("hostile");
        hostile.seq(hostile.await("hostile welcome again", f -> f.hasWelcome()).getWelcome().getAckedSeq());
      }
    }

    RawAgent late = agentWithAgentLimits("late");
    Eventually.await(Duration.ofSeconds(30), "late agent's pins or its stream's end",
        () -> late.closedWith != null || late.received.stream().anyMatch(f -> f.hasPins()));
    keeper.sendOne();
    assertThat(late.closedWith).as("a connecting agent keeps its stream").isNull();
    assertThat(bystander.closedWith).as("a connected agent keeps its stream").isNull();
    assertThat(refusals).as("every report with a huge run id is refused").hasSize(4)
        .allSatisfy(s -> {
          assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(s.getDescription())
              .contains("event seq 2: GoldenReport.run_id is 2200000 characters, the limit is 256")
              .hasSizeLessThan(1_000);
        });
    assertThat(hostile.await("welcome", f -> f.hasWelcome()).getWelcome().getAckedSeq())
        .as("what was acked before the refusals stays stored").isEqualTo(1);
    keeper.storedEverything("after the huge run ids");
  }

  @Test
  void labelsWithinTheLimitsAreAcceptedAndShown() throws Exception {
    start(CollectorConfig.Limits.DEFAULT);
    RawAgent a = new RawAgent(collector.port(), "labelled");
    agents.add(a);
    Map<String, String> labels = many(63);
    labels.put("workflows", "w".repeat(500) + ",billing");
    a.send(labelled("labelled", labels));
    a.await("welcome", f -> f.hasWelcome());
    assertThat(collector.fleet().agents().get("labelled").orElseThrow().getLabelsMap()).isEqualTo(labels);
  }

  /** {@code r} with a run engine hash and step 2's, each 300 characters. */
  static dev.lockstep.proto.v1.GoldenReport engineHashed(dev.lockstep.proto.v1.GoldenReport r,
      String step2) {
    return r.toBuilder().setEngineHash("r".repeat(300))
        .setSteps(2, r.getSteps(2).toBuilder().setEngineHash("e".repeat(299) + step2)).build();
  }

  /**
   * Engine hashes over 256 characters are never refused (the run would never be compared) nor
   * cut (hashes cut to the same start would read equal): each is kept as its digest. Equal ones
   * still match; a step's that differs only past 256 characters is still a VOLATILE_LEAK, and the
   * fleet stops.
   */
  @Test
  void engineHashesOverTheLimitAreComparedWholeAndADifferingOneStopsTheFleet() throws Exception {
    start(CollectorConfig.Limits.DEFAULT);
    RawAgent primary = agent("primary-host");
    RawAgent shadow = agent("shadow-host");
    primary.await("primary welcome", f -> f.hasWelcome());
    shadow.await("shadow welcome", f -> f.hasWelcome());
    primary.report(engineHashed(Goldens.report("run-same", "wf", "primary", "a"), "1"));
    shadow.report(engineHashed(Goldens.report("run-same", "wf", "shadow", "a"), "1"));
    Eventually.await(Duration.ofSeconds(10), "run-same decided", () -> collector.fleet().runs()
        .get("run-same").map(r -> r.verdict() != dev.lockstep.collector.correlate.Verdict.PENDING).orElse(false));
    assertThat(collector.fleet().runs().get("run-same").orElseThrow().verdict())
        .isEqualTo(dev.lockstep.collector.correlate.Verdict.MATCH);

    primary.report(engineHashed(Goldens.report("run-leak", "wf", "primary", "a"), "1"));
    shadow.report(engineHashed(Goldens.report("run-leak", "wf", "shadow", "a"), "2"));
    primary.await("the fleet stopped", f -> f.hasStop() && f.getStop().getState().getMode() == StopMode.STOPPED);
    assertThat(primary.closedWith).isNull();
    assertThat(shadow.closedWith).isNull();
    var run = collector.fleet().runs().get("run-leak").orElseThrow();
    assertThat(run.verdict()).isEqualTo(dev.lockstep.collector.correlate.Verdict.MISMATCH);
    assertThat(run.category()).isEqualTo("VOLATILE_LEAK");
    assertThat(run.replicas()).allSatisfy(r -> {
      assertThat(r.summary().engineHash()).startsWith("digest-sha256:").hasSize(78);
      assertThat(r.summary().steps().get(2).engineHash()).startsWith("digest-sha256:").hasSize(78);
    });
  }

  /** The labels an agent's directory row shows once a Hello saying {@code labels} is welcomed. */
  Map<String, String> welcomedWith(String id, Map<String, String> labels) {
    RawAgent a = new RawAgent(collector.port(), id);
    agents.add(a);
    a.send(labelled(id, labels));
    a.await(id + ": welcome", f -> f.hasWelcome());
    assertThat(a.closedWith).as(id).isNull();
    return collector.fleet().agents().get(id).orElseThrow().getLabelsMap();
  }

  /**
   * Labels over the limits are bounded, never refused: an agent that cannot connect cannot be
   * stopped. Its directory row keeps 64 labels (the workflows label and the first others by
   * key), keys and values cut with the marker naming their length.
   */
  @Test
  void helloLabelsOverTheLimitsAreWelcomedAndKeptBounded() throws Exception {
    start(CollectorConfig.Limits.DEFAULT);
    Keeper keeper = new Keeper();
    Map<String, String> crowd = many(70);
    crowd.put("workflows", "billing");
    Map<String, String> kept = welcomedWith("crowded", crowd);
    assertThat(kept).hasSize(64).containsEntry("workflows", "billing")
        .containsKeys("label-0", "label-1", "label-10").doesNotContainKey("label-9");
    assertThat(welcomedWith("crowded-again", crowd)).as("the same labels on every Hello").isEqualTo(kept);

    Map<String, String> longKey = welcomedWith("long-key", Map.of("k".repeat(2_000_000), "v"));
    assertThat(longKey).hasSize(1);
    assertThat(longKey.keySet().iterator().next()).hasSize(128).startsWith("kkk")
        .endsWith("… [cut: 2000000 characters]");
    assertThat(welcomedWith("long-value", Map.of("zone", "z".repeat(2_000_000))).get("zone"))
        .hasSize(1024).startsWith("zzz").endsWith("… [cut: 2000000 characters]");
    assertThat(welcomedWith("long-workflows", Map.of("workflows", "w,".repeat(40_000))))
        .as("a cut list would leave the agent outside a stop of a workflow it runs")
        .containsExactly(Map.entry("workflows", "*"));
    assertThat(collector.fleet().stopRecord("long-workflows").orElseThrow().getLabelAllWorkflows()).isTrue();
    assertThat(collector.fleet().agents().get("long-value").orElseThrow().getSerializedSize())
        .isLessThan(4_000);
    keeper.sendOne();
    keeper.storedEverything("after the labelled agents");
  }

  @Test
  void aHugeHostnameIsCutInTheConnectLineAndTheAgentDirectory() throws Exception {
    start(CollectorConfig.Limits.DEFAULT);
    RawAgent a = new RawAgent(collector.port(), "big-host");
    agents.add(a);
    a.send(AgentFrame.newBuilder().setHello(Hello.newBuilder().setAgentId("big-host")
        .setHostname("h".repeat(3_000_000)).setVersion("v".repeat(1_000_000))).build());
    a.await("welcome", f -> f.hasWelcome());
    String line = Eventually.value(Duration.ofSeconds(10), "connect line", () -> progress.stream()
        .filter(l -> l.startsWith("agent big-host connected")).findFirst().orElse(null));
    assertThat(line).contains("(hostname " + "h".repeat(256) + "…,").hasSizeLessThan(1_000);
    var row = collector.fleet().agents().get("big-host").orElseThrow();
    assertThat(row.getHostname()).isEqualTo("h".repeat(256) + "…");
    assertThat(row.getVersion()).isEqualTo("v".repeat(256) + "…");
  }

  /**
   * Descriptive text as long as a frame allows: a log match with a 3 MB line still stops the
   * fleet, and what is stored, kept in incidents and the directory, is cut with a marker; the
   * batch is acked, never refused (a refusal would hold back every later event of the agent).
   */
  @Test
  void hugeLogLinesHealthTextAndNoticesAreStoredCutAndAHugeMismatchLineStillStops() throws Exception {
    start(CollectorConfig.Limits.DEFAULT);
    RawAgent a = agent("wordy");
    a.await("welcome", f -> f.hasWelcome());
    String huge = "x".repeat(1_000_000);
    a.events(Event.newBuilder().setSeq(1).setHealth(HealthSample.newBuilder()
            .setProbe(HealthSample.Probe.DISK).setLevel(HealthSample.Level.CRITICAL)
            .setTarget("/data").setSummary("disk /data full " + huge)).build(),
        Event.newBuilder().setSeq(2).setNotice(AgentNotice.newBuilder()
            .setKind(AgentNotice.Kind.FATAL_ERROR).setMessage("fatal " + huge)).build(),
        Event.newBuilder().setSeq(3).setLogMatch(LogMatch.newBuilder()
            .setKind(LogMatch.Kind.MISMATCH_COUNT).setCount(2).setPath("/var/log/engine.log")
            .setLine("CRITICAL: 2 mismatch errors found " + huge)).build());
    a.await("ack 3", f -> f.hasAck() && f.getAck().getUptoSeq() == 3);
    a.await("the fleet stopped", f -> f.hasStop() && f.getStop().getState().getMode() == StopMode.STOPPED);
    List<Event> stored = new ArrayList<>();
    collector.store().scanEvents(0, e -> stored.add(e.event()));
    assertThat(stored).hasSize(3).allSatisfy(e -> assertThat(e.getSerializedSize()).isLessThan(5_000));
    assertThat(stored.get(2).getLogMatch().getLine()).startsWith("CRITICAL: 2 mismatch errors found xxx")
        .endsWith("… [cut: 1000034 characters]");
    // the routine lane (health, notice) is decided after the decisive one (the log match)
    Eventually.await(Duration.ofSeconds(10), "three incidents",
        () -> collector.fleet().incidents().all().size() == 3);
    assertThat(collector.fleet().incidents().all())
        .allSatisfy(i -> assertThat(i.getSerializedSize()).isLessThan(6_000));
    assertThat(collector.fleet().agents().get("wordy").orElseThrow().getSerializedSize())
        .isLessThan(6_000);
  }

  @Test
  void anAgentOverItsEventRateGetsResourceExhaustedAndItsBatchIsNotAcked() throws Exception {
    start(new CollectorConfig.Limits(100, 100, 100, Duration.ofHours(1)));
    Keeper keeper = new Keeper();
    RawAgent flood = agent("flood");
    flood.await("welcome", f -> f.hasWelcome());
    long[] seqs = new long[150];
    for (int i = 0; i < seqs.length; i++) seqs[i] = i + 1;
    flood.send(batch(seqs));
    Eventually.await(Duration.ofSeconds(10), "flood closed", () -> flood.closedWith != null);
    assertThat(flood.closedWith.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(flood.closedWith.getDescription()).contains("more than 100 events/s");
    assertThat(flood.ackedUpTo()).isEqualTo(-1);
    assertThat(collector.metrics().rejectedFrames.labelValues("rate_limited").getLongValue()).isEqualTo(1);
    RawAgent again = agent("flood");
    assertThat(again.await("welcome", f -> f.hasWelcome()).getWelcome().getAckedSeq())
        .as("the refused batch was not stored; the agent resends it").isZero();
    keeper.sendOne();
    keeper.storedEverything("after the flood");
  }

  /**
   * Few events but large ones: the byte budget (here 1 MiB/s, bursts of two full frames) closes
   * the stream once it is spent, the batch that overdrew it is not stored, other agents go on.
   */
  @Test
  void anAgentOverItsByteRateGetsResourceExhaustedAndItsBatchIsNotStored() throws Exception {
    start(new CollectorConfig.Limits(100, 20_000, 40_000, Duration.ofHours(1), 1 << 20));
    Keeper keeper = new Keeper();
    RawAgent bulky = agent("bulky");
    bulky.await("welcome", f -> f.hasWelcome());
    String text = "x".repeat(7 << 10);
    long seq = 0;
    for (int b = 0; b < 10 && bulky.closedWith == null; b++) {
      EventBatch.Builder batch = EventBatch.newBuilder();
      for (int i = 0; i < 500; i++) {
        Event e = notice(++seq);
        batch.addEvents(e.toBuilder().setNotice(e.getNotice().toBuilder().setMessage(text)));
      }
      bulky.send(AgentFrame.newBuilder().setEvents(batch).build());
    }
    long sent = seq;
    Eventually.await(Duration.ofSeconds(20), "bulky closed", () -> bulky.closedWith != null);
    assertThat(bulky.closedWith.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(bulky.closedWith.getDescription()).contains("more than 1 MiB/s of events");
    assertThat(collector.metrics().rejectedFrames.labelValues("rate_limited_bytes").getLongValue()).isEqualTo(1);
    RawAgent again = agent("bulky");
    long stored = again.await("welcome", f -> f.hasWelcome()).getWelcome().getAckedSeq();
    assertThat(stored).as("the burst went in, the batch over it did not").isBetween(1L, sent - 500);
    keeper.sendOne();
    keeper.storedEverything("after the bulky agent");
  }

  @Test
  void streamsBeyondTheLimitAreRefusedAndAKnownAgentMayStillReconnect() throws Exception {
    start(new CollectorConfig.Limits(2, 20_000, 40_000, Duration.ofHours(1)));
    Keeper keeper = new Keeper();
    // streams the collector itself closes (a garbage frame, a second Hello) give their slot back
    for (int i = 0; i < 3; i++) {
      RawAgent bad = agent("bad-" + i);
      bad.await("welcome", f -> f.hasWelcome());
      bad.sendBytes(new byte[] {(byte) 0xff, 1, 2});
      Eventually.await(Duration.ofSeconds(10), "bad stream closed", () -> bad.closedWith != null);
      assertThat(bad.closedWith.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
    Eventually.await(Duration.ofSeconds(10), "slots released", () -> collector.fleet().connectedCount() == 1);
    RawAgent second = agent("second");
    second.await("welcome", f -> f.hasWelcome());
    RawAgent third = agent("third");
    Eventually.await(Duration.ofSeconds(10), "third refused", () -> third.closedWith != null);
    assertThat(third.closedWith.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(third.closedWith.getDescription()).contains("agents.max_streams 2");
    assertThat(collector.metrics().rejectedFrames.labelValues("too_many_streams").getLongValue()).isEqualTo(1);
    RawAgent secondAgain = agent("second");
    secondAgain.await("a replacing stream is welcome", f -> f.hasWelcome());
    keeper.sendOne();
    keeper.storedEverything("at the stream limit");
  }

  /**
   * Property: whatever bytes arrive as an AgentFrame (pure noise, or a valid frame with bytes
   * flipped), the collector answers on that stream only and keeps serving. Seeded, so a failure
   * names the seed and case that reproduce it.
   */
  @Test
  void randomFramesNeverStopTheCollectorFromServing() throws Exception {
    start(CollectorConfig.Limits.DEFAULT);
    Keeper keeper = new Keeper();
    long seed = Long.getLong("lockstep.seed", System.nanoTime());
    Random random = new Random(seed);
    byte[] valid = batch(1, 2, 3).toByteArray();
    for (int i = 0; i < 150; i++) {
      String context = "seed " + seed + ", case " + i;
      byte[] bytes;
      if (random.nextBoolean()) {
        bytes = new byte[random.nextInt(64)];
        random.nextBytes(bytes);
      } else {
        bytes = valid.clone();
        for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
          bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
        }
      }
      RawAgent a = random.nextBoolean() ? agent("fuzz-" + i) : new RawAgent(collector.port(), "fuzz-" + i);
      if (!agents.contains(a)) agents.add(a);
      a.sendBytes(bytes);
      if (i % 10 == 9) {
        keeper.sendOne();
        assertThat(keeper.stream.closedWith).as(context).isNull();
      }
    }
    keeper.sendOne();
    keeper.storedEverything("seed " + seed);
    agents.forEach(RawAgent::close);
    agents.clear();
    RawAgent fresh = agent("fresh");
    assertThat(fresh.await("seed " + seed + ": a new agent is still welcome", f -> f.hasWelcome()))
        .isNotNull();
  }
}
