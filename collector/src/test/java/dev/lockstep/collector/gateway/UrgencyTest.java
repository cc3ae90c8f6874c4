package dev.lockstep.collector.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.collector.core.Lane;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EventBatch;
import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Hello;
import dev.lockstep.proto.v1.LogMatch;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The wire scan that picks a frame's pool before it is parsed, checked against the parse: the
 * same answer for every frame an encoder writes, and never ROUTINE for bytes whose parse is
 * urgent (concatenated frames, which protobuf merges; mutated bytes; odd encodings).
 */
class UrgencyTest {
  /** What the gateway decided from the parsed frame before the scan existed. */
  static boolean parsedUrgent(byte[] bytes) throws InvalidProtocolBufferException {
    AgentFrame f = AgentFrame.parseFrom(bytes);
    return switch (f.getFrameCase()) {
      case STOP_ACK -> true;
      case EVENTS -> f.getEvents().getLeadsToDecisive()
          || f.getEvents().getEventsList().stream().anyMatch(e -> Lane.of(e) == Lane.DECISIVE);
      default -> false;
    };
  }

  static Event event(Random r, long seq) {
    Event.Builder e = Event.newBuilder().setSeq(seq);
    switch (r.nextInt(5)) {
      case 0 -> e.setGolden(GoldenReport.newBuilder().setRunId("run-" + r.nextInt(9)).setRole("shadow")
          .setCanonicalHash("sha256:" + "a".repeat(64)));
      case 1 -> e.setLogMatch(LogMatch.newBuilder().setPath("/var/log/x")
          .setKind(LogMatch.Kind.forNumber(r.nextInt(6))).setCount(r.nextInt(3)).setLine("3 mismatches"));
      case 2 -> e.setNotice(AgentNotice.newBuilder().setMessage("spool"));
      default -> e.setHealth(HealthSample.newBuilder().setProbe(HealthSample.Probe.DISK).setTarget("/data")
          .setLevel(HealthSample.Level.OK));
    }
    return e.build();
  }

  static AgentFrame frame(Random r) {
    AgentFrame.Builder f = AgentFrame.newBuilder();
    switch (r.nextInt(6)) {
      case 0 -> f.setHello(Hello.newBuilder().setAgentId("host-a"));
      case 1 -> f.setStopAck(StopAck.newBuilder().setGeneration(r.nextLong()).setMode(StopMode.STOPPED));
      case 2 -> f.setEvidence(EvidenceChunk.newBuilder().setData(ByteString.copyFromUtf8("tar")));
      default -> {
        EventBatch.Builder b = EventBatch.newBuilder().setLeadsToDecisive(r.nextInt(8) == 0)
            .setBackoffId(r.nextInt(3));
        int n = r.nextInt(6);
        for (int i = 0; i < n; i++) b.addEvents(event(r, i + 1));
        f.setEvents(b);
      }
    }
    return f.build();
  }

  @Test
  void agreesWithTheParseOnEveryEncodedFrame() throws Exception {
    Random r = new Random(42);
    int urgent = 0;
    for (int i = 0; i < 20_000; i++) {
      byte[] bytes = frame(r).toByteArray();
      boolean expected = parsedUrgent(bytes);
      assertThat(Urgency.of(bytes)).as("frame %d", i).isEqualTo(expected ? Urgency.URGENT : Urgency.ROUTINE);
      if (expected) urgent++;
    }
    assertThat(urgent).as("urgent frames generated").isBetween(2_000, 18_000);
  }

  @Test
  void neverRoutineWhenTheParseIsUrgentForMergedOrMutatedBytes() throws Exception {
    Random r = new Random(7);
    int checked = 0;
    for (int i = 0; i < 50_000; i++) {
      byte[] bytes;
      if (r.nextBoolean()) {
        // two or three frames back to back: the parser merges them (the last oneof case wins,
        // batches concatenate their events, scalars keep the last value)
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int k = 0; k < 2 + r.nextInt(2); k++) out.write(frame(r).toByteArray());
        bytes = out.toByteArray();
      } else {
        bytes = frame(r).toByteArray();
        for (int k = 0; k < 1 + r.nextInt(3) && bytes.length > 0; k++) {
          bytes[r.nextInt(bytes.length)] = (byte) r.nextInt(256);
        }
      }
      boolean expected;
      try {
        expected = parsedUrgent(bytes);
      } catch (InvalidProtocolBufferException garbage) {
        continue; // refused as garbage whatever pool it waited in
      }
      checked++;
      if (expected) assertThat(Urgency.of(bytes)).as("case %d", i).isNotEqualTo(Urgency.ROUTINE);
    }
    assertThat(checked).isGreaterThan(25_000);
  }

  @Test
  void oddButValidEncodingsOfAMismatchCountAreUrgent() throws Exception {
    // kind = MISMATCH_COUNT as a 10-byte varint (the parser reads an enum as 32 bits), and after
    // another kind (the last one wins); the event body set twice (the last one wins)
    for (byte[] logMatch : new byte[][] {
        bytes(out -> { out.writeTag(3, 0); out.writeUInt64NoTag((1L << 32) | 1); }),
        bytes(out -> { out.writeEnum(3, 2); out.writeEnum(3, 1); })}) {
      byte[] event = bytes(out -> {
        out.writeInt64(1, 5);
        out.writeBytes(3, HealthSample.getDefaultInstance().toByteString());
        out.writeByteArray(4, logMatch);
      });
      byte[] frame = bytes(out -> out.writeByteArray(2, bytes(b -> b.writeByteArray(1, event))));
      assertThat(parsedUrgent(frame)).as("the parse").isTrue();
      assertThat(Urgency.of(frame)).isEqualTo(Urgency.URGENT);
    }
  }

  @Test
  void bytesItCannotWalkAreLeftToTheParse() {
    assertThat(Urgency.of(new byte[] {0x12, 0x7f, 0x01})).isEqualTo(Urgency.UNKNOWN); // length past the end
    assertThat(Urgency.of(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01})).isEqualTo(Urgency.UNKNOWN); // bad varint
    assertThat(Urgency.of(new byte[0])).isEqualTo(Urgency.ROUTINE);
  }

  interface Writer {
    void write(CodedOutputStream out) throws Exception;
  }

  static byte[] bytes(Writer w) {
    try {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      CodedOutputStream out = CodedOutputStream.newInstance(b);
      w.write(out);
      out.flush();
      return b.toByteArray();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
