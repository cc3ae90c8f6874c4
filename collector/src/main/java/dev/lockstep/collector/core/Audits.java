package dev.lockstep.collector.core;

import com.google.protobuf.Timestamp;
import dev.lockstep.proto.v1.AuditEntry;

/** Audit entries the core writes with its decisions (same transaction). */
final class Audits {
  private Audits() {}

  static Timestamp ts(long millis) {
    return Timestamp.newBuilder().setSeconds(Math.floorDiv(millis, 1000))
        .setNanos((int) Math.floorMod(millis, 1000) * 1_000_000).build();
  }

  /** Something the collector decided on its own. */
  static void system(Tx tx, String action, String target, String detail) {
    tx.append(new Change.Audit(AuditEntry.newBuilder().setAt(ts(tx.nowMillis()))
        .setWho("collector").setRole("system").setAction(action).setTarget(nz(target))
        .setResult("OK").setDetail(nz(detail)).build()));
  }

  /** An operator's action that ran. */
  static void operator(Tx tx, String who, String role, String remote, String action,
      String target, String detail) {
    tx.append(new Change.Audit(AuditEntry.newBuilder().setAt(ts(tx.nowMillis()))
        .setWho(nz(who)).setRole(nz(role)).setAction(action).setTarget(nz(target))
        .setRemoteAddress(nz(remote)).setResult("OK").setDetail(nz(detail)).build()));
  }

  /** What an agent reported doing on its own (remediation): who is "agent:<id>". */
  static void agent(Tx tx, String agentId, String action, String target, String result, String detail) {
    tx.append(new Change.Audit(AuditEntry.newBuilder().setAt(ts(tx.nowMillis()))
        .setWho("agent:" + nz(agentId)).setRole("agent").setAction(action).setTarget(nz(target))
        .setResult(nz(result)).setDetail(nz(detail)).build()));
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }
}
