package dev.lockstep.agent.uplink;

import com.google.protobuf.CodedOutputStream;
import dev.lockstep.agent.spool.Spool;
import dev.lockstep.proto.lite.v1.AgentFrame;
import dev.lockstep.proto.lite.v1.AgentGatewayGrpc;
import dev.lockstep.proto.lite.v1.CollectorFrame;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.lite.ProtoLiteUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * What the agent writes on its stream: an {@link AgentFrame} message, or an AgentFrame holding an
 * EventBatch assembled from the spool's stored event bytes, so an event is serialised once (when
 * it is spooled) and sent as it lies on disk. Both are the same AgentFrame on the wire.
 */
final class Frame {
  /** AgentGateway/Connect with this class as the request type. */
  static final MethodDescriptor<Frame, CollectorFrame> CONNECT = AgentGatewayGrpc.getConnectMethod()
      .toBuilder(new Marshaller(), ProtoLiteUtils.marshaller(CollectorFrame.getDefaultInstance())).build();

  private static final int EVENTS_FIELD = 2; // AgentFrame.events
  private final AgentFrame message;
  private final List<Spool.Record> events;
  private final boolean leadsToDecisive;
  private final long backoffId;

  private Frame(AgentFrame message, List<Spool.Record> events, boolean leadsToDecisive, long backoffId) {
    this.message = message;
    this.events = events;
    this.leadsToDecisive = leadsToDecisive;
    this.backoffId = backoffId;
  }

  static Frame of(AgentFrame message) {
    return new Frame(message, null, false, 0);
  }

  /** An EventBatch of spooled events (in seq order). */
  static Frame batch(List<Spool.Record> events, boolean leadsToDecisive, long backoffId) {
    return new Frame(null, events, leadsToDecisive, backoffId);
  }

  /** The frame as protobuf bytes. */
  byte[] toBytes() {
    if (message != null) {
      return message.toByteArray();
    }
    int batch = 0;
    for (Spool.Record r : events) {
      batch += CodedOutputStream.computeByteArraySize(1, r.body());
    }
    if (leadsToDecisive) {
      batch += CodedOutputStream.computeBoolSize(2, true);
    }
    if (backoffId != 0) {
      batch += CodedOutputStream.computeInt64Size(3, backoffId);
    }
    byte[] out = new byte[CodedOutputStream.computeTagSize(EVENTS_FIELD)
        + CodedOutputStream.computeUInt32SizeNoTag(batch) + batch];
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    try {
      o.writeTag(EVENTS_FIELD, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
      o.writeUInt32NoTag(batch);
      for (Spool.Record r : events) {
        o.writeByteArray(1, r.body());
      }
      if (leadsToDecisive) {
        o.writeBool(2, true);
      }
      if (backoffId != 0) {
        o.writeInt64(3, backoffId);
      }
      o.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static final class Marshaller implements MethodDescriptor.Marshaller<Frame> {
    @Override
    public InputStream stream(Frame f) {
      return new Bytes(f.toBytes());
    }

    @Override
    public Frame parse(InputStream stream) {
      try {
        return of(AgentFrame.parseFrom(stream));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** A byte array stream whose length gRPC can see (it then frames it without copying). */
  private static final class Bytes extends ByteArrayInputStream implements KnownLength {
    Bytes(byte[] b) {
      super(b);
    }
  }
}
