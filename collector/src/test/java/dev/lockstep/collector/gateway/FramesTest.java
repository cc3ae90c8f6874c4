package dev.lockstep.collector.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.lockstep.collector.DirectMemory;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EventBatch;
import dev.lockstep.proto.v1.EvidenceChunk;
import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Agent frames off the Java heap while they wait, freed by their one owner. */
class FramesTest {
  static class Known extends ByteArrayInputStream implements KnownLength {
    Known(byte[] b) {
      super(b);
    }
  }

  /** Freeing a frame right after its parse is safe only because the parse copied every field. */
  @Test
  void aParsedFrameOwesNothingToItsBuffer() throws Exception {
    byte[] data = new byte[10_000];
    new java.util.Random(7).nextBytes(data);
    AgentFrame batch = AgentFrame.newBuilder().setEvents(EventBatch.newBuilder()
        .addEvents(Event.newBuilder().setSeq(1).setNotice(AgentNotice.newBuilder()
            .setMessage("a message of some length, ünïcödé too")))).build();
    AgentFrame chunk = AgentFrame.newBuilder().setEvidence(EvidenceChunk.newBuilder()
        .setRequestId("CAP-1").setData(ByteString.copyFrom(data))).build();
    for (AgentFrame original : new AgentFrame[] {batch, chunk}) {
      ByteBuffer frame = Frames.read(new Known(original.toByteArray()));
      assertThat(frame.isDirect()).isTrue();
      AgentFrame parsed = AgentFrame.parseFrom(frame.duplicate());
      for (int i = 0; i < frame.limit(); i++) frame.put(i, (byte) 0); // as if freed and reused
      assertThat(parsed).isEqualTo(original);
    }
  }

  @Test
  void aFrameIsReadWholeOffTheHeapAndFreedAtOnce() throws Exception {
    byte[] bytes = new byte[3 << 20];
    new java.util.Random(3).nextBytes(bytes);
    long before = DirectMemory.used();
    ByteBuffer frame = Frames.read(new Known(bytes));
    assertThat(frame.remaining()).isEqualTo(bytes.length);
    byte[] back = new byte[bytes.length];
    frame.duplicate().get(back);
    assertThat(back).isEqualTo(bytes);
    assertThat(DirectMemory.used() - before).as("held off the heap").isGreaterThanOrEqualTo(bytes.length);
    Frames.free(frame);
    assertThat(DirectMemory.used() - before).as("released without waiting for a collection")
        .isLessThan(bytes.length);
  }

  /** A message stream whose stated length is not its length is refused, naming the length. */
  @Test
  void aStreamNotAsLongAsItSaysIsRefused() {
    byte[] bytes = new byte[1000];
    for (int stated : new int[] {1010, 990}) {
      Known lying = new Known(bytes) {
        @Override
        public synchronized int available() {
          return stated;
        }
      };
      long before = DirectMemory.used();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> Frames.read(lying))
          .isInstanceOf(java.io.IOException.class)
          .hasMessageContaining("frame stream of " + stated + " bytes did not match its length");
      assertThat(DirectMemory.used() - before).as("its buffer freed").isLessThan(stated);
    }
  }

  @Test
  void aStreamWithoutAKnownLengthIsReadWholeToo() throws Exception {
    byte[] bytes = "not a KnownLength stream".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ByteBuffer frame = Frames.read(new ByteArrayInputStream(bytes));
    byte[] back = new byte[frame.remaining()];
    frame.get(back);
    assertThat(back).isEqualTo(bytes);
    Frames.free(frame);
  }
}
