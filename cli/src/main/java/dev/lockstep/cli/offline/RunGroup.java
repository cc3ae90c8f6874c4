package dev.lockstep.cli.offline;

import dev.lockstep.golden.Category;
import dev.lockstep.golden.Classification;
import dev.lockstep.golden.Classifier;
import dev.lockstep.golden.Majority;
import dev.lockstep.golden.RunSummary;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * All replicas of one run found in a directory, and the verdict on them: match, mismatch (with the
 * classification of the first disagreeing replica against the reference) or missing replica.
 */
record RunGroup(String runId, String workflow, List<Replica> replicas, Verdict verdict,
    Classification classification, List<String> blamed, String missingRole) {

  /** One golden file of the run. */
  record Replica(Path file, RunSummary summary) {}

  enum Verdict { MATCH, MISMATCH, MISSING_REPLICA }

  private static final List<String> EXPECTED_ROLES = List.of("primary", "shadow");

  static RunGroup of(String runId, List<Replica> found) {
    List<Replica> replicas = new ArrayList<>(found);
    replicas.sort(Comparator.comparing((Replica r) -> roleRank(r.summary().role()))
        .thenComparing(r -> r.summary().role())
        .thenComparing(r -> r.file().toString()));
    String workflow = replicas.get(0).summary().workflow();
    if (replicas.size() == 1) {
      String present = replicas.get(0).summary().role();
      String missing = EXPECTED_ROLES.stream().filter(r -> !r.equals(present)).findFirst().orElse("shadow");
      return new RunGroup(runId, workflow, replicas, Verdict.MISSING_REPLICA,
          new Classification(false, Category.MISSING_REPLICA, null,
              "only " + label(replicas.get(0)) + " reported; " + missing + " is missing"),
          List.of(), missing);
    }
    Classification conflict = conflict(replicas);
    if (conflict != null) {
      return new RunGroup(runId, workflow, replicas, Verdict.MISMATCH, conflict, List.of(), null);
    }
    // Reference: the majority replica when there is one, otherwise the first (primary first).
    Map<String, RunSummary> byLabel = new LinkedHashMap<>();
    Map<String, Replica> replicaByLabel = new LinkedHashMap<>();
    for (Replica r : replicas) {
      String key = label(r);
      byLabel.put(key, r.summary());
      replicaByLabel.put(key, r);
    }
    Majority.Vote<String> vote = Majority.vote(byLabel);
    Replica reference = replicas.get(0);
    if (vote.goodHash() != null && replicas.size() >= 3) {
      for (Replica r : replicas) {
        if (r.summary().canonicalHash().equals(vote.goodHash())) {
          reference = r;
          break;
        }
      }
    }
    Classification verdict = null;
    for (Replica r : replicas) {
      if (r == reference) {
        continue;
      }
      Classification c = Classifier.classify(reference.summary(), r.summary());
      if (!c.match()) {
        verdict = c;
        break;
      }
    }
    if (verdict == null) {
      return new RunGroup(runId, workflow, replicas, Verdict.MATCH, Classification.matched(), List.of(), null);
    }
    List<String> blamed = replicas.size() >= 3 ? vote.dissenters() : List.of();
    return new RunGroup(runId, workflow, replicas, Verdict.MISMATCH, verdict, blamed, null);
  }

  /** Two files of the same run and role with different hashes: which one is the replica? */
  private static Classification conflict(List<Replica> replicas) {
    for (int i = 0; i < replicas.size(); i++) {
      for (int j = i + 1; j < replicas.size(); j++) {
        RunSummary a = replicas.get(i).summary();
        RunSummary b = replicas.get(j).summary();
        if (!a.role().isEmpty() && a.role().equals(b.role()) && !a.canonicalHash().equals(b.canonicalHash())) {
          return new Classification(false, Category.REPLICA_CONFLICT, null, "two " + a.role()
              + " replicas differ: " + replicas.get(i).file().getFileName() + " (" + a.canonicalHash() + ") vs "
              + replicas.get(j).file().getFileName() + " (" + b.canonicalHash() + ")");
        }
      }
    }
    return null;
  }

  private static int roleRank(String role) {
    int i = EXPECTED_ROLES.indexOf(role);
    return i < 0 ? EXPECTED_ROLES.size() : i;
  }

  static String label(Replica r) {
    String role = r.summary().role();
    String name = r.file().getFileName().toString();
    return role.isEmpty() ? name : role + " (" + name + ")";
  }

  Set<String> files() {
    Set<String> out = new TreeSet<>();
    for (Replica r : replicas) {
      out.add(r.file().toString());
    }
    return out;
  }
}
