package dev.lockstep.collector.correlate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.golden.RunSummary;
import dev.lockstep.golden.StepSummary;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CorrelatorTest {
  final InMemoryRunStateStore store = new InMemoryRunStateStore();
  final Correlator correlator = new Correlator(CorrelationPolicy.primaryShadow(Duration.ofMinutes(5)));

  static RunSummary summary(String run, String role, String variant) {
    return new RunSummary(run, "billing.reconcile", role, 42L, "sha256:doc-" + variant, "",
        "sha256:out-" + variant, List.of(
            new StepSummary(0, "load", "compute", false, "sha256:s0", "", "", ""),
            new StepSummary(1, "sample", "compute", false, "sha256:s1-" + variant, "",
                "sha256:rng-" + variant, "")));
  }

  static Replica replica(String agent, String run, String role, String variant) {
    return new Replica(agent, role, summary(run, role, variant), "/g/" + run + "." + role, 0);
  }

  @Test
  void aRunIsDecidedOnlyWhenPrimaryAndShadowAreIn() {
    assertThat(correlator.offer(store, replica("h1", "r1", "primary", "a"), 1000)).isEmpty();
    assertThat(store.pending()).hasSize(1);
    Optional<Decision> d = correlator.offer(store, replica("h1", "r1", "shadow", "a"), 2000);
    assertThat(d).hasValueSatisfying(x -> {
      assertThat(x.verdict()).isEqualTo(Verdict.MATCH);
      assertThat(x.hosts()).containsExactly("h1");
    });
    assertThat(store.pending()).isEmpty();
    assertThat(store.get("r1").orElseThrow().decidedAtMillis()).isEqualTo(2000);
  }

  @Test
  void aDivergentShadowIsClassifiedAtItsFirstDivergentStep() {
    correlator.offer(store, replica("h1", "r1", "shadow", "b"), 0);
    Decision d = correlator.offer(store, replica("h1", "r1", "primary", "a"), 0).orElseThrow();
    assertThat(d.verdict()).isEqualTo(Verdict.MISMATCH);
    assertThat(d.category()).isEqualTo("UNSEEDED_RNG");
    assertThat(d.firstStepIndex()).isEqualTo(1);
    assertThat(d.firstStepName()).isEqualTo("sample");
    assertThat(d.blamedHosts()).isEmpty();
  }

  @Test
  void offeringTheSameReportTwiceOrAnotherRoleAfterTheDecisionChangesNothing() {
    correlator.offer(store, replica("h1", "r1", "primary", "a"), 0);
    assertThat(correlator.offer(store, replica("h1", "r1", "primary", "a"), 0)).isEmpty();
    assertThat(store.get("r1").orElseThrow().replicas()).hasSize(1);
    assertThat(correlator.offer(store, replica("h1", "r1", "shadow", "b"), 0)).isPresent();
    assertThat(correlator.offer(store, replica("h2", "r1", "shadow-2", "c"), 0)).isEmpty();
    assertThat(correlator.offer(store, replica("h1", "r1", "shadow", "b"), 0)).isEmpty();
    assertThat(store.get("r1").orElseThrow().replicas()).as("the late role is kept, the decision stands")
        .extracting(Replica::role).containsExactly("primary", "shadow", "shadow-2");
    assertThat(store.get("r1").orElseThrow().verdict()).isEqualTo(Verdict.MISMATCH);
  }

  @Test
  void twoPrimariesWithDifferentHashesDecideThePendingRunAsAConflictAtOnce() {
    correlator.offer(store, replica("h1", "r1", "primary", "a"), 1_000);
    Decision d = correlator.offer(store, replica("h2", "r1", "primary", "b"), 2_000).orElseThrow();
    assertThat(d.verdict()).isEqualTo(Verdict.REPLICA_CONFLICT);
    assertThat(d.category()).isEqualTo("REPLICA_CONFLICT");
    assertThat(d.hosts()).containsExactly("h1", "h2");
    assertThat(d.replicas()).extracting(Replica::agentId).containsExactly("h1", "h2");
    assertThat(d.explanation()).contains("role primary of run r1 reported by both h1 and h2"
        + " with different canonical hashes").contains("sha256:doc-a").contains("sha256:doc-b");
    RunState run = store.get("r1").orElseThrow();
    assertThat(run.verdict()).isEqualTo(Verdict.REPLICA_CONFLICT);
    assertThat(run.decidedAtMillis()).isEqualTo(2_000);
    assertThat(run.replicas()).hasSize(2);
    assertThat(store.pending()).as("never an endless PENDING").isEmpty();
    assertThat(correlator.offer(store, replica("h1", "r1", "shadow", "a"), 3_000))
        .as("the run is not compared on either primary").isEmpty();
    assertThat(correlator.sweep(store, Long.MAX_VALUE)).isEmpty();
  }

  @Test
  void aReReportWithAnotherHashIsAConflictEvenAfterAMatch() {
    correlator.offer(store, replica("h1", "r1", "primary", "a"), 0);
    assertThat(correlator.offer(store, replica("h1", "r1", "shadow", "a"), 0).orElseThrow().verdict())
        .isEqualTo(Verdict.MATCH);
    Decision d = correlator.offer(store, replica("h1", "r1", "shadow", "b"), 5).orElseThrow();
    assertThat(d.verdict()).isEqualTo(Verdict.REPLICA_CONFLICT);
    assertThat(d.hosts()).containsExactly("h1");
    assertThat(d.explanation()).contains("re-reported by h1 with another canonical hash");
    assertThat(store.get("r1").orElseThrow().verdict()).as("the match is void")
        .isEqualTo(Verdict.REPLICA_CONFLICT);
    assertThat(correlator.offer(store, replica("h1", "r1", "shadow", "b"), 6))
        .as("the same conflicting report again changes nothing").isEmpty();
  }

  @Test
  void aRoleFirstReportedAfterTheDecisionStillConflictsWhenReportedAgainDifferently() {
    correlator.offer(store, replica("h1", "r1", "primary", "a"), 0);
    correlator.offer(store, replica("h2", "r1", "primary", "b"), 0);
    assertThat(correlator.offer(store, replica("h3", "r1", "shadow", "a"), 0)).isEmpty();
    assertThat(correlator.offer(store, replica("h1", "r1", "shadow", "b"), 0).orElseThrow().verdict())
        .isEqualTo(Verdict.REPLICA_CONFLICT);
  }

  @Test
  void aConflictAfterAMismatchKeepsTheMismatchVerdict() {
    correlator.offer(store, replica("h1", "r1", "primary", "a"), 0);
    correlator.offer(store, replica("h1", "r1", "shadow", "b"), 0);
    assertThat(correlator.offer(store, replica("h1", "r1", "shadow", "c"), 1).orElseThrow().verdict())
        .isEqualTo(Verdict.REPLICA_CONFLICT);
    RunState run = store.get("r1").orElseThrow();
    assertThat(run.verdict()).isEqualTo(Verdict.MISMATCH);
    assertThat(run.replicas()).hasSize(3);
  }

  @Test
  void twoAgentsClaimingOneRoleWithTheSameHashConflictButTheRunStillCorrelates() {
    correlator.offer(store, replica("h1", "r1", "primary", "a"), 0);
    Decision d = correlator.offer(store, replica("h2", "r1", "primary", "a"), 0).orElseThrow();
    assertThat(d.verdict()).isEqualTo(Verdict.REPLICA_CONFLICT);
    assertThat(d.explanation()).contains("reported by both h1 and h2 with the same canonical hash");
    assertThat(store.get("r1").orElseThrow().verdict()).isEqualTo(Verdict.PENDING);
    assertThat(store.get("r1").orElseThrow().replicas()).hasSize(1);
    assertThat(correlator.offer(store, replica("h3", "r1", "shadow", "a"), 0).orElseThrow().verdict())
        .isEqualTo(Verdict.MATCH);
  }

  @Test
  void conflictingReportsAreKeptUpToABound() {
    correlator.offer(store, replica("h1", "r1", "primary", "a"), 0);
    for (int i = 0; i < 40; i++) {
      assertThat(correlator.offer(store, replica("h1", "r1", "primary", "v" + i), i)).isPresent();
    }
    assertThat(store.get("r1").orElseThrow().replicas()).hasSize(Correlator.MAX_REPLICAS);
  }

  @Test
  void aMissingReplicaIsReportedWhenTheWindowCloses() {
    correlator.offer(store, replica("h1", "r1", "primary", "a"), 1_000);
    assertThat(correlator.sweep(store, 1_000 + Duration.ofMinutes(5).toMillis() - 1)).isEmpty();
    List<Decision> ds = correlator.sweep(store, 1_000 + Duration.ofMinutes(5).toMillis());
    assertThat(ds).singleElement().satisfies(d -> {
      assertThat(d.verdict()).isEqualTo(Verdict.MISSING_REPLICA);
      assertThat(d.category()).isEqualTo("MISSING_REPLICA");
      assertThat(d.missingRoles()).containsExactly("shadow");
      assertThat(d.explanation()).contains("missing shadow").contains("primary@h1");
    });
    assertThat(correlator.sweep(store, Long.MAX_VALUE)).isEmpty();
  }

  /**
   * Replicas arriving after the window closed on a MISSING_REPLICA run are compared once they
   * complete it: a run first reported under a role nobody runs (or a slow host) cannot hide a
   * mismatch of the real primary and shadow for good. Later reports change nothing.
   */
  @Test
  void lateReplicasThatCompleteAMissingReplicaRunAreCompared() {
    correlator.offer(store, replica("evil", "r1", "decoy", "x"), 1_000);
    long after = 1_000 + Duration.ofMinutes(5).toMillis();
    assertThat(correlator.sweep(store, after)).singleElement()
        .extracting(Decision::verdict).isEqualTo(Verdict.MISSING_REPLICA);
    assertThat(correlator.offer(store, replica("h1", "r1", "primary", "a"), after + 1)).isEmpty();
    Decision d = correlator.offer(store, replica("h2", "r1", "shadow", "b"), after + 2).orElseThrow();
    assertThat(d.verdict()).isEqualTo(Verdict.MISMATCH);
    assertThat(d.explanation()).contains("compared late");
    assertThat(store.get("r1").orElseThrow().verdict()).isEqualTo(Verdict.MISMATCH);
    assertThat(correlator.offer(store, replica("h3", "r1", "other", "b"), after + 3)).isEmpty();
    assertThat(store.get("r1").orElseThrow().verdict()).isEqualTo(Verdict.MISMATCH);

    correlator.offer(store, replica("h1", "r2", "primary", "a"), 1_000);
    correlator.sweep(store, after);
    assertThat(correlator.offer(store, replica("h2", "r2", "shadow", "a"), after + 1).orElseThrow()
        .verdict()).isEqualTo(Verdict.MATCH);
  }

  Correlator threeReplicas() {
    return new Correlator(new CorrelationPolicy(Duration.ofMinutes(5),
        new CorrelationPolicy.Expected(List.of("primary", "shadow"), 0),
        Map.of("billing.reconcile", new CorrelationPolicy.Expected(List.of(), 3))));
  }

  @Test
  void withThreeReplicasTheDissentingHostIsBlamed() {
    Correlator c = threeReplicas();
    c.offer(store, replica("h1", "r1", "primary", "a"), 0);
    c.offer(store, replica("h2", "r1", "shadow-1", "a"), 0);
    Decision d = c.offer(store, replica("h3", "r1", "shadow-2", "b"), 0).orElseThrow();
    assertThat(d.verdict()).isEqualTo(Verdict.MISMATCH);
    assertThat(d.blamedHosts()).containsExactly("h3");
    assertThat(d.explanation()).contains("blames h3").contains("likely a bad host");
    assertThat(store.hostStats("h3").blamed()).isEqualTo(1);
    assertThat(store.hostStats("h1")).isEqualTo(new HostStats("h1", 1, 0));
  }

  @Test
  void divergenceSpreadOverHostsReadsAsACodeBug() {
    Correlator c = threeReplicas();
    c.offer(store, replica("h1", "r1", "primary", "a"), 0);
    c.offer(store, replica("h2", "r1", "shadow-1", "a"), 0);
    c.offer(store, replica("h3", "r1", "shadow-2", "b"), 0);
    c.offer(store, replica("h1", "r2", "primary", "a"), 0);
    c.offer(store, replica("h2", "r2", "shadow-1", "x"), 0);
    Decision d = c.offer(store, replica("h3", "r2", "shadow-2", "a"), 0).orElseThrow();
    assertThat(d.blamedHosts()).containsExactly("h2");
    assertThat(d.explanation()).contains("likely a code bug").contains("h3 1/2");
  }

  @Test
  void threeAgreeingReplicasMatch() {
    Correlator c = threeReplicas();
    c.offer(store, replica("h1", "r1", "primary", "a"), 0);
    c.offer(store, replica("h2", "r1", "shadow-1", "a"), 0);
    assertThat(c.offer(store, replica("h3", "r1", "shadow-2", "a"), 0).orElseThrow().verdict())
        .isEqualTo(Verdict.MATCH);
  }

  @Test
  void withoutAStrictMajorityNobodyIsBlamed() {
    Correlator c = threeReplicas();
    c.offer(store, replica("h1", "r1", "primary", "a"), 0);
    c.offer(store, replica("h2", "r1", "shadow-1", "b"), 0);
    Decision d = c.offer(store, replica("h3", "r1", "shadow-2", "c"), 0).orElseThrow();
    assertThat(d.verdict()).isEqualTo(Verdict.MISMATCH);
    assertThat(d.blamedHosts()).isEmpty();
    assertThat(d.explanation()).contains("no majority");
  }
}
