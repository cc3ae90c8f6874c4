package dev.lockstep.cli.offline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SummaryCommandTest {
  @TempDir Path dir;

  @BeforeEach
  void fleetDirectory() throws Exception {
    Goldens.write(dir, "cycle1/r1.primary.golden.json", Goldens.primary("r1"));
    Goldens.write(dir, "cycle1/r1.shadow.golden.json", Goldens.shadow("r1"));
    Goldens.write(dir, "cycle1/r2.primary.golden.json", Goldens.primary("r2"));
    Goldens.write(dir, "cycle1/r2.shadow.golden.json",
        Goldens.doc("r2", "shadow", 1234567, "t", "[0.5, 0.98]", "{\"eur\": 1.08}"));
    Goldens.write(dir, "cycle2/r3.primary.golden.json", Goldens.primary("r3"));
    Goldens.write(dir, "cycle2/r4.primary.golden.json", Goldens.primary("r4"));
    Goldens.write(dir, "cycle2/r4.shadow.golden.json",
        Goldens.doc("r4", "shadow", 99, "t", "[0.12, 0.98]", "{\"eur\": 1.08}"));
    Goldens.write(dir, "cycle2/broken.golden.json", "{\"run_id\": \"r5\", ");
  }

  @Test
  void jsonReportCountsMatchesMismatchesByCategoryAndWorkflowAndMissingReplicas() throws Exception {
    Lockstep.Result r = Lockstep.run("summary", "--dir", dir.toString(), "-o", "json");
    assertThat(r.exitCode()).isEqualTo(1);
    JsonNode n = new ObjectMapper().readTree(r.out());
    assertThat(n.get("files").asInt()).isEqualTo(8);
    assertThat(n.get("runs").asInt()).isEqualTo(4);
    assertThat(n.get("matches").asInt()).isEqualTo(1);
    assertThat(n.get("mismatches").asInt()).isEqualTo(2);
    assertThat(n.get("missing_replicas").asInt()).isEqualTo(1);
    assertThat(n.get("unreadable").asInt()).isEqualTo(1);
    assertThat(n.get("by_category").get("UNSEEDED_RNG").asInt()).isEqualTo(1);
    assertThat(n.get("by_category").get("SEED_MISMATCH").asInt()).isEqualTo(1);
    assertThat(n.get("by_category").get("MISSING_REPLICA").asInt()).isEqualTo(1);
    JsonNode wf = n.get("by_workflow").get("billing.reconcile");
    assertThat(wf.get("runs").asInt()).isEqualTo(4);
    assertThat(wf.get("mismatches").asInt()).isEqualTo(2);
    assertThat(n.get("mismatching_runs")).extracting(m -> m.get("run_id").asText()).containsExactly("r2", "r4");
    assertThat(n.get("mismatching_runs").get(0).get("first_divergent_step").get("name").asText()).isEqualTo("sample");
    assertThat(n.get("missing").get(0).get("run_id").asText()).isEqualTo("r3");
    assertThat(n.get("missing").get(0).get("missing_role").asText()).isEqualTo("shadow");
    assertThat(n.get("unreadable_files").get(0).get("code").asText()).isEqualTo("TRUNCATED");
  }

  @Test
  void outFileGetsTheJsonAndStdoutTheTable() throws Exception {
    Path report = dir.resolve("golden_summary.json"); // inside the scanned dir: must not be read back
    Lockstep.Result r = Lockstep.run("summary", "--dir", dir.toString(), "--out", report.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).contains("4 runs").contains("mismatch    2   (SEED_MISMATCH 1, UNSEEDED_RNG 1)")
        .contains("r2  UNSEEDED_RNG  step 2 'sample'").contains("r3  only primary")
        .contains("broken.golden.json").contains("JSON report written to");
    JsonNode n = new ObjectMapper().readTree(Files.readString(report));
    assertThat(n.get("mismatches").asInt()).isEqualTo(2);
    Lockstep.Result again = Lockstep.run("summary", "--dir", dir.toString(), "-o", "json");
    assertThat(new ObjectMapper().readTree(again.out()).get("files").asInt()).isEqualTo(9); // report is a .json now
  }

  @Test
  void cleanDirectoryExitsZero() throws Exception {
    Path clean = dir.resolve("cycle1-only");
    Goldens.write(clean, "r1.primary.golden.json", Goldens.primary("r1"));
    Goldens.write(clean, "r1.shadow.golden.json", Goldens.shadow("r1"));
    Lockstep.Result r = Lockstep.run("summary", "--dir", clean.toString());
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("match       1").contains("mismatch    0");
  }

  @Test
  void threeReplicasBlameTheDissenter() throws Exception {
    Path three = dir.resolve("three");
    Goldens.write(three, "r9.primary.golden.json", Goldens.primary("r9"));
    Goldens.write(three, "r9.shadow.golden.json", Goldens.shadow("r9"));
    Goldens.write(three, "r9.replica-3.golden.json",
        Goldens.doc("r9", "replica-3", 1234567, "t", "[0.12, 0.98]", "{\"eur\": 2}"));
    JsonNode n = new ObjectMapper().readTree(Lockstep.run("summary", "--dir", three.toString(), "-o", "json").out());
    JsonNode m = n.get("mismatching_runs").get(0);
    assertThat(m.get("category").asText()).isEqualTo("EXTERNAL_CALL");
    assertThat(m.get("dissenters")).extracting(JsonNode::asText)
        .containsExactly("replica-3 (r9.replica-3.golden.json)");
  }

  @Test
  void missingDirectoryIsBadInput() {
    Lockstep.Result r = Lockstep.run("summary", "--dir", dir.resolve("nope").toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("lockstep: ").contains("not a directory");
  }

  @Test
  void dashOAndOutputNameTheFormatAndAFileNameThereSaysToUseOut() throws Exception {
    Lockstep.Result json = Lockstep.run("summary", "--dir", dir.toString(), "--output", "json");
    assertThat(new ObjectMapper().readTree(json.out()).get("runs").asInt()).isEqualTo(4);
    Lockstep.Result wrong = Lockstep.run("summary", "--dir", dir.toString(), "--output", "golden_summary.json");
    assertThat(wrong.exitCode()).isEqualTo(2);
    assertThat(wrong.err()).contains("expected table or json, got 'golden_summary.json'").contains("--out FILE");
  }

  @Test
  void twoDifferentFilesForOneRoleAreAReplicaConflict() throws Exception {
    Path conflict = dir.resolve("conflict");
    Goldens.write(conflict, "a/r8.primary.golden.json", Goldens.primary("r8"));
    Goldens.write(conflict, "b/r8.primary.golden.json",
        Goldens.doc("r8", "primary", 1234567, "t", "[0.5]", "{\"eur\": 1.08}"));
    Goldens.write(conflict, "r8.shadow.golden.json", Goldens.shadow("r8"));
    JsonNode n = new ObjectMapper().readTree(Lockstep.run("summary", "--dir", conflict.toString(), "-o", "json").out());
    JsonNode m = n.get("mismatching_runs").get(0);
    assertThat(m.get("category").asText()).isEqualTo("REPLICA_CONFLICT");
    assertThat(m.get("explanation").asText()).contains("two primary replicas differ");
  }
}
