package dev.lockstep.cli.fleet;

import com.google.protobuf.Timestamp;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopStatus;
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
      case AGENT_ID:
        return "agent=" + scope.getAgentId();
      default:
        return "fleet";
    }
  }

  /** "ORD-000004-9f3a… fleet by alice at …: reason" (adopted orders say from whom). */
  static String order(StopOrder o) {
    StringBuilder sb = new StringBuilder(o.getId()).append(' ').append(scope(o.getScope()));
    if (!o.getIssuedBy().isEmpty()) sb.append(" by ").append(o.getIssuedBy());
    if (o.hasIssuedAt()) sb.append(" at ").append(time(o.getIssuedAt()));
    if (!o.getIncidentId().isEmpty()) sb.append(" for ").append(o.getIncidentId());
    if (!o.getAdoptedFrom().isEmpty()) {
      sb.append(" (ADOPTED from ").append(o.getAdoptedFrom()).append(", covers only the agents holding it)");
    }
    if (!o.getReason().isEmpty()) sb.append(": ").append(o.getReason());
    return sb.toString();
  }

  /** "STOPPED by 2 orders" or "RUNNING (no active order)". */
  static String stopSummary(StopStatus s) {
    if (s.getOrdersCount() == 0) {
      return "RUNNING (no active stop order)";
    }
    return "STOPPED: " + s.getOrdersCount() + " active order" + (s.getOrdersCount() == 1 ? "" : "s")
        + " covering " + s.getCovered() + " agent" + (s.getCovered() == 1 ? "" : "s");
  }

  static String orDash(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }
}
