package dev.lockstep.collector.correlate;

import dev.lockstep.golden.Classification;
import dev.lockstep.golden.Classifier;
import dev.lockstep.golden.Majority;
import dev.lockstep.golden.RunSummary;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Groups golden reports by run_id and decides each run once all expected replicas are in: two
 * replicas with the golden Classifier (each against the primary), three or more by majority vote
 * with the dissenting hosts blamed. A run still incomplete when its correlation window closes is
 * MISSING_REPLICA.
 *
 * <p>A role names ONE replica of a run. A second, different report of a role — another agent
 * claiming it, or the same agent re-reporting it with another canonical hash — is a conflict,
 * never dropped: it yields a REPLICA_CONFLICT decision (an incident, P0 when the hashes differ)
 * and, when the hashes differ, decides a pending run as REPLICA_CONFLICT at once (which report is
 * right cannot be known, so the run must not wait or be judged on either) and voids a MATCH or a
 * MISSING_REPLICA (which late replicas could otherwise complete and compare).
 *
 * <p>A pure function of its inputs and its {@link RunStateStore}: no clock (callers pass now), no
 * threads, no I/O. Invariant: every run is decided at most once, except that a conflict may turn
 * a MATCH into REPLICA_CONFLICT, and a MISSING_REPLICA run is compared (once) when replicas
 * arriving after its window complete it; other replicas arriving after the decision are kept
 * (bounded) without changing it, and offering the same report (agent, role, hash) twice changes
 * nothing.
 */
public final class Correlator {
  /** Reports kept per run (conflicting re-reports beyond this still raise, are not kept). */
  static final int MAX_REPLICAS = 16;

  private final CorrelationPolicy policy;

  public Correlator(CorrelationPolicy policy) {
    this.policy = policy;
  }

  /**
   * Adds one replica to {@code store}'s state; returns the run's decision when this replica
   * completed it.
   */
  public Optional<Decision> offer(RunStateStore store, Replica replica, long nowMillis) {
    RunSummary s = replica.summary();
    String runId = s.runId();
    RunState state = store.get(runId).orElseGet(() -> new RunState(runId, s.workflow(), nowMillis,
        nowMillis + policy.window().toMillis(), List.of(), Verdict.PENDING, 0, "", "", ""));
    for (Replica r : state.replicas()) {
      if (r.role().equals(replica.role())) return conflict(store, state, r, replica, nowMillis);
    }
    if (state.verdict() != Verdict.PENDING) {
      // Too late to change the decision; kept (bounded) so that a later conflict is seen.
      if (state.replicas().size() < MAX_REPLICAS) {
        List<Replica> kept = new ArrayList<>(state.replicas());
        kept.add(replica);
        RunState late = new RunState(runId, state.workflow(), state.firstSeenMillis(),
            state.deadlineMillis(), kept, Verdict.PENDING, 0, "", "", "");
        if (state.verdict() == Verdict.MISSING_REPLICA && complete(late)) {
          // The replicas it waited for came after all: compared now, late, rather than never
          // (a run somebody reported first under a role nobody runs, or a slow host, would
          // otherwise hide a real mismatch for good).
          Decision d = decide(store, late);
          d = withExplanation(d, d.explanation() + (d.explanation().isEmpty() ? "" : "; ")
              + "compared late: the run was MISSING_REPLICA at its window's end");
          store.put(new RunState(runId, state.workflow(), state.firstSeenMillis(),
              state.deadlineMillis(), kept, d.verdict(), nowMillis, d.category(), d.explanation(),
              state.incidentId()));
          return Optional.of(d);
        }
        store.put(new RunState(runId, state.workflow(), state.firstSeenMillis(),
            state.deadlineMillis(), kept, state.verdict(), state.decidedAtMillis(),
            state.category(), state.explanation(), state.incidentId()));
      }
      return Optional.empty();
    }
    List<Replica> replicas = new ArrayList<>(state.replicas());
    replicas.add(replica);
    String workflow = state.workflow() == null || state.workflow().isEmpty()
        ? s.workflow() : state.workflow();
    RunState grown = new RunState(runId, workflow, state.firstSeenMillis(),
        state.deadlineMillis(), replicas, Verdict.PENDING, 0, "", "", "");
    if (!complete(grown)) {
      store.put(grown);
      return Optional.empty();
    }
    Decision d = decide(store, grown);
    store.put(new RunState(runId, workflow, grown.firstSeenMillis(), grown.deadlineMillis(),
        replicas, d.verdict(), nowMillis, d.category(), d.explanation(), ""));
    return Optional.of(d);
  }

  /**
   * {@code incoming} reports a role {@code kept} already holds. The same report again (agent,
   * role and hash of a kept replica) changes nothing; anything else is a conflict.
   */
  private Optional<Decision> conflict(RunStateStore store, RunState state, Replica kept,
      Replica incoming, long nowMillis) {
    String hash = incoming.summary().canonicalHash();
    for (Replica r : state.replicas()) {
      if (r.agentId().equals(incoming.agentId()) && r.role().equals(incoming.role())
          && r.summary().canonicalHash().equals(hash)) {
        return Optional.empty();
      }
    }
    boolean differ = !kept.summary().canonicalHash().equals(hash);
    String how = kept.agentId().equals(incoming.agentId())
        ? "re-reported by " + incoming.agentId() + " with another canonical hash"
        : "reported by both " + kept.agentId() + " and " + incoming.agentId()
            + (differ ? " with different canonical hashes" : " with the same canonical hash");
    String explanation = "role " + incoming.role() + " of run " + state.runId() + " " + how + " ("
        + kept.agentId() + ": " + kept.summary().canonicalHash() + " at " + kept.path() + "; "
        + incoming.agentId() + ": " + hash + " at " + incoming.path() + ")"
        + (differ ? "; which report is right cannot be known: the run is not compared"
            : "; each role must be reported by one agent only");
    List<Replica> pair = List.of(kept, incoming);
    Decision d = new Decision(state.runId(), state.workflow(), Verdict.REPLICA_CONFLICT,
        "REPLICA_CONFLICT", -1, "", explanation, hosts(pair), List.of(), pair, List.of());
    if (differ) {
      List<Replica> replicas = new ArrayList<>(state.replicas());
      if (replicas.size() < MAX_REPLICAS) replicas.add(incoming);
      // MISSING_REPLICA too: late replicas would otherwise compare a run whose role has two reports
      boolean decideNow = state.verdict() == Verdict.PENDING || state.verdict() == Verdict.MATCH
          || state.verdict() == Verdict.MISSING_REPLICA;
      store.put(new RunState(state.runId(), state.workflow(), state.firstSeenMillis(),
          state.deadlineMillis(), replicas, decideNow ? Verdict.REPLICA_CONFLICT : state.verdict(),
          decideNow ? nowMillis : state.decidedAtMillis(),
          decideNow ? "REPLICA_CONFLICT" : state.category(),
          decideNow ? explanation : state.explanation(), state.incidentId()));
    }
    return Optional.of(d);
  }

  /** Decides every pending run whose window closed at or before {@code nowMillis}. */
  public List<Decision> sweep(RunStateStore store, long nowMillis) {
    List<Decision> out = new ArrayList<>();
    List<RunState> due = new ArrayList<>();
    for (RunState s : store.pending()) {
      if (s.deadlineMillis() <= nowMillis) due.add(s);
    }
    due.sort(Comparator.comparingLong(RunState::deadlineMillis));
    for (RunState s : due) {
      List<String> missing = missing(s);
      String explanation = "run " + s.runId() + ": " + describeMissing(s, missing)
          + " did not report within " + policy.window().toSeconds() + " s";
      Decision d = new Decision(s.runId(), s.workflow(), Verdict.MISSING_REPLICA,
          "MISSING_REPLICA", -1, "", explanation, hosts(s.replicas()), List.of(), s.replicas(),
          missing);
      store.put(new RunState(s.runId(), s.workflow(), s.firstSeenMillis(), s.deadlineMillis(),
          s.replicas(), Verdict.MISSING_REPLICA, nowMillis, d.category(), explanation, ""));
      out.add(d);
    }
    return out;
  }

  private boolean complete(RunState s) {
    CorrelationPolicy.Expected e = policy.expectedFor(s.workflow());
    if (e.count() > 0) return s.replicas().size() >= e.count();
    Set<String> roles = new LinkedHashSet<>();
    for (Replica r : s.replicas()) roles.add(r.role());
    return roles.containsAll(e.roles());
  }

  private List<String> missing(RunState s) {
    CorrelationPolicy.Expected e = policy.expectedFor(s.workflow());
    if (e.count() > 0) return List.of((e.count() - s.replicas().size()) + " of " + e.count() + " replicas");
    List<String> out = new ArrayList<>(e.roles());
    for (Replica r : s.replicas()) out.remove(r.role());
    return out;
  }

  private static String describeMissing(RunState s, List<String> missing) {
    String have = s.replicas().isEmpty() ? "none" : String.join(", ",
        s.replicas().stream().map(r -> r.role() + "@" + r.agentId()).toList());
    return "missing " + String.join(", ", missing) + " (have " + have + ")";
  }

  private Decision decide(RunStateStore store, RunState s) {
    List<Replica> replicas = s.replicas();
    if (replicas.size() >= 3) return vote(store, s);
    Replica primary = primaryOf(replicas);
    Replica other = replicas.get(0) == primary ? replicas.get(1) : replicas.get(0);
    Classification c = Classifier.classify(primary.summary(), other.summary());
    return fromClassification(s, c, List.of());
  }

  private Decision vote(RunStateStore store, RunState s) {
    Map<String, RunSummary> byKey = new TreeMap<>();
    Map<String, Replica> replicaByKey = new TreeMap<>();
    for (Replica r : s.replicas()) {
      String key = r.role() + "@" + r.agentId();
      byKey.put(key, r.summary());
      replicaByKey.put(key, r);
    }
    Majority.Vote<String> vote = Majority.vote(byKey);
    Set<String> voters = new LinkedHashSet<>();
    for (Replica r : s.replicas()) voters.add(r.agentId());
    if (vote.dissenters().isEmpty() && vote.goodHash() != null) {
      for (String h : voters) count(store, h, false);
      return fromClassification(s, Classification.matched(), List.of());
    }
    if (vote.goodHash() == null) {
      // No strict majority: compare against the primary, blame nobody.
      Replica primary = primaryOf(s.replicas());
      Replica other = null;
      for (Replica r : s.replicas()) {
        if (r != primary && !r.summary().canonicalHash().equals(primary.summary().canonicalHash())) {
          other = r;
          break;
        }
      }
      if (other == null) other = s.replicas().get(s.replicas().get(0) == primary ? 1 : 0);
      Classification c = Classifier.classify(primary.summary(), other.summary());
      Decision d = fromClassification(s, c, List.of());
      return withExplanation(d, d.explanation() + "; no majority among "
          + s.replicas().size() + " replicas, nobody blamed");
    }
    Replica good = null;
    for (Map.Entry<String, Replica> e : replicaByKey.entrySet()) {
      if (!vote.dissenters().contains(e.getKey())) {
        good = e.getValue();
        if ("primary".equals(good.role())) break;
      }
    }
    Replica bad = replicaByKey.get(vote.dissenters().get(0));
    Set<String> blamed = new LinkedHashSet<>();
    for (String k : vote.dissenters()) blamed.add(replicaByKey.get(k).agentId());
    for (String h : voters) count(store, h, blamed.contains(h));
    Classification c = Classifier.classify(good.summary(), bad.summary());
    if (c.match()) {
      // Equal after classification rules (for example only volatile fields differ in the hash).
      return fromClassification(s, c, List.of());
    }
    Decision d = fromClassification(s, c, List.copyOf(blamed));
    return withExplanation(d, d.explanation() + "; " + blameText(store, blamed, s.replicas().size()));
  }

  private static void count(RunStateStore store, String host, boolean blamed) {
    HostStats h = store.hostStats(host);
    store.putHostStats(new HostStats(host, h.voted() + 1, h.blamed() + (blamed ? 1 : 0)));
  }

  /** Tells "one bad host" from "a code bug" using every host's vote history. */
  private static String blameText(RunStateStore store, Set<String> blamed, int replicas) {
    StringBuilder sb = new StringBuilder("majority of ").append(replicas)
        .append(" replicas blames ").append(String.join(", ", blamed)).append(": ");
    long othersBlamed = 0;
    List<String> spread = new ArrayList<>();
    for (HostStats h : store.allHostStats()) {
      if (h.blamed() == 0) continue;
      spread.add(h.host() + " " + h.blamed() + "/" + h.voted());
      if (!blamed.contains(h.host())) othersBlamed += h.blamed();
    }
    spread.sort(null);
    if (othersBlamed == 0) {
      StringBuilder rates = new StringBuilder();
      for (String b : blamed) {
        HostStats h = store.hostStats(b);
        if (rates.length() > 0) rates.append(", ");
        rates.append(b).append(" out-voted in ").append(h.blamed()).append(" of ")
            .append(h.voted()).append(" voted runs");
      }
      sb.append(rates).append(", no other host ever out-voted: likely a bad host");
    } else {
      sb.append("divergence spread over hosts (").append(String.join(", ", spread))
          .append("): likely a code bug, not one host");
    }
    return sb.toString();
  }

  private static Replica primaryOf(List<Replica> replicas) {
    for (Replica r : replicas) {
      if ("primary".equals(r.role())) return r;
    }
    return replicas.get(0);
  }

  private static List<String> hosts(List<Replica> replicas) {
    Set<String> out = new java.util.TreeSet<>();
    for (Replica r : replicas) out.add(r.agentId());
    return List.copyOf(out);
  }

  private static Decision fromClassification(RunState s, Classification c, List<String> blamed) {
    boolean match = c.match();
    String category = match || c.category() == null ? "" : c.category().name();
    int step = c.firstDivergentStep() == null ? -1 : c.firstDivergentStep().index();
    String stepName = c.firstDivergentStep() == null || c.firstDivergentStep().name() == null
        ? "" : c.firstDivergentStep().name();
    return new Decision(s.runId(), s.workflow(), match ? Verdict.MATCH : Verdict.MISMATCH,
        category, step, stepName, c.explanation() == null ? "" : c.explanation(),
        hosts(s.replicas()), blamed, s.replicas(), List.of());
  }

  private static Decision withExplanation(Decision d, String explanation) {
    return new Decision(d.runId(), d.workflow(), d.verdict(), d.category(), d.firstStepIndex(),
        d.firstStepName(), explanation, d.hosts(), d.blamedHosts(), d.replicas(),
        d.missingRoles());
  }
}
