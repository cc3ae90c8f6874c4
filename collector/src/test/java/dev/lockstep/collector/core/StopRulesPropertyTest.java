package dev.lockstep.collector.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.correlate.CorrelationPolicy;
import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopState;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Random histories of the stop protocol against the real core: orders, resumes, agents that
 * connect, disconnect, restart, fall back to their fail-safe and report workflows, collector
 * restarts from the current store and from older backups, and hostile Hellos and acks. Simulated
 * agents follow the agent's rules (enact what differs, re-ack what is the same, leave STOPPED only
 * when every held order is released). After every step:
 *
 * <ul>
 *   <li>no agent an active order covers is ever sent RUNNING, and no agent is ever resumed while
 *       it holds an active order;
 *   <li>every agent's desired state is STOPPED exactly when an active order covers it;
 *   <li>generations never go backwards in a store's history, and every change made after a restore
 *       from an older backup takes a generation above everything sent before; far from overflow.
 * </ul>
 *
 * At the end every agent connects and the messages settle: every agent then runs its desired
 * state and the collector holds its matching ack. The seed is in every failure message.
 */
class StopRulesPropertyTest {
  private static final int SEEDS = 400;
  private static final int STEPS = 120;
  private static final List<String> WORKFLOWS = List.of("billing", "ledger");

  @Test
  void randomHistoriesNeverResumeACoveredAgentAndSettleConfirmed() {
    for (int seed = 0; seed < SEEDS; seed++) {
      new World(seed).run();
    }
  }

  /** One simulated agent host: what it enacted and what the collector sent it. */
  static final class SimAgent {
    final String id;
    final List<String> labels = new ArrayList<>();
    boolean connected;
    long connectionId;
    StopState enacted = StopState.newBuilder().setGeneration(0).setMode(StopMode.RUNNING).build();
    boolean local;
    boolean lastFailed;
    /** States received and not enacted yet: the enactor still runs one after its stream broke. */
    final ArrayDeque<StopState> inbox = new ArrayDeque<>();
    /** Acks made while no stream was open: sent after the next Welcome. */
    final ArrayDeque<StopAck> outbox = new ArrayDeque<>();

    SimAgent(String id) {
      this.id = id;
    }

    List<String> held() {
      return held(enacted);
    }

    List<String> held(StopState s) {
      return s.getMode() == StopMode.STOPPED
          ? s.getOrdersList().stream().map(StopOrder::getId).toList() : List.of();
    }

    boolean same(StopState d) {
      return !local && d.getGeneration() == enacted.getGeneration() && d.getMode() == enacted.getMode()
          && held().containsAll(d.getOrdersList().stream().map(StopOrder::getId).toList());
    }

    /** As the agent's EnactedStop.merged: a STOPPED state keeps held orders it does not release. */
    StopState merged(StopState d) {
      if (d.getMode() != StopMode.STOPPED || enacted.getMode() != StopMode.STOPPED) return d;
      StopState.Builder b = d.toBuilder();
      List<String> named = d.getOrdersList().stream().map(StopOrder::getId).toList();
      for (StopOrder o : enacted.getOrdersList()) {
        if (!named.contains(o.getId()) && !d.getReleasedOrderIdsList().contains(o.getId())) b.addOrders(o);
      }
      return b.build();
    }
  }

  final class World {
    final long seed;
    final Random rnd;
    final Map<String, SimAgent> agents = new LinkedHashMap<>();
    final List<MemoryState> backups = new ArrayList<>();
    final Map<String, Long> maxGeneration = new HashMap<>();
    final Map<String, Long> maxSent = new HashMap<>();
    /** Orders an operator resumed, in any incarnation of the store (restores forget some). */
    final Set<String> resumedEver = new TreeSet<>();
    final StringBuilder history = new StringBuilder();
    MemoryState store = new MemoryState();
    Core core;
    long now = 1_000_000;
    long connections;
    int restarts;

    World(long seed) {
      this.seed = seed;
      this.rnd = new Random(seed);
      newCore();
      int n = 2 + rnd.nextInt(4);
      for (int i = 0; i < n; i++) {
        SimAgent a = new SimAgent("a" + i);
        if (rnd.nextBoolean()) a.labels.add(WORKFLOWS.get(rnd.nextInt(WORKFLOWS.size())));
        agents.put(a.id, a);
      }
    }

    void newCore() {
      core = new Core(new CoreConfig(CoreConfig.StopPolicy.FLEET,
          CorrelationPolicy.primaryShadow(Duration.ofMinutes(5)), 1 << 20, 10),
          new Random(seed * 1000 + restarts++));
    }

    String where() {
      return "seed " + seed + ", history:\n" + history;
    }

    void run() {
      for (int step = 0; step < STEPS; step++) {
        step();
        checkState();
      }
      settle();
    }

    // ------------------------------------------------------------------ actions

    void step() {
      int pick = rnd.nextInt(100);
      List<SimAgent> all = new ArrayList<>(agents.values());
      SimAgent a = all.get(rnd.nextInt(all.size()));
      if (pick < 12) {
        issue();
      } else if (pick < 20) {
        resume();
      } else if (pick < 35) {
        if (!a.connected) connect(a);
      } else if (pick < 42) {
        if (a.connected) disconnect(a);
      } else if (pick < 65) {
        deliver(a, 1 + rnd.nextInt(3));
      } else if (pick < 70) {
        reportWorkflow(a);
      } else if (pick < 75) {
        resend();
      } else if (pick < 78) {
        log("collector restart");
        restart(store);
      } else if (pick < 81) {
        if (!backups.isEmpty()) {
          log("collector restored from backup");
          restart(backups.get(rnd.nextInt(backups.size())).copy());
        }
      } else if (pick < 86) {
        backups.add(store.copy());
      } else if (pick < 89) {
        if (!a.connected && a.enacted.getMode() == StopMode.RUNNING) failsafe(a);
      } else if (pick < 94) {
        hostileHello(a);
      } else {
        hostileAck(a);
      }
    }

    void log(String s) {
      history.append("  ").append(s).append('\n');
    }

    void issue() {
      StopScope scope;
      int k = rnd.nextInt(3);
      if (k == 0) {
        scope = StopScope.newBuilder().setFleet(true).build();
      } else if (k == 1) {
        scope = StopScope.newBuilder().setAgentId("a" + rnd.nextInt(agents.size())).build();
      } else {
        scope = StopScope.newBuilder().setWorkflow(WORKFLOWS.get(rnd.nextInt(2))).build();
      }
      Object r = apply(new Input.IssueOrder(scope, "reason", "op", "operator", ""));
      log("issue " + StopRules.describe(scope) + " -> " + (r instanceof StopOrder o ? o.getId() : r));
    }

    void resume() {
      List<String> active = new ArrayList<>(store.orders.keySet());
      Object r;
      if (active.isEmpty() || rnd.nextInt(4) == 0) {
        r = apply(new Input.Resume(active, true, "fixed", "op", "operator", ""));
        log("resume all -> " + r);
      } else {
        List<String> pick = List.of(active.get(rnd.nextInt(active.size())));
        r = apply(new Input.Resume(pick, false, "fixed", "op", "operator", ""));
        log("resume " + pick + " -> " + r);
      }
      if (r instanceof List<?> ids) ids.forEach(id -> resumedEver.add((String) id));
    }

    void connect(SimAgent a) {
      a.connected = true;
      a.connectionId = ++connections;
      StopState enacted = a.enacted;
      Map<String, String> labels = a.labels.isEmpty() ? Map.of() : Map.of("workflows", String.join(",", a.labels));
      Object r = apply(new Input.Hello(a.id, a.connectionId, labels, enacted));
      log("connect " + a.id + " enacted g" + enacted.getGeneration() + " " + enacted.getMode()
          + " " + a.held() + (a.local ? " (fail-safe)" : "") + " -> " + brief(r));
      if (r instanceof Refusal) {
        a.connected = false;
        return;
      }
      while (!a.outbox.isEmpty()) {
        StopAck ack = a.outbox.poll();
        log(a.id + " sends a queued ack g" + ack.getGeneration() + " " + ack.getMode() + " -> "
            + apply(new Input.Ack(a.id, ack)));
      }
    }

    /** The stream breaks: the enactor may still run the newest state it was handed. */
    void dropStream(SimAgent a) {
      a.connected = false;
      StopState last = a.inbox.peekLast();
      a.inbox.clear();
      if (last != null && rnd.nextBoolean()) a.inbox.add(last);
    }

    void disconnect(SimAgent a) {
      log("disconnect " + a.id);
      dropStream(a);
    }

    void restart(MemoryState from) {
      now += 1_000; // a restart takes time: the clock moves on
      store = from;
      maxGeneration.clear();
      from.agentStops.forEach((id, r) -> maxGeneration.put(id, r.getDesired().getGeneration()));
      newCore();
      for (SimAgent a : agents.values()) dropStream(a);
    }

    void failsafe(SimAgent a) {
      StopOrder o = StopOrder.newBuilder().setId("FAILSAFE-" + a.id + "-" + now)
          .setScope(StopScope.newBuilder().setAgentId(a.id)).setReason("fail-safe").build();
      a.enacted = a.enacted.toBuilder().setMode(StopMode.STOPPED).clearOrders().addOrders(o)
          .clearReleasedOrderIds().build();
      a.local = true;
      a.inbox.clear(); // the fail-safe replaces what the enactor was handed
      a.outbox.add(ack(a.enacted, a.held(a.enacted), true, "fail-safe"));
      log("fail-safe stop on " + a.id);
    }

    void reportWorkflow(SimAgent a) {
      if (!a.connected) return;
      String w = WORKFLOWS.get(rnd.nextInt(2));
      Tx tx = new Tx(store, now++);
      StopRules.reportedWorkflow(tx, a.id, w);
      commit(tx);
      log(a.id + " reports a run of " + w);
    }

    void resend() {
      for (SimAgent a : agents.values()) {
        if (!a.connected) continue;
        AgentStopRecord r = store.agentStops.get(a.id);
        if (r == null) continue;
        StopAck ack = r.getAck();
        if (!r.hasAck() || ack.getGeneration() != r.getDesired().getGeneration()
            || ack.getMode() != r.getDesired().getMode()) {
          a.inbox.add(r.getDesired());
        }
      }
    }

    void hostileHello(SimAgent a) {
      if (a.connected) disconnect(a);
      StopState.Builder fake = StopState.newBuilder()
          .setGeneration(rnd.nextBoolean() ? Long.MAX_VALUE - 1 : -rnd.nextInt(1000))
          .setMode(rnd.nextBoolean() ? StopMode.RUNNING : StopMode.STOPPED);
      int orders = rnd.nextInt(10) == 0 ? 65 : rnd.nextInt(3);
      for (int i = 0; i < orders; i++) {
        String id = rnd.nextBoolean() && !store.resumed.isEmpty()
            ? new ArrayList<>(store.resumed.keySet()).get(rnd.nextInt(store.resumed.size()))
            : "ORD-FAKE-" + rnd.nextInt(5);
        fake.addOrders(StopOrder.newBuilder().setId(id).setScope(StopScope.newBuilder().setFleet(true)));
      }
      // A stream of another client with this agent's certificate: the real agent is not on it.
      Object r = apply(new Input.Hello(a.id, ++connections, Map.of(), fake.build()));
      log("hostile hello " + a.id + " g" + fake.getGeneration() + " " + fake.getMode() + " "
          + fake.getOrdersCount() + " orders -> " + brief(r));
    }

    void hostileAck(SimAgent a) {
      if (!a.connected) return;
      AgentStopRecord before = store.agentStops.get(a.id);
      long g = switch (rnd.nextInt(4)) {
        case 0 -> Long.MAX_VALUE;
        case 1 -> -1;
        case 2 -> before == null ? 5 : before.getDesired().getGeneration() + 1;
        default -> before == null ? 0 : before.getDesired().getGeneration();
      };
      StopMode m = rnd.nextBoolean() ? StopMode.RUNNING : StopMode.STOPPED;
      Object r = apply(new Input.Ack(a.id, StopAck.newBuilder().setGeneration(g).setMode(m)
          .setEnacted(true).setVerified(true).build()));
      boolean matches = before != null && g == before.getDesired().getGeneration()
          && m == before.getDesired().getMode();
      log("hostile ack " + a.id + " g" + g + " " + m + " -> " + r);
      assertThat(r).as("an ack counts only when it matches the desired state; " + where())
          .isEqualTo(matches);
      if (matches) {
        // It "confirmed" a state the simulated agent may not run: make the agent run it, as a
        // real agent that sent this ack would have.
        a.inbox.add(before.getDesired());
      }
    }

    /**
     * The agent takes up to {@code n} desired states from its inbox, enacts and acks (an ack made
     * while its stream is down waits for the next one).
     */
    void deliver(SimAgent a, int n) {
      for (int i = 0; i < n && !a.inbox.isEmpty(); i++) {
        StopState d = a.inbox.poll();
        StopAck ack;
        if (a.same(d)) {
          ack = ack(d, a.held(), !a.lastFailed, "same");
        } else if (d.getMode() == StopMode.RUNNING && a.enacted.getMode() == StopMode.STOPPED
            && !d.getReleasedOrderIdsList().containsAll(a.held())) {
          ack = ack(d, a.held(), false, "refused: unreleased orders");
          log(a.id + " refuses RUNNING g" + d.getGeneration() + " holding " + a.held());
        } else {
          if (d.getMode() == StopMode.RUNNING && a.enacted.getMode() == StopMode.STOPPED) {
            // the promise: an agent runs again only when an operator resumed every order it held
            // (a state sent just before a restore may arrive after it: the resume still happened)
            for (String held : a.held()) {
              assertThat(resumedEver).as(a.id + " resumed while holding " + held + ", which no"
                  + " operator resumed; " + where()).contains(held);
            }
          }
          a.enacted = a.merged(d);
          a.local = false;
          a.lastFailed = rnd.nextInt(20) == 0;
          ack = ack(d, a.held(), !a.lastFailed, "enacted");
          log(a.id + " enacts g" + d.getGeneration() + " " + d.getMode() + " " + a.held()
              + (a.lastFailed ? " (hook failed)" : "") + (a.connected ? "" : " (stream down)"));
        }
        if (a.connected) {
          apply(new Input.Ack(a.id, ack));
        } else {
          a.outbox.add(ack);
        }
      }
    }

    StopAck ack(StopState d, List<String> held, boolean ok, String detail) {
      StopAck.Builder b = StopAck.newBuilder().setGeneration(d.getGeneration()).setMode(d.getMode())
          .setEnacted(ok).setVerified(ok).setDetail(detail);
      for (String id : held) b.addHeldOrders(StopOrder.newBuilder().setId(id).setReason("held"));
      return b.build();
    }

    // ------------------------------------------------------------------ the core

    Object apply(Input in) {
      Tx tx = new Tx(store, now++);
      Object r;
      try {
        r = core.apply(tx, in);
      } catch (Refusal e) {
        assertThat(tx.isEmpty()).as("a refusal writes nothing; " + where()).isTrue();
        return e;
      }
      commit(tx);
      return r;
    }

    void commit(Tx tx) {
      Map<String, Long> before = new HashMap<>();
      store.agentStops.forEach((id, r) -> before.put(id, r.getDesired().getGeneration()));
      store.commit(tx);
      store.agentStops.forEach((id, r) -> {
        long g = r.getDesired().getGeneration();
        if (!before.containsKey(id) || before.get(id) != g) {
          assertThat(g).as("new generation of " + id + " above every one sent before; " + where())
              .isGreaterThan(maxSent.getOrDefault(id, 0L));
        }
      });
      for (Effect e : tx.effects()) {
        if (e instanceof Effect.SendStop s) {
          SimAgent a = agents.get(s.agentId());
          boolean real = a != null && a.connected;
          sent(s.agentId(), s.desired(), real);
          if (real) a.inbox.add(s.desired());
        } else if (e instanceof Effect.Welcome w) {
          SimAgent a = agents.get(w.agentId());
          boolean real = a != null && a.connected && a.connectionId == w.connectionId();
          sent(w.agentId(), w.desired(), real);
          if (real) a.inbox.add(w.desired());
        }
      }
    }

    /** A desired state left the collector: RUNNING only for an agent no active order covers. */
    void sent(String agentId, StopState d, boolean toRealAgent) {
      maxSent.merge(agentId, d.getGeneration(), Math::max);
      if (d.getMode() != StopMode.RUNNING) return;
      AgentStopRecord rec = store.agentStops.get(agentId);
      SimAgent a = agents.get(agentId);
      for (StopOrder o : store.orders.values()) {
        assertThat(StopRules.covers(o, rec)).as("RUNNING sent to " + agentId + " covered by "
            + o.getId() + "; " + where()).isFalse();
        if (toRealAgent && !a.local) {
          assertThat(a.held()).as("RUNNING sent to " + agentId + " that holds active " + o.getId()
              + "; " + where()).doesNotContain(o.getId());
        }
      }
    }

    void checkState() {
      for (AgentStopRecord r : store.agentStops.values()) {
        boolean covered = store.orders.values().stream().anyMatch(o -> StopRules.covers(o, r));
        assertThat(r.getDesired().getMode()).as(r.getAgentId() + " desired vs coverage; " + where())
            .isEqualTo(covered ? StopMode.STOPPED : StopMode.RUNNING);
        long g = r.getDesired().getGeneration();
        assertThat(g).as("generation of " + r.getAgentId() + " went backwards; " + where())
            .isGreaterThanOrEqualTo(maxGeneration.getOrDefault(r.getAgentId(), 0L));
        assertThat(g).as("generation far from overflow; " + where()).isLessThan(1L << 50);
        maxGeneration.put(r.getAgentId(), g);
        Set<String> ids = new TreeSet<>();
        r.getDesired().getOrdersList().forEach(o -> ids.add(o.getId()));
        assertThat(ids).as("desired orders are active; " + where()).isSubsetOf(store.orders.keySet());
      }
    }

    /** Everyone connects, messages flow until nothing changes: everyone runs its desired state. */
    void settle() {
      log("settle");
      for (SimAgent a : agents.values()) {
        if (!a.connected) connect(a);
      }
      for (int round = 0; round < 60; round++) {
        boolean moved = false;
        for (SimAgent a : agents.values()) {
          if (!a.connected) connect(a);
          while (!a.inbox.isEmpty()) {
            a.lastFailed = false;
            deliver(a, 1);
            moved = true;
          }
        }
        resend();
        checkState();
        if (!moved && agents.values().stream().allMatch(a -> a.inbox.isEmpty())) break;
      }
      for (SimAgent a : agents.values()) {
        AgentStopRecord r = store.agentStops.get(a.id);
        assertThat(r).as(a.id + " known; " + where()).isNotNull();
        StopState d = r.getDesired();
        assertThat(a.enacted.getMode()).as(a.id + " runs its desired mode; " + where()).isEqualTo(d.getMode());
        assertThat(a.enacted.getGeneration()).as(a.id + " runs its desired generation; " + where())
            .isEqualTo(d.getGeneration());
        assertThat(r.getAck().getGeneration()).as(a.id + " ack; " + where()).isEqualTo(d.getGeneration());
        assertThat(r.getAck().getMode()).as(a.id + " ack; " + where()).isEqualTo(d.getMode());
        boolean covered = store.orders.values().stream().anyMatch(o -> StopRules.covers(o, r));
        assertThat(d.getMode()).isEqualTo(covered ? StopMode.STOPPED : StopMode.RUNNING);
      }
    }

    String brief(Object r) {
      if (r instanceof StopState s) return "g" + s.getGeneration() + " " + s.getMode();
      if (r instanceof Refusal e) return "refused " + e.code() + ": " + e.getMessage();
      return String.valueOf(r);
    }
  }
}
