package dev.lockstep.collector.gateway;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;

/**
 * Whether an agent frame is urgent — a stop ack, or a batch that holds or leads to a decisive
 * event (a golden report, a MISMATCH_COUNT log match) — read from its wire bytes without parsing
 * it: tags are walked and everything else is skipped, nothing is allocated. The full parse then
 * happens on the pool the frame waits in, so routine batches (most of the ingest CPU) are parsed
 * by the low-priority ingest threads instead of gRPC's callback threads, which stay free for what
 * a stop needs.
 *
 * <p>It never says routine for a frame whose parse would make it urgent: it looks at every
 * occurrence of every field (protobuf merges repeated occurrences of a message and keeps the last
 * value of a scalar or oneof), and calls the frame urgent when any occurrence is a stop ack, a
 * golden report, a log match of kind MISMATCH_COUNT or a set leads_to_decisive. So a crafted
 * frame may be called urgent when its parse is not (an agent can make every frame urgent anyway,
 * by adding a golden report), never the other way round. Bytes it cannot walk return
 * {@link #UNKNOWN}: the caller parses on its own thread as before, and the parse decides.
 */
final class Urgency {
  static final int ROUTINE = 0;
  static final int URGENT = 1;
  static final int UNKNOWN = -1;

  // field numbers of agent_gateway.proto
  private static final int FRAME_EVENTS = 2;
  private static final int FRAME_STOP_ACK = 3;
  private static final int BATCH_EVENTS = 1;
  private static final int BATCH_LEADS_TO_DECISIVE = 2;
  private static final int EVENT_LOG_MATCH = 4;
  private static final int EVENT_GOLDEN = 5;
  private static final int LOG_MATCH_KIND = 3;
  private static final int KIND_MISMATCH_COUNT = 1;

  private Urgency() {}

  /** {@link #URGENT}, {@link #ROUTINE}, or {@link #UNKNOWN} when the bytes are not well-formed. */
  static int of(byte[] frame) {
    return of(CodedInputStream.newInstance(frame));
  }

  static int of(java.nio.ByteBuffer frame) {
    return of(CodedInputStream.newInstance(frame.duplicate()));
  }

  private static int of(CodedInputStream in) {
    try {
      boolean urgent = false;
      int tag;
      while ((tag = in.readTag()) != 0) {
        int field = WireFormat.getTagFieldNumber(tag);
        boolean delimited = WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
        if (field == FRAME_STOP_ACK && delimited) {
          urgent = true;
          in.skipField(tag);
        } else if (field == FRAME_EVENTS && delimited) {
          int limit = in.pushLimit(in.readRawVarint32());
          urgent |= batch(in);
          in.popLimit(limit);
        } else {
          in.skipField(tag);
        }
      }
      return urgent ? URGENT : ROUTINE;
    } catch (IOException | RuntimeException e) {
      return UNKNOWN;
    }
  }

  private static boolean batch(CodedInputStream in) throws IOException {
    boolean urgent = false;
    int tag;
    while ((tag = in.readTag()) != 0) {
      int field = WireFormat.getTagFieldNumber(tag);
      int type = WireFormat.getTagWireType(tag);
      if (field == BATCH_LEADS_TO_DECISIVE && type == WireFormat.WIRETYPE_VARINT) {
        urgent |= in.readRawVarint64() != 0;
      } else if (field == BATCH_EVENTS && type == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        int limit = in.pushLimit(in.readRawVarint32());
        urgent |= event(in);
        in.popLimit(limit);
      } else {
        in.skipField(tag);
      }
    }
    return urgent;
  }

  private static boolean event(CodedInputStream in) throws IOException {
    boolean urgent = false;
    int tag;
    while ((tag = in.readTag()) != 0) {
      int field = WireFormat.getTagFieldNumber(tag);
      boolean delimited = WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
      if (field == EVENT_GOLDEN && delimited) {
        urgent = true;
        in.skipField(tag);
      } else if (field == EVENT_LOG_MATCH && delimited) {
        int limit = in.pushLimit(in.readRawVarint32());
        urgent |= mismatchCount(in);
        in.popLimit(limit);
      } else {
        in.skipField(tag);
      }
    }
    return urgent;
  }

  private static boolean mismatchCount(CodedInputStream in) throws IOException {
    boolean urgent = false;
    int tag;
    while ((tag = in.readTag()) != 0) {
      if (WireFormat.getTagFieldNumber(tag) == LOG_MATCH_KIND
          && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
        // an enum is read as 32 bits (a longer varint is truncated, as the parser does)
        urgent |= (int) in.readRawVarint64() == KIND_MISMATCH_COUNT;
      } else {
        in.skipField(tag);
      }
    }
    return urgent;
  }
}
