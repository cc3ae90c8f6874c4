package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EventBatch;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.AgentNotice;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatewayTest {
  @TempDir Path dir;
  Collector collector;
  final List<RawAgent> agents = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    collector = Collector.start(CollectorConfig.defaults(dir).withInsecure(true).withListen("127.0.0.1", 0),
        Clock.systemUTC(), line -> { });
  }

  @AfterEach
  void stop() {
    agents.forEach(RawAgent::close);
    collector.close();
  }

  RawAgent agent(String id) {
    RawAgent a = RawAgent.connect(collector.port(), id);
    agents.add(a);
    return a;
  }

  static Event notice(long seq) {
    return Event.newBuilder().setSeq(seq).setNotice(AgentNotice.newBuilder()
        .setKind(AgentNotice.Kind.SPOOL_NEAR_CAP).setMessage("n" + seq)).build();
  }

  @Test
  void welcomeCarriesLimitsAndTheStoredHighWaterMark() {
    RawAgent a = agent("host-a");
    var w = a.await("welcome", f -> f.hasWelcome()).getWelcome();
    assertThat(w.getAckedSeq()).isZero();
    assertThat(w.getMaxBatchEvents()).isEqualTo(500);
    assertThat(w.getMaxFrameBytes()).isEqualTo(4 * 1024 * 1024);
    a.events(notice(1), notice(2), notice(3));
    a.await("ack 3", f -> f.hasAck() && f.getAck().getUptoSeq() == 3);
    a.close();
    RawAgent again = agent("host-a");
    assertThat(again.await("welcome", f -> f.hasWelcome()).getWelcome().getAckedSeq()).isEqualTo(3);
  }

  @Test
  void duplicateSeqsAreAckedButStoredOnce() {
    RawAgent a = agent("host-a");
    a.events(notice(1), notice(2));
    a.await("ack 2", f -> f.hasAck() && f.getAck().getUptoSeq() == 2);
    a.events(notice(2), notice(3));
    a.await("ack 3", f -> f.hasAck() && f.getAck().getUptoSeq() == 3);
    a.events(notice(1));
    Eventually.await(Duration.ofSeconds(5), "three acks", () ->
        a.received.stream().filter(f -> f.hasAck()).count() >= 3);
    assertThat(collector.metrics().eventsIngested.getLongValue()).isEqualTo(3);
    assertThat(collector.metrics().duplicatesDropped.getLongValue()).isEqualTo(2);
  }

  @Test
  void aSeqSkippedBelowTheHighWaterMarkIsRefusedNamingItNeverAckedAndItsBatchNotStored() {
    RawAgent a = agent("host-a");
    a.events(notice(1), notice(2));
    a.events(notice(5));
    a.await("ack 5", f -> f.hasAck() && f.getAck().getUptoSeq() == 5);
    a.events(notice(3), notice(6));
    Eventually.await(Duration.ofSeconds(10), "stream closed", () -> a.closedWith != null);
    assertThat(a.closedWith.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(a.closedWith.getDescription()).contains("event seq 3").contains("never stored")
        .contains("batch not stored");
    assertThat(a.ackedUpTo()).isEqualTo(5);
    assertThat(collector.metrics().eventsIngested.getLongValue()).isEqualTo(3);
    RawAgent again = agent("host-a");
    assertThat(again.await("welcome", f -> f.hasWelcome()).getWelcome().getAckedSeq())
        .as("seq 6 of the refused batch was not stored").isEqualTo(5);
    again.events(notice(5), notice(6));
    again.await("ack 6", f -> f.hasAck() && f.getAck().getUptoSeq() == 6);
    assertThat(collector.metrics().eventsIngested.getLongValue()).isEqualTo(4);
    assertThat(again.closedWith).isNull();
  }

  @Test
  void aGarbageFrameClosesOnlyThatStreamWithInvalidArgument() {
    RawAgent good = agent("good");
    RawAgent bad = agent("bad");
    good.await("welcome", f -> f.hasWelcome());
    bad.await("welcome", f -> f.hasWelcome());
    bad.sendBytes(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01, 0x02});
    Eventually.await(Duration.ofSeconds(5), "bad stream closed", () -> bad.closedWith != null);
    assertThat(bad.closedWith.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(bad.closedWith.getDescription()).contains("not a valid AgentFrame");
    good.events(notice(1));
    good.await("good still acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 1);
    assertThat(good.closedWith).isNull();
    assertThat(collector.metrics().rejectedFrames.labelValues("garbage").getLongValue()).isEqualTo(1);
  }

  @Test
  void anOversizedFrameClosesOnlyThatStreamWithResourceExhausted() {
    RawAgent good = agent("good");
    RawAgent big = agent("big");
    good.await("welcome", f -> f.hasWelcome());
    big.await("welcome", f -> f.hasWelcome());
    Event huge = Event.newBuilder().setSeq(1).setNotice(AgentNotice.newBuilder()
        .setMessage("x".repeat(5 * 1024 * 1024))).build();
    big.send(AgentFrame.newBuilder().setEvents(EventBatch.newBuilder().addEvents(huge)).build());
    Eventually.await(Duration.ofSeconds(10), "big stream closed", () -> big.closedWith != null);
    assertThat(big.closedWith.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    good.events(notice(1));
    good.await("good still acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 1);
    Eventually.await(Duration.ofSeconds(5), "oversized counted", () ->
        collector.metrics().rejectedFrames.labelValues("oversized").getLongValue() == 1);
    assertThat(collector.fleet().runs().pending()).isEmpty();
  }

  @Test
  void helloMustComeFirst() {
    RawAgent a = new RawAgent(collector.port(), "x");
    agents.add(a);
    a.events(notice(1));
    Eventually.await(Duration.ofSeconds(5), "closed", () -> a.closedWith != null);
    assertThat(a.closedWith.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(a.closedWith.getDescription()).contains("first frame must be Hello");
  }

  @Test
  void aSecondStreamForTheSameAgentReplacesTheFirst() {
    RawAgent first = agent("host-a");
    first.await("welcome", f -> f.hasWelcome());
    RawAgent second = agent("host-a");
    second.await("welcome", f -> f.hasWelcome());
    Eventually.await(Duration.ofSeconds(5), "first closed", () -> first.closedWith != null);
    assertThat(first.closedWith.getCode()).isEqualTo(Status.Code.ABORTED);
    assertThat(collector.fleet().connectedCount()).isEqualTo(1);
    second.events(notice(1));
    second.await("ack", f -> f.hasAck() && f.getAck().getUptoSeq() == 1);
  }

  @Test
  void tooManyEventsInOneBatchIsRefused() {
    RawAgent a = agent("host-a");
    EventBatch.Builder b = EventBatch.newBuilder();
    for (int i = 1; i <= 501; i++) b.addEvents(notice(i));
    a.send(AgentFrame.newBuilder().setEvents(b).build());
    Eventually.await(Duration.ofSeconds(5), "closed", () -> a.closedWith != null);
    assertThat(a.closedWith.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(a.closedWith.getDescription()).contains("501 events");
  }

  @Test
  void healthSamplesUpdateTheAgentRow() {
    RawAgent a = agent("host-a");
    a.events(Goldens.health(1, HealthSample.Probe.DISK, "/var", HealthSample.Level.OK));
    a.await("ack", f -> f.hasAck());
    Eventually.await(Duration.ofSeconds(5), "probe stored", () ->
        collector.fleet().agents().get("host-a").map(x -> x.getProbesCount() == 1).orElse(false));
  }

}
