package dev.lockstep.collector.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.Goldens;
import dev.lockstep.collector.correlate.CorrelationPolicy;
import dev.lockstep.collector.correlate.Replica;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.collector.correlate.Verdict;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.Severity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Random histories of golden reports against the real core: agents reporting their own roles,
 * other agents' roles, re-reports with the same or another hash, sweeps as time passes, and
 * transactions lost before their commit and replayed. After every step:
 *
 * <ul>
 *   <li>a role reported twice differently (two agents, or another hash) has a REPLICA_CONFLICT
 *       incident for that run and role, P0 when two hashes differ, and then a fleet stop order
 *       (this one's, or an earlier one that already covers it) and a run that is neither PENDING nor MATCH: no report is silently dropped;
 *   <li>a MATCH always compares equal hashes, a MISMATCH different ones;
 *   <li>no run is still PENDING after a sweep past its correlation window;
 *   <li>a run with every role reported once (late or not) is compared: MATCH or MISMATCH, never
 *       left MISSING_REPLICA.
 * </ul>
 */
class CorrelationPropertyTest {
  private static final int SEEDS = 150;
  private static final int STEPS = 80;
  private static final Duration WINDOW = Duration.ofMinutes(5);
  private static final List<String> ROLES = List.of("primary", "shadow");

  @Test
  void conflictingReportsAlwaysRaiseAndNoRunWaitsForever() {
    for (int seed = 0; seed < SEEDS; seed++) {
      new World(seed).run();
    }
  }

  /** A report as the model remembers it. */
  record Report(String agent, String hash) {}

  final class World {
    final long seed;
    final Random rnd;
    final MemoryState state = new MemoryState();
    final Map<String, Long> seqs = new HashMap<>();
    final Map<String, Set<Report>> byRunRole = new LinkedHashMap<>();
    final StringBuilder history = new StringBuilder();
    Core core;
    long now = 1_000_000;

    World(long seed) {
      this.seed = seed;
      this.rnd = new Random(seed);
      core = newCore(0);
    }

    Core newCore(int n) {
      return new Core(new CoreConfig(CoreConfig.StopPolicy.FLEET,
          CorrelationPolicy.primaryShadow(WINDOW), 1 << 20, 10), new Random(seed * 100 + n));
    }

    void run() {
      for (int step = 0; step < STEPS; step++) {
        step();
        check();
      }
    }

    void step() {
      int pick = rnd.nextInt(100);
      if (pick < 70) {
        report();
      } else if (pick < 85) {
        now += rnd.nextInt(3) == 0 ? WINDOW.toMillis() + 1 : rnd.nextInt(30_000);
        history.append("  t=").append(now).append('\n');
      } else {
        Tx tx = new Tx(state, now);
        core.apply(tx, new Input.Sweep());
        state.commit(tx);
        history.append("  sweep\n");
      }
    }

    void report() {
      String agent = "a" + rnd.nextInt(3);
      String run = "r" + rnd.nextInt(4);
      // mostly each agent reports "its" role; sometimes another's
      String role = rnd.nextInt(5) == 0 ? ROLES.get(rnd.nextInt(2))
          : ROLES.get(Integer.parseInt(agent.substring(1)) % 2);
      String variant = rnd.nextInt(4) == 0 ? "b" : "a";
      long seq = seqs.merge(agent, 1L, Long::sum);
      Input.Events in = new Input.Events(agent, Lane.DECISIVE, List.of(Goldens.golden(seq,
          Goldens.report(run, "billing", role, variant))), now);
      if (rnd.nextInt(10) == 0) {
        core.apply(new Tx(state, now), in); // lost before its commit: the restart replays it
        core = newCore(rnd.nextInt(1000));
        history.append("  (lost, replayed) ");
      }
      Tx tx = new Tx(state, now);
      core.apply(tx, in);
      state.commit(tx);
      byRunRole.computeIfAbsent(run + "/" + role, k -> new LinkedHashSet<>())
          .add(new Report(agent, Goldens.hash("doc-" + variant)));
      history.append("  ").append(agent).append(" #").append(seq).append(" reports ").append(run)
          .append(' ').append(role).append(' ').append(variant).append('\n');
    }

    String where() {
      return "seed " + seed + ", history:\n" + history;
    }

    void check() {
      byRunRole.forEach((key, reports) -> {
        if (reports.size() < 2) return;
        String run = key.substring(0, key.indexOf('/'));
        boolean differ = reports.stream().map(Report::hash).distinct().count() > 1;
        Incident conflict = state.incidents.values().stream()
            .filter(i -> i.getCategory().equals("REPLICA_CONFLICT") && i.getSignature().endsWith("|" + key))
            .findFirst().orElse(null);
        assertThat(conflict).as(key + " reported as " + reports + " raised nothing; " + where()).isNotNull();
        assertThat(conflict.getRunIdsList()).as(where()).contains(run);
        if (differ) {
          assertThat(conflict.getSeverity()).as(key + "; " + where()).isEqualTo(Severity.P0);
          assertThat(state.orders.values()).as(key + ": a fleet order stops it; " + where())
              .anySatisfy(o -> assertThat(o.getScope().getFleet()).isTrue());
          Verdict v = state.runs.get(run).verdict();
          assertThat(v).as(key + ": run verdict; " + where())
              .isNotIn(Verdict.PENDING, Verdict.MATCH);
        }
      });
      for (RunState r : state.runs.values()) {
        boolean eachRoleOnce = ROLES.stream().allMatch(role ->
            byRunRole.getOrDefault(r.runId() + "/" + role, Set.of()).size() == 1);
        if (eachRoleOnce) {
          assertThat(r.verdict()).as(r.runId() + ": every role reported once; " + where())
              .isIn(Verdict.MATCH, Verdict.MISMATCH);
        }
        if (r.verdict() == Verdict.MATCH || r.verdict() == Verdict.MISMATCH) {
          List<String> hashes = new ArrayList<>();
          for (String role : ROLES) {
            r.replicas().stream().filter(x -> x.role().equals(role)).findFirst()
                .map(Replica::summary).ifPresent(s -> hashes.add(s.canonicalHash()));
          }
          assertThat(hashes).as(r.runId() + "; " + where()).hasSize(2);
          assertThat(hashes.get(0).equals(hashes.get(1))).as(r.runId() + " " + r.verdict() + "; " + where())
              .isEqualTo(r.verdict() == Verdict.MATCH);
        }
      }
      Tx tx = new Tx(state, now);
      core.apply(tx, new Input.Sweep()); // not committed: what a sweep now would leave pending
      for (RunState r : tx.pendingRuns()) {
        assertThat(r.deadlineMillis()).as(r.runId() + " pending past its window; " + where())
            .isGreaterThan(now);
      }
    }
  }
}
