package dev.lockstep.agent.spool;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.proto.lite.v1.Event;
import java.io.IOException;
import java.util.Arrays;

/**
 * Event bytes as the spool stores and the uplink sends them: the seq field first, then the event
 * serialised once, without its seq. (Protobuf reads fields in any order, so these bytes parse as
 * the Event with its seq.)
 */
final class Records {
  private static final int SEQ_TAG = 0x08; // field 1, varint

  private Records() {}

  /** The stored bytes of {@code e} (whose own seq must be unset) under {@code seq}. */
  static byte[] withSeq(long seq, byte[] eventWithoutSeq) {
    int prefix = 1 + CodedOutputStream.computeUInt64SizeNoTag(seq);
    byte[] out = new byte[prefix + eventWithoutSeq.length];
    out[0] = SEQ_TAG;
    try {
      CodedOutputStream o = CodedOutputStream.newInstance(out, 1, prefix - 1);
      o.writeUInt64NoTag(seq);
      o.flush();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    System.arraycopy(eventWithoutSeq, 0, out, prefix, eventWithoutSeq.length);
    return out;
  }

  /** The event bytes of a stored record without its leading seq field. */
  static byte[] withoutSeq(byte[] body) throws InvalidProtocolBufferException {
    int n = seqPrefixLength(body);
    if (n > 0) {
      return Arrays.copyOfRange(body, n, body.length);
    }
    return Event.parseFrom(body).toBuilder().clearSeq().build().toByteArray();
  }

  /** The seq of stored event bytes (0 when they hold none or do not parse). */
  static long seqOf(byte[] body) {
    int n = seqPrefixLength(body);
    if (n > 0) {
      long seq = 0;
      for (int i = 1, shift = 0; i < n; i++, shift += 7) {
        seq |= (long) (body[i] & 0x7f) << shift;
      }
      return seq;
    }
    try {
      return Event.parseFrom(body).getSeq();
    } catch (InvalidProtocolBufferException e) {
      return 0;
    }
  }

  /** Length of a leading seq field (tag + varint), or 0. */
  private static int seqPrefixLength(byte[] body) {
    if (body.length < 2 || body[0] != SEQ_TAG) {
      return 0;
    }
    for (int i = 1; i < Math.min(body.length, 11); i++) {
      if ((body[i] & 0x80) == 0) {
        return i + 1;
      }
    }
    return 0;
  }
}
