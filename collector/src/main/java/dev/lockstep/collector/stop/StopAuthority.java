package dev.lockstep.collector.stop;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.AgentStopStatus;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.proto.v1.StopStatus;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Holds the fleet's desired stop state and every agent's acknowledgement of it.
 *
 * <p>Invariants: epochs only grow; a new state is written to the store with fsync BEFORE {@link
 * #issue} returns it (and so before anyone sends it); acks are kept per agent, the newest epoch
 * wins, and both survive a restart. Scope rules for an agent's effective state: fleet = every
 * agent; workflow = agents whose label {@code workflows} (comma list) holds it or that reported
 * runs of it; host = the agent whose id equals it. In scope: the state's mode; otherwise RUNNING,
 * with the same epoch.
 */
public final class StopAuthority {
  /** What scope rules need to know about an agent. */
  public record Target(String agentId, Set<String> workflows) {}

  private static final String STATE = "state";
  private static final String ACK = "ack/";

  private final Store store;
  private final Clock clock;
  private StopState current;
  private final Map<String, AgentStopStatus> acks = new LinkedHashMap<>();

  public StopAuthority(Store store, Clock clock) {
    this.store = store;
    this.clock = clock;
    byte[] v = store.get(Store.Family.STOP, STATE);
    StopState s = StopState.newBuilder().setEpoch(0).setMode(StopMode.RUNNING)
        .setScope(StopScope.newBuilder().setFleet(true)).build();
    if (v != null) {
      try {
        s = StopState.parseFrom(v);
      } catch (InvalidProtocolBufferException e) {
        throw new Store.StoreException("stored stop state is unreadable", e);
      }
    }
    current = s;
    store.scan(Store.Family.STOP, ACK, (k, val) -> {
      try {
        AgentStopStatus a = AgentStopStatus.parseFrom(val);
        acks.put(a.getAgentId(), a);
      } catch (InvalidProtocolBufferException e) {
        // ignore an unreadable ack; the agent re-acks on reconnect
      }
      return true;
    });
  }

  public synchronized StopState current() {
    return current;
  }

  /** Persists (fsync) and returns the next state: epoch + 1. */
  public synchronized StopState issue(StopMode mode, StopScope scope, String reason,
      String incidentId, String issuedBy) {
    Instant now = clock.instant();
    StopState next = StopState.newBuilder()
        .setEpoch(current.getEpoch() + 1)
        .setMode(mode)
        .setScope(scope)
        .setReason(reason == null ? "" : reason)
        .setIncidentId(incidentId == null ? "" : incidentId)
        .setIssuedBy(issuedBy == null ? "" : issuedBy)
        .setIssuedAt(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
        .build();
    store.put(Store.Family.STOP, STATE, next.toByteArray(), true);
    current = next;
    return next;
  }

  /**
   * An agent has enacted a higher epoch than this collector knows (the store was restored from an
   * older backup, or replaced): raises the current state's epoch past it, keeping mode and scope,
   * persisted with fsync, so the next states are not ignored as stale. Returns the raised state,
   * or null when {@code agentEpoch} is not ahead.
   */
  public synchronized StopState catchUp(long agentEpoch) {
    if (agentEpoch <= current.getEpoch()) return null;
    StopState next = current.toBuilder().setEpoch(agentEpoch + 1).build();
    store.put(Store.Family.STOP, STATE, next.toByteArray(), true);
    current = next;
    return next;
  }

  /** Whether the current state already stops everything {@code scope} names. */
  public synchronized boolean alreadyStopped(StopScope scope) {
    if (current.getMode() != StopMode.STOPPED) return false;
    StopScope c = current.getScope();
    if (c.getTargetCase() == StopScope.TargetCase.FLEET || c.getTargetCase()
        == StopScope.TargetCase.TARGET_NOT_SET) {
      return true;
    }
    return c.equals(scope);
  }

  public static boolean inScope(StopScope scope, Target agent) {
    return switch (scope.getTargetCase()) {
      case WORKFLOW -> agent.workflows().contains(scope.getWorkflow());
      case HOST -> agent.agentId().equals(scope.getHost());
      default -> true;
    };
  }

  /** The state {@code agent} must run under now. */
  public synchronized StopState effectiveFor(Target agent) {
    if (current.getMode() == StopMode.STOPPED && !inScope(current.getScope(), agent)) {
      return current.toBuilder().setMode(StopMode.RUNNING).build();
    }
    return current;
  }

  /** Records an agent's StopAck (the newest epoch wins). Returns the stored status row. */
  public synchronized AgentStopStatus recordAck(String agentId, StopAck ack) {
    AgentStopStatus prev = acks.get(agentId);
    if (prev != null && prev.getAckedEpoch() > ack.getEpoch()) return prev;
    Instant now = clock.instant();
    boolean ok = ack.getEnacted() && ack.getVerified();
    AgentStopStatus row = AgentStopStatus.newBuilder()
        .setAgentId(agentId)
        .setStatus(ok ? "CONFIRMED" : "FAILED")
        .setAckedEpoch(ack.getEpoch())
        .setDetail(ack.getDetail().length() > 2000 ? ack.getDetail().substring(0, 2000)
            : ack.getDetail())
        .setAckedAt(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
        .build();
    store.put(Store.Family.STOP, ACK + agentId, row.toByteArray(), false);
    acks.put(agentId, row);
    return row;
  }

  /** Whether {@code agentId} has acked the current epoch (with any outcome). */
  public synchronized boolean acked(String agentId) {
    AgentStopStatus a = acks.get(agentId);
    return a != null && a.getAckedEpoch() >= current.getEpoch();
  }

  /**
   * Status of the current epoch for every known agent: CONFIRMED, FAILED, PENDING (connected,
   * no ack yet), OFFLINE (not connected, no ack), NOT_IN_SCOPE.
   */
  public synchronized StopStatus status(Collection<Target> known, Predicate<String> connected) {
    StopStatus.Builder b = StopStatus.newBuilder().setState(current);
    List<AgentStopStatus> rows = new ArrayList<>();
    int confirmed = 0, failed = 0, pending = 0, offline = 0;
    for (Target t : known) {
      AgentStopStatus ack = acks.get(t.agentId());
      AgentStopStatus.Builder row = AgentStopStatus.newBuilder().setAgentId(t.agentId());
      if (ack != null) {
        row.setAckedEpoch(ack.getAckedEpoch()).setDetail(ack.getDetail())
            .setAckedAt(ack.getAckedAt());
      }
      String status;
      boolean scoped = current.getMode() != StopMode.STOPPED || inScope(current.getScope(), t);
      if (current.getEpoch() == 0) {
        status = "NOT_IN_SCOPE";
      } else if (!scoped) {
        status = "NOT_IN_SCOPE";
      } else if (ack != null && ack.getAckedEpoch() == current.getEpoch()) {
        status = ack.getStatus();
      } else if (connected.test(t.agentId())) {
        status = "PENDING";
      } else {
        status = "OFFLINE";
      }
      switch (status) {
        case "CONFIRMED" -> confirmed++;
        case "FAILED" -> failed++;
        case "PENDING" -> pending++;
        case "OFFLINE" -> offline++;
        default -> { }
      }
      rows.add(row.setStatus(status).build());
    }
    rows.sort(Comparator.comparing(AgentStopStatus::getAgentId));
    return b.addAllAgents(rows).setConfirmed(confirmed).setFailed(failed).setPending(pending)
        .setOffline(offline).build();
  }
}
