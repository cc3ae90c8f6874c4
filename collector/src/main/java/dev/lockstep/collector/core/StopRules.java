package dev.lockstep.collector.core;

import dev.lockstep.golden.LabelLimits;
import dev.lockstep.golden.ReportLimits;
import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.store.v1.ResumedOrder;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopState;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/**
 * Stop orders and every agent's desired state.
 *
 * <p>Invariants, checked by the property tests after every step:
 *
 * <ul>
 *   <li>An order is removed only by {@link #resume} (an operator's resume with a reason).
 *   <li>An agent's desired state is STOPPED exactly when an active order covers it: the order's
 *       scope names it, or it holds the order (it was sent the order, or reported it in a Hello).
 *       An adopted order covers only the agents holding it.
 *   <li>An agent's generation grows whenever its desired state (mode, covering orders, released
 *       orders) changes, and never otherwise; nothing an agent sends sets it.
 *   <li>An ack counts only when its (generation, mode) equal the agent's desired ones.
 *   <li>A RUNNING state releases every order the agent may hold, and only inactive ones.
 * </ul>
 */
public final class StopRules {
  static final String ORDER_SEQ = "order_seq";
  /**
   * At most this many orders in one Hello's enacted stop or one ack's held orders: a bound on the
   * work one agent frame makes, not on the orders an agent may hold. Every order that covers an
   * agent is in the states it is sent, and it names them all back; at 64 (the bound before), an
   * agent covered by 65 (65 workflow stops and a workflows label of "*") had every ack refused, so
   * its stop was never confirmed, and could not reconnect, so no resume reached it.
   */
  public static final int MAX_HELLO_ORDERS = 4096;
  /** At most this many active adopted orders per agent. */
  static final int MAX_ADOPTED_PER_AGENT = 64;
  static final int MAX_REASON = 1000;
  static final int MAX_DETAIL = 2000;
  /** Label and reported workflows kept per agent; beyond, every workflow stop covers it. */
  static final int MAX_WORKFLOWS = 1000;
  /** As long as a reported workflow may be, so every reported one can be stopped. */
  static final int MAX_WORKFLOW_NAME = ReportLimits.MAX_WORKFLOW;
  private static final Pattern ORDER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}");
  private static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}");

  private final RandomGenerator random;

  StopRules(RandomGenerator random) {
    this.random = random;
  }

  // ------------------------------------------------------------------ coverage

  /** Whether {@code order} covers the agent of {@code rec}. */
  public static boolean covers(StopOrder order, AgentStopRecord rec) {
    if (rec.getHeldOrderIdsList().contains(order.getId())) return true;
    if (!order.getAdoptedFrom().isEmpty()) return false;
    StopScope s = order.getScope();
    return switch (s.getTargetCase()) {
      case WORKFLOW -> rec.getLabelAllWorkflows() || rec.getReportedAllWorkflows()
          || rec.getLabelWorkflowsList().contains(s.getWorkflow())
          || rec.getReportedWorkflowsList().contains(s.getWorkflow());
      case AGENT_ID -> rec.getAgentId().equals(s.getAgentId());
      default -> true;
    };
  }

  /** A new agent: RUNNING, at a generation from the clock (so never below one sent before). */
  static AgentStopRecord fresh(String agentId, long nowMillis) {
    return AgentStopRecord.newBuilder().setAgentId(agentId)
        .setDesired(StopState.newBuilder().setGeneration(nextGeneration(0, nowMillis))
            .setMode(StopMode.RUNNING).setChangedBy("collector")
            .setChangedAt(Audits.ts(nowMillis))).build();
  }

  /**
   * Recomputes one agent's desired state from the active orders; when it changed, stores it with
   * the next generation and sends it. Returns the (possibly unchanged) desired state.
   */
  static StopState recompute(Tx tx, String agentId, String reason, String changedBy) {
    AgentStopRecord rec = tx.agentStop(agentId).orElseGet(() -> fresh(agentId, tx.nowMillis()));
    List<StopOrder> covering = new ArrayList<>();
    for (StopOrder o : tx.activeOrders()) {
      if (covers(o, rec)) covering.add(o);
    }
    StopMode mode = covering.isEmpty() ? StopMode.RUNNING : StopMode.STOPPED;
    List<String> ids = covering.stream().map(StopOrder::getId).toList();
    List<String> released = mode == StopMode.RUNNING
        ? rec.getHeldOrderIdsList().stream().sorted().toList() : List.of();
    StopState d = rec.getDesired();
    // RUNNING stays RUNNING unless there is something new to release (an order the agent said
    // it holds that was resumed meanwhile): releasing less than before is no change.
    boolean same = d.getMode() == mode && (mode == StopMode.STOPPED
        ? d.getOrdersList().stream().map(StopOrder::getId).toList().equals(ids)
        : d.getReleasedOrderIdsList().containsAll(released));
    if (same) {
      if (tx.agentStop(agentId).isEmpty()) tx.putAgentStop(rec);
      return d;
    }
    String why = mode == StopMode.STOPPED ? covering.get(covering.size() - 1).getReason() : reason;
    String by = mode == StopMode.STOPPED && changedBy.isEmpty()
        ? covering.get(covering.size() - 1).getIssuedBy() : changedBy;
    StopState next = StopState.newBuilder()
        .setGeneration(nextGeneration(d.getGeneration(), tx.nowMillis()))
        .setMode(mode).addAllOrders(covering).addAllReleasedOrderIds(released)
        .setReason(why == null ? "" : why).setChangedBy(by == null ? "" : by)
        .setChangedAt(Audits.ts(tx.nowMillis())).build();
    Set<String> held = new LinkedHashSet<>(rec.getHeldOrderIdsList());
    if (mode == StopMode.STOPPED) held.addAll(ids);
    tx.putAgentStop(rec.toBuilder().setDesired(next).clearHeldOrderIds().addAllHeldOrderIds(held)
        .build());
    tx.requireSync();
    tx.effect(new Effect.SendStop(agentId, next));
    return next;
  }

  /**
   * The next generation: one more than the last, and never below the collector's clock in
   * milliseconds — so generations keep growing even across a store restored from an older backup
   * (the restored counter is behind, the clock is not). Only the collector's own numbers go in.
   */
  static long nextGeneration(long previous, long nowMillis) {
    return Math.max(Math.addExact(previous, 1), nowMillis);
  }

  /** Recomputes every known agent (after an order was issued or removed). */
  static void recomputeAll(Tx tx, String reason, String changedBy) {
    for (String agent : List.copyOf(tx.agents())) recompute(tx, agent, reason, changedBy);
    tx.effect(new Effect.StopChanged());
  }

  // ------------------------------------------------------------------ orders

  private StopOrder newOrder(Tx tx, StopScope scope, String reason, String incidentId,
      String issuedBy) {
    long seq = tx.counter(ORDER_SEQ) + 1;
    tx.putCounter(ORDER_SEQ, seq);
    byte[] r = new byte[6];
    random.nextBytes(r);
    return StopOrder.newBuilder()
        .setId(String.format("ORD-%06d-%s", seq, HexFormat.of().formatHex(r)))
        .setScope(scope).setReason(bound(reason, MAX_REASON)).setIncidentId(nz(incidentId))
        .setIssuedBy(nz(issuedBy)).setIssuedAt(Audits.ts(tx.nowMillis())).build();
  }

  /** An operator's stop: validated, stored, audited, fanned out. */
  StopOrder issue(Tx tx, Input.IssueOrder in) {
    String reason = requireReason(in.reason());
    StopScope scope = validScope(in.scope());
    StopOrder o = newOrder(tx, scope, reason, "", in.who());
    tx.putOrder(o);
    tx.requireSync();
    Audits.operator(tx, in.who(), in.role(), in.remote(), "EnableStop", o.getId(),
        describe(scope) + ": " + reason);
    tx.effect(new Effect.Progress("stop order " + o.getId() + " issued by " + in.who() + ": "
        + describe(scope) + " (reason: " + reason + ")"));
    recomputeAll(tx, reason, in.who());
    return o;
  }

  /**
   * The automatic stop for a P0 incident, unless an active order already covers what {@code
   * scope} names (a fleet order, or an order with the same scope). Returns the new order.
   */
  Optional<StopOrder> autoStop(Tx tx, StopScope scope, String reason, String incidentId) {
    for (StopOrder o : tx.activeOrders()) {
      if (!o.getAdoptedFrom().isEmpty()) continue;
      if (o.getScope().getTargetCase() == StopScope.TargetCase.FLEET || o.getScope().equals(scope)) {
        return Optional.empty();
      }
    }
    StopOrder o = newOrder(tx, scope, reason, incidentId, "collector");
    tx.putOrder(o);
    tx.requireSync();
    Audits.system(tx, "AutoStop", o.getId(), describe(scope) + " for " + incidentId);
    tx.effect(new Effect.Progress("stop order " + o.getId() + " issued by collector for "
        + incidentId + ": " + describe(scope) + " (reason: " + o.getReason() + ")"));
    recomputeAll(tx, o.getReason(), "collector");
    return Optional.of(o);
  }

  /**
   * An operator's resume: removes the named active orders. Returns their ids.
   *
   * <p>Every resume names the orders it removes, so a caller's stale view can never lift an order
   * it did not see: with {@code all} the named orders must be every active order (the ones the
   * caller was shown), and when another is active — issued after the caller looked, say by a
   * mismatch while a "Resume every order?" dialog was open — nothing is resumed
   * (FAILED_PRECONDITION naming it). An {@code all} naming no order used to remove whatever was
   * active when the core took it.
   */
  List<String> resume(Tx tx, Input.Resume in) {
    String reason = requireReason(in.reason());
    if (in.orderIds().isEmpty()) {
      throw new Refusal(Refusal.Code.INVALID_ARGUMENT, in.all()
          ? "name the orders to resume: all needs order_ids, every active order you saw (GetStopStatus),"
              + " so that an order issued since is not resumed unseen"
          : "name the orders to resume (order_ids), with all when they are every active order");
    }
    List<StopOrder> targets = new ArrayList<>();
    for (String id : new LinkedHashSet<>(in.orderIds())) {
      Optional<StopOrder> o = tx.activeOrder(id);
      if (o.isEmpty()) {
        Optional<ResumedOrder> r = tx.resumedOrder(id);
        throw new Refusal(Refusal.Code.NOT_FOUND, "order " + bound(id, 140) + " is not active"
            + r.map(x -> " (resumed by " + x.getResumedBy() + ": " + x.getReason() + ")")
                .orElse(""));
      }
      targets.add(o.get());
    }
    if (in.all()) {
      Set<String> named = new LinkedHashSet<>(in.orderIds());
      List<String> unseen = new ArrayList<>();
      for (StopOrder o : tx.activeOrders()) {
        if (!named.contains(o.getId())) {
          unseen.add(o.getId() + " (" + describe(o.getScope()) + ", issued by " + o.getIssuedBy()
              + (o.getIncidentId().isEmpty() ? "" : " for " + o.getIncidentId()) + ")");
        }
      }
      if (!unseen.isEmpty()) {
        throw new Refusal(Refusal.Code.FAILED_PRECONDITION, "all was asked, but active orders were not named: "
            + bound(String.join(", ", unseen), 1000) + " (issued since you looked?); nothing was"
            + " resumed: look at them, then name them too to resume them");
      }
    }
    List<String> ids = new ArrayList<>();
    for (StopOrder o : targets) {
      tx.resumeOrder(ResumedOrder.newBuilder().setOrder(o).setResumedBy(nz(in.who()))
          .setResumedAt(Audits.ts(tx.nowMillis())).setReason(reason).build());
      Audits.operator(tx, in.who(), in.role(), in.remote(), "ResumeStop", o.getId(), reason);
      ids.add(o.getId());
    }
    if (ids.isEmpty()) return ids;
    tx.requireSync();
    tx.effect(new Effect.Progress("stop order(s) " + String.join(", ", ids) + " resumed by "
        + in.who() + " (reason: " + reason + ")"));
    recomputeAll(tx, reason, in.who());
    return ids;
  }

  // ------------------------------------------------------------------ agents

  /**
   * A Hello: records the agent's label workflows, adopts every order the agent reports enacted
   * that this store does not know (never resuming the agent on the strength of a lost store),
   * and answers with its desired state. Returns the ids of adopted orders.
   */
  List<String> hello(Tx tx, Input.Hello h) {
    StopState enacted = h.enacted();
    if (enacted.getOrdersCount() > MAX_HELLO_ORDERS) {
      throw new Refusal(Refusal.Code.INVALID_ARGUMENT, "Hello.enacted_stop names "
          + enacted.getOrdersCount() + " orders; at most " + MAX_HELLO_ORDERS);
    }
    AgentStopRecord rec = tx.agentStop(h.agentId()).orElseGet(() -> fresh(h.agentId(), tx.nowMillis()));
    AgentStopRecord.Builder next = rec.toBuilder();
    List<String> labelWorkflows = workflowsLabel(h.labels());
    // More than are kept: the agent may run any of them, and keeping only some would leave it
    // outside a stop of the others, so every workflow stop covers it instead. So does "*", which
    // the gateway puts for a label too long to keep (LabelLimits.ALL_WORKFLOWS).
    boolean all = labelWorkflows.size() > MAX_WORKFLOWS
        || labelWorkflows.contains(LabelLimits.ALL_WORKFLOWS);
    if (all) labelWorkflows = List.of();
    if (!labelWorkflows.equals(rec.getLabelWorkflowsList()) || all != rec.getLabelAllWorkflows()) {
      next.clearLabelWorkflows().addAllLabelWorkflows(labelWorkflows).setLabelAllWorkflows(all);
    }
    List<String> adopted = new ArrayList<>();
    if (enacted.getMode() == StopMode.STOPPED) {
      List<StopOrder> reported = new ArrayList<>(enacted.getOrdersList());
      if (reported.isEmpty()) {
        reported.add(StopOrder.newBuilder().setId("UNNAMED-" + h.agentId())
            .setReason("agent reported STOPPED without naming an order").build());
      }
      adopted = adopt(tx, h.agentId(), reported, next);
    }
    AgentStopRecord built = next.build();
    if (!built.equals(rec) || tx.agentStop(h.agentId()).isEmpty()) tx.putAgentStop(built);
    StopState d = recompute(tx, h.agentId(), "", "collector");
    catchUp(tx, h.agentId(), d, enacted.getGeneration(), false); // the Welcome carries it
    if (!adopted.isEmpty()) tx.effect(new Effect.StopChanged());
    return adopted;
  }

  /**
   * Orders an agent reports holding (in a Hello, or with an ack): each one this store does not
   * know is adopted as an active order — audited, kept until an operator resumes it — never
   * resumed on the strength of a lost store; all of them count as held by the agent. Returns the
   * ids adopted.
   */
  private static List<String> adopt(Tx tx, String agentId, List<StopOrder> reported,
      AgentStopRecord.Builder next) {
    if (reported.size() > MAX_HELLO_ORDERS) {
      throw new Refusal(Refusal.Code.INVALID_ARGUMENT, "agent " + agentId + " reports "
          + reported.size() + " held orders; at most " + MAX_HELLO_ORDERS);
    }
    List<String> adopted = new ArrayList<>();
    Set<String> held = new LinkedHashSet<>(next.getHeldOrderIdsList());
    long adoptedActive = tx.activeOrders().stream()
        .filter(o -> o.getAdoptedFrom().equals(agentId)).count();
    for (StopOrder o : reported) {
      String id = ORDER_ID.matcher(o.getId()).matches() ? o.getId()
          : "UNNAMED-" + agentId + "-" + Integer.toHexString(o.getId().hashCode());
      if (tx.activeOrder(id).isEmpty() && tx.resumedOrder(id).isEmpty()) {
        if (adoptedActive >= MAX_ADOPTED_PER_AGENT) {
          throw new Refusal(Refusal.Code.RESOURCE_EXHAUSTED, "agent " + agentId
              + " already holds " + adoptedActive + " adopted orders; resume some first");
        }
        StopOrder a = StopOrder.newBuilder().setId(id).setScope(sanitized(o.getScope()))
            .setReason(bound("adopted from " + agentId + ": " + o.getReason(), MAX_REASON))
            .setIncidentId(bound(o.getIncidentId(), 64)).setIssuedBy(bound(o.getIssuedBy(), 256))
            .setIssuedAt(o.getIssuedAt()).setAdoptedFrom(agentId)
            .setAdoptedAt(Audits.ts(tx.nowMillis())).build();
        tx.putOrder(a);
        tx.requireSync();
        Audits.system(tx, "StopAdopted", id, "agent " + agentId + " enacted order " + id
            + " unknown to this store (" + describe(o.getScope()) + ", issued by "
            + o.getIssuedBy() + "): kept active until an operator resumes it");
        adopted.add(id);
        adoptedActive++;
      }
      held.add(id);
    }
    next.clearHeldOrderIds().addAllHeldOrderIds(held);
    return adopted;
  }

  /** How far past the collector's clock a generation an agent reports may be and still count. */
  static final long GENERATION_SLACK_MILLIS = 24L * 3600 * 1000;

  /**
   * The agent reports a generation above its desired one: it enacted a state an earlier
   * incarnation of this store sent (the store was restored from a backup, or the state crossed
   * the reconnect). When the desired state did not just change, it is sent again at a fresh
   * generation from this collector's own clock — the agent's number never becomes ours, and one
   * beyond the clock (plus a day) is ignored as bogus.
   */
  private static void catchUp(Tx tx, String agentId, StopState desired, long reported, boolean send) {
    if (reported <= desired.getGeneration() || reported > tx.nowMillis() + GENERATION_SLACK_MILLIS) {
      return;
    }
    AgentStopRecord rec = tx.agentStop(agentId).orElseThrow();
    StopState again = desired.toBuilder()
        .setGeneration(nextGeneration(desired.getGeneration(), tx.nowMillis())).build();
    tx.putAgentStop(rec.toBuilder().setDesired(again).build());
    tx.requireSync();
    if (send) tx.effect(new Effect.SendStop(agentId, again));
  }

  /** Reported runs of {@code workflow}: the agent may now be in a workflow order's scope. */
  static void reportedWorkflow(Tx tx, String agentId, String workflow) {
    if (workflow == null || workflow.isEmpty() || workflow.length() > MAX_WORKFLOW_NAME) return;
    Optional<AgentStopRecord> rec = tx.agentStop(agentId);
    if (rec.isEmpty() || rec.get().getReportedAllWorkflows()
        || rec.get().getReportedWorkflowsList().contains(workflow)) {
      return;
    }
    // One more than are kept: not keeping it would leave the agent outside a stop of a workflow
    // it runs (the stop a mismatch of this very run raises under the WORKFLOW policy), so every
    // workflow stop covers it from now on.
    AgentStopRecord.Builder next = rec.get().toBuilder();
    if (next.getReportedWorkflowsCount() >= MAX_WORKFLOWS) {
      next.setReportedAllWorkflows(true);
    } else {
      next.addReportedWorkflows(workflow);
    }
    tx.putAgentStop(next.build());
    recompute(tx, agentId, "", "");
  }

  /**
   * An agent's ack: counted only when it answers the agent's current desired (generation,
   * mode). Returns whether it counted.
   */
  static boolean ack(Tx tx, String agentId, StopAck ack) {
    return ack(tx, agentId, ack, new ArrayList<>());
  }

  /** As {@link #ack(Tx, String, StopAck)}; the ids of orders adopted from the ack go to {@code adoptedOut}. */
  static boolean ack(Tx tx, String agentId, StopAck ack, List<String> adoptedOut) {
    Optional<AgentStopRecord> rec = tx.agentStop(agentId);
    if (rec.isEmpty()) {
      tx.effect(new Effect.AckRefused(agentId, "ack before any desired state"));
      return false;
    }
    StopState d = rec.get().getDesired();
    boolean counts = ack.getGeneration() == d.getGeneration() && ack.getMode() == d.getMode();
    AgentStopRecord.Builder b = rec.get().toBuilder();
    if (counts) {
      StopAck clean = ack.toBuilder().setDetail(bound(ack.getDetail(), MAX_DETAIL)).build();
      StopAck previous = rec.get().getAck();
      if (previous.getGeneration() != clean.getGeneration() || previous.getMode() != clean.getMode()
          || previous.getEnacted() != clean.getEnacted() || previous.getVerified() != clean.getVerified()) {
        // the first answer to this desired state (resends are acked again): on the audit log, so
        // an incident's report can show each agent's confirmation
        Audits.system(tx, ack.getEnacted() && ack.getVerified() ? "StopConfirmed" : "StopFailed", agentId,
            confirmation(d) + (clean.getDetail().isEmpty() ? "" : ": " + clean.getDetail()));
      }
      b.setAck(clean).setAckedAt(Audits.ts(tx.nowMillis()));
      if (ack.getEnacted() && ack.getVerified()) {
        List<String> held = d.getMode() == StopMode.RUNNING ? List.of()
            : d.getOrdersList().stream().map(StopOrder::getId).toList();
        b.clearHeldOrderIds().addAllHeldOrderIds(held);
      }
    } else {
      tx.effect(new Effect.AckRefused(agentId, "ack of generation " + ack.getGeneration() + " "
          + ack.getMode() + " does not match the desired generation " + d.getGeneration() + " "
          + d.getMode()));
    }
    // what it holds (its STOPPED state's orders, a fail-safe order, one it kept): adopted if
    // unknown, held in any case, whether or not the ack counted
    List<String> adopted = ack.getHeldOrdersCount() == 0 ? List.of()
        : adopt(tx, agentId, ack.getHeldOrdersList(), b);
    AgentStopRecord next = b.build();
    if (!next.equals(rec.get())) tx.putAgentStop(next);
    StopState now = recompute(tx, agentId, "", "collector");
    if (!counts) catchUp(tx, agentId, now, ack.getGeneration(), true);
    if (!adopted.isEmpty() || counts) tx.effect(new Effect.StopChanged());
    adoptedOut.addAll(adopted);
    return counts;
  }

  // ------------------------------------------------------------------ helpers

  /** "generation G STOPPED orders A,B" or "generation G RUNNING released A,B": an audit detail. */
  static String confirmation(StopState d) {
    StringBuilder sb = new StringBuilder("generation ").append(d.getGeneration()).append(' ').append(d.getMode());
    if (d.getMode() == StopMode.STOPPED) {
      sb.append(" orders ").append(String.join(",", d.getOrdersList().stream().map(StopOrder::getId).toList()));
    } else if (d.getReleasedOrderIdsCount() > 0) {
      sb.append(" released ").append(String.join(",", d.getReleasedOrderIdsList()));
    }
    return sb.toString();
  }

  static String requireReason(String reason) {
    if (reason == null || reason.isBlank()) {
      throw new Refusal(Refusal.Code.INVALID_ARGUMENT, "a reason is required");
    }
    if (reason.length() > MAX_REASON) {
      throw new Refusal(Refusal.Code.INVALID_ARGUMENT, "reason is " + reason.length()
          + " characters; at most " + MAX_REASON);
    }
    return reason.strip();
  }

  static StopScope validScope(StopScope scope) {
    return switch (scope.getTargetCase()) {
      case TARGET_NOT_SET -> StopScope.newBuilder().setFleet(true).build();
      case FLEET -> {
        if (!scope.getFleet()) {
          throw new Refusal(Refusal.Code.INVALID_ARGUMENT, "scope.fleet must be true when set");
        }
        yield scope;
      }
      case WORKFLOW -> {
        if (scope.getWorkflow().isBlank() || scope.getWorkflow().length() > MAX_WORKFLOW_NAME) {
          throw new Refusal(Refusal.Code.INVALID_ARGUMENT,
              "scope.workflow must be a workflow name of 1 to " + MAX_WORKFLOW_NAME + " characters");
        }
        yield scope;
      }
      case AGENT_ID -> {
        if (!AGENT_ID.matcher(scope.getAgentId()).matches()) {
          throw new Refusal(Refusal.Code.INVALID_ARGUMENT, "scope.agent_id must match "
              + AGENT_ID.pattern() + ", got '" + bound(scope.getAgentId(), 140) + "'");
        }
        yield scope;
      }
    };
  }

  private static StopScope sanitized(StopScope s) {
    return switch (s.getTargetCase()) {
      case WORKFLOW -> StopScope.newBuilder().setWorkflow(bound(s.getWorkflow(), MAX_WORKFLOW_NAME))
          .build();
      case AGENT_ID -> StopScope.newBuilder().setAgentId(bound(s.getAgentId(), 140)).build();
      default -> StopScope.newBuilder().setFleet(true).build();
    };
  }

  /**
   * The distinct workflows an agent's "workflows" label lists, up to one more than
   * {@link #MAX_WORKFLOWS} or up to {@link LabelLimits#ALL_WORKFLOWS} (either means the agent is
   * covered by every workflow stop). A name longer than a stop scope may name is left out: no
   * stop can name it.
   */
  static List<String> workflowsLabel(Map<String, String> labels) {
    Set<String> out = new LinkedHashSet<>();
    String label = labels.getOrDefault(LabelLimits.WORKFLOWS, "");
    for (String w : label.split(",")) {
      String t = w.trim();
      if (!t.isEmpty() && t.length() <= MAX_WORKFLOW_NAME) out.add(t);
      if (out.size() > MAX_WORKFLOWS || t.equals(LabelLimits.ALL_WORKFLOWS)) break;
    }
    return List.copyOf(out);
  }

  public static String describe(StopScope scope) {
    return switch (scope.getTargetCase()) {
      case WORKFLOW -> "workflow " + scope.getWorkflow();
      case AGENT_ID -> "agent " + scope.getAgentId();
      default -> "fleet";
    };
  }

  /** {@code s} cut to {@code max} characters, marked "…" when cut (agent strings in messages). */
  public static String bound(String s, int max) {
    if (s == null) return "";
    return s.length() <= max ? s : s.substring(0, max) + "…";
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }
}
