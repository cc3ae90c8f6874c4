package dev.lockstep.collector.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.Goldens;
import dev.lockstep.collector.config.ClusterConfig;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.core.Core;
import dev.lockstep.collector.core.CoreConfig;
import dev.lockstep.collector.core.Effect;
import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.correlate.CorrelationPolicy;
import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.store.v1.ClusterEvents;
import dev.lockstep.proto.store.v1.ClusterReply;
import dev.lockstep.proto.v1.AuditEntry;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopState;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster host's core task on Kafka Streams' test driver: what one input record writes to the
 * state store and the output topics (all in one Kafka transaction on a real cluster).
 */
class CoreProcessorTest {
  @TempDir Path dir;
  final Topics topics = new Topics("t");
  final Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
  final List<Effect> effects = new ArrayList<>();
  TopologyTestDriver driver;
  TestInputTopic<String, byte[]> events;
  TestInputTopic<String, byte[]> control;
  TestOutputTopic<String, byte[]> stops;
  TestOutputTopic<String, byte[]> replies;
  TestOutputTopic<String, byte[]> audit;
  long seq;

  void open() {
    CollectorConfig c = CollectorConfig.defaults(dir);
    Core core = new Core(new CoreConfig(CoreConfig.StopPolicy.FLEET,
        new CorrelationPolicy(Duration.ofMinutes(5), new CorrelationPolicy.Expected(
            List.of("primary", "shadow"), 0), Map.of()), 1 << 20, 10), new Random(7));
    var topology = CoreStreams.topology(topics, ClusterConfig.of("x:1", "c1").withReplication(1, 1),
        () -> new CoreProcessor(core, topics, clock, new CoreProcessor.Host() {
          @Override
          public void effects(List<Effect> list) {
            effects.addAll(list);
          }

          @Override
          public void running(boolean running) {}

          @Override
          public void failed(String what, Throwable t) {
            throw new AssertionError(what, t);
          }
        }, Duration.ofSeconds(1), c.retention()));
    Properties p = new Properties();
    p.put("application.id", topics.applicationId);
    p.put("bootstrap.servers", "unused:9092");
    p.put("state.dir", dir.resolve("streams").toString());
    driver = new TopologyTestDriver(topology, p);
    events = driver.createInputTopic(topics.events, new StringSerializer(), new ByteArraySerializer());
    control = driver.createInputTopic(topics.control, new StringSerializer(), new ByteArraySerializer());
    stops = driver.createOutputTopic(topics.stops, new StringDeserializer(), new ByteArrayDeserializer());
    replies = driver.createOutputTopic(topics.replies, new StringDeserializer(), new ByteArrayDeserializer());
    audit = driver.createOutputTopic(topics.audit, new StringDeserializer(), new ByteArrayDeserializer());
  }

  @AfterEach
  void close() {
    if (driver != null) driver.close();
  }

  void input(String key, Input in, String requestId) {
    control.pipeInput(key, ClusterInputs.encode(in).setRequestId(requestId).setCollectorId("c1")
        .build().toByteArray());
  }

  void hello(String agent) {
    input(agent, new Input.Hello(agent, -1, Map.of(), StopState.getDefaultInstance()), "hello-" + agent);
  }

  void mismatch(String agent, String run) {
    List<Event> e = List.of(Goldens.golden(++seq, Goldens.report(run, "wf", "primary", "a")),
        Goldens.golden(++seq, Goldens.report(run, "wf", "shadow", "b")));
    events.pipeInput(agent, ClusterEvents.newBuilder().setAgentId(agent).addAllEvents(e)
        .setIngestedAtMs(clock.millis()).setCollectorId("c1").build().toByteArray());
  }

  ClusterReply reply(String id) throws Exception {
    for (TestRecord<String, byte[]> r : replies.readRecordsToList()) {
      ClusterReply rep = ClusterReply.parseFrom(r.value());
      if (rep.getRequestId().equals(id)) return rep;
    }
    throw new AssertionError("no reply " + id);
  }

  Map<String, byte[]> stopRecords() {
    Map<String, byte[]> out = new java.util.TreeMap<>();
    stops.readKeyValuesToMap().forEach(out::put);
    return out;
  }

  @Test
  void aMismatchWritesItsIncidentOrderEveryStopStateAndAuditFromOneInput() throws Exception {
    open();
    hello("a1");
    hello("a2");
    assertThat(reply("hello-a1").getDesired().getMode()).isEqualTo(StopMode.RUNNING);
    stopRecords();
    mismatch("a1", "run-1");
    Map<String, byte[]> out = stopRecords();
    StopOrder order = null;
    for (var e : out.entrySet()) {
      if (e.getKey().startsWith("order/")) order = StopOrder.parseFrom(e.getValue());
    }
    assertThat(order).isNotNull();
    assertThat(order.getIncidentId()).isEqualTo("INC-000001");
    for (String a : List.of("a1", "a2")) {
      AgentStopRecord r = AgentStopRecord.parseFrom(out.get("agent/" + a));
      assertThat(r.getDesired().getMode()).isEqualTo(StopMode.STOPPED);
      assertThat(r.getDesired().getOrders(0).getId()).isEqualTo(order.getId());
    }
    List<String> actions = new ArrayList<>();
    for (var r : audit.readRecordsToList()) actions.add(AuditEntry.parseFrom(r.value()).getAction());
    assertThat(actions).contains("AutoStop");
    var store = driver.<String, byte[]>getKeyValueStore(Topics.STORE);
    assertThat(store.get("inc/INC-000001")).isNotNull();
    assertThat(store.get("order/" + order.getId())).isNotNull();
  }

  @Test
  void anEventBatchDeliveredTwiceIsProcessedOnce() throws Exception {
    open();
    hello("a1");
    mismatch("a1", "run-1");
    long before = seq;
    stopRecords();
    audit.readRecordsToList();
    seq -= 2; // the same events again (a gateway resent after losing Kafka's ack)
    mismatch("a1", "run-1");
    assertThat(seq).isEqualTo(before);
    assertThat(stopRecords()).isEmpty();
    assertThat(audit.readRecordsToList()).isEmpty();
    var store = driver.<String, byte[]>getKeyValueStore(Topics.STORE);
    assertThat(store.get("inc/INC-000002")).isNull();
  }

  @Test
  void aRefusedInputIsAnsweredAndWritesNothing() throws Exception {
    open();
    hello("a1");
    replies.readRecordsToList();
    input("operator", new Input.Resume(List.of(), true, " ", "alice", "operator", "127.0.0.1"), "r1");
    ClusterReply r = reply("r1");
    assertThat(r.getRefused().getCode()).isEqualTo("INVALID_ARGUMENT");
    assertThat(audit.readRecordsToList()).isEmpty();
  }

  @Test
  void onlyAnAckOfTheDesiredGenerationAndModeCounts() throws Exception {
    open();
    hello("a1");
    StopState desired = reply("hello-a1").getDesired();
    input("a1", new Input.Ack("a1", StopAck.newBuilder().setGeneration(desired.getGeneration() - 1)
        .setMode(desired.getMode()).setEnacted(true).setVerified(true).build()), "ack-wrong");
    assertThat(reply("ack-wrong").getCounted()).isFalse();
    input("a1", new Input.Ack("a1", StopAck.newBuilder().setGeneration(desired.getGeneration())
        .setMode(desired.getMode()).setEnacted(true).setVerified(true).build()), "ack-right");
    assertThat(reply("ack-right").getCounted()).isTrue();
    assertThat(AgentStopRecord.parseFrom(stopRecords().get("agent/a1")).getAck().getGeneration())
        .isEqualTo(desired.getGeneration());
  }

  @Test
  void aTaskStartingOnAnotherCollectorRebuildsItsIndexesFromTheStore() throws Exception {
    open();
    hello("a1");
    hello("a2");
    mismatch("a1", "run-1");
    var store = driver.<String, byte[]>getKeyValueStore(Topics.STORE);
    // what init() does after Kafka Streams restored the store from its changelog
    StreamsState restored = new StreamsState(store);
    assertThat(restored.activeOrders()).hasSize(1);
    assertThat(restored.agents()).containsExactly("a1", "a2");
    assertThat(restored.agentStop("a2").orElseThrow().getDesired().getMode())
        .isEqualTo(StopMode.STOPPED);
    assertThat(restored.openIncidents()).hasSize(1);
    assertThat(restored.processedSeq("a1", dev.lockstep.collector.core.Lane.DECISIVE)).isEqualTo(2);
    assertThat(restored.run("run-1").orElseThrow().incidentId()).isEqualTo("INC-000001");
  }

  @Test
  void anAckOfAHigherGenerationIsAnsweredWithTheSameStateAtAFreshGenerationOnTheStopsTopic()
      throws Exception {
    open();
    hello("a1");
    StopState desired = reply("hello-a1").getDesired();
    stopRecords();
    // the agent enacted a state an earlier incarnation sent: the same StopRules catch it up
    input("a1", new Input.Ack("a1", StopAck.newBuilder().setGeneration(desired.getGeneration() + 5)
        .setMode(desired.getMode()).setEnacted(true).setVerified(true).build()), "ack-ahead");
    assertThat(reply("ack-ahead").getCounted()).isFalse();
    StopState again = AgentStopRecord.parseFrom(stopRecords().get("agent/a1")).getDesired();
    assertThat(again.getMode()).isEqualTo(desired.getMode());
    assertThat(again.getGeneration()).isGreaterThan(desired.getGeneration())
        .as("from the collector's clock, never the agent's number").isNotEqualTo(desired.getGeneration() + 5);
  }

  @Test
  void anOrderAnAckSaysTheAgentHoldsIsAdoptedWithItsIncidentInTheSameTransaction() throws Exception {
    open();
    hello("a1");
    StopState desired = reply("hello-a1").getDesired();
    stopRecords();
    StopOrder failSafe = StopOrder.newBuilder().setId("ORD-000009-0123456789ab")
        .setReason("agent fail-safe: collector unreachable").setIssuedBy("agent:a1").build();
    input("a1", new Input.Ack("a1", StopAck.newBuilder().setGeneration(desired.getGeneration())
        .setMode(StopMode.STOPPED).setEnacted(true).setVerified(true).addHeldOrders(failSafe)
        .build()), "ack-held");
    reply("ack-held");
    Map<String, byte[]> out = stopRecords();
    assertThat(StopOrder.parseFrom(out.get("order/" + failSafe.getId())).getAdoptedFrom()).isEqualTo("a1");
    AgentStopRecord a1 = AgentStopRecord.parseFrom(out.get("agent/a1"));
    assertThat(a1.getDesired().getMode()).isEqualTo(StopMode.STOPPED);
    assertThat(a1.getDesired().getOrdersList()).extracting(StopOrder::getId).containsExactly(failSafe.getId());
    var store = driver.<String, byte[]>getKeyValueStore(Topics.STORE);
    assertThat(dev.lockstep.proto.v1.Incident.parseFrom(store.get("inc/INC-000001")).getCategory())
        .isEqualTo("STOP_ADOPTED");
    List<String> actions = new ArrayList<>();
    for (var r : audit.readRecordsToList()) actions.add(AuditEntry.parseFrom(r.value()).getAction());
    assertThat(actions).contains("StopAdopted");
  }
}
