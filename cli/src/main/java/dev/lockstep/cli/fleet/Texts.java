package dev.lockstep.cli.fleet;

import com.google.protobuf.Timestamp;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopState;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** How protocol values read in tables. */
final class Texts {
  private Texts() {}

  /** RFC 3339 UTC to the second, or "-" for an unset time. */
  static String time(Timestamp t) {
    if (t == null || (t.getSeconds() == 0 && t.getNanos() == 0)) {
      return "-";
    }
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos()).truncatedTo(ChronoUnit.SECONDS).toString();
  }

  static Timestamp timestamp(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  static String scope(StopScope scope) {
    switch (scope.getTargetCase()) {
      case WORKFLOW:
        return "workflow=" + scope.getWorkflow();
      case HOST:
        return "host=" + scope.getHost();
      case FLEET:
        return "fleet";
      default:
        return "fleet";
    }
  }

  /** "epoch 4 STOPPED (fleet) by alice at ...: reason" or "never set". */
  static String stopState(StopState s) {
    if (s.getEpoch() == 0) {
      return "never set (RUNNING)";
    }
    StringBuilder sb =
        new StringBuilder("epoch ").append(s.getEpoch()).append(' ').append(s.getMode().name());
    sb.append(" (").append(scope(s.getScope())).append(')');
    if (!s.getIssuedBy().isEmpty()) {
      sb.append(" by ").append(s.getIssuedBy());
    }
    if (s.hasIssuedAt()) {
      sb.append(" at ").append(time(s.getIssuedAt()));
    }
    if (!s.getIncidentId().isEmpty()) {
      sb.append(" for incident ").append(s.getIncidentId());
    }
    if (!s.getReason().isEmpty()) {
      sb.append(": ").append(s.getReason());
    }
    return sb.toString();
  }

  static String orDash(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }
}
