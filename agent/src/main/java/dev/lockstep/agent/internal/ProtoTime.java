package dev.lockstep.agent.internal;

import com.google.protobuf.Timestamp;
import java.time.Instant;

/** Conversions between java.time and protobuf timestamps. Not API. */
public final class ProtoTime {
  private ProtoTime() {}

  public static Timestamp of(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  public static Instant toInstant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }
}
