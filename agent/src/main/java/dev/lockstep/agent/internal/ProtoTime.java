package dev.lockstep.agent.internal;

import dev.lockstep.proto.lite.v1.LiteTimestamp;
import java.time.Instant;

/** Conversions between java.time and the protocol's timestamps (LiteTimestamp: google.protobuf.Timestamp on the wire). Not API. */
public final class ProtoTime {
  private ProtoTime() {}

  public static LiteTimestamp of(Instant t) {
    return LiteTimestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  public static Instant toInstant(LiteTimestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }
}
