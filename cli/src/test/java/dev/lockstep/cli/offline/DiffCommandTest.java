package dev.lockstep.cli.offline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lockstep.golden.DiffReport;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiffCommandTest {
  @TempDir Path dir;

  @Test
  void matchingReplicasExitZero() throws Exception {
    Path a = Goldens.write(dir, "r1.primary.golden.json", Goldens.primary("r1"));
    Path b = Goldens.write(dir, "r1.shadow.golden.json", Goldens.shadow("r1"));
    Lockstep.Result r = Lockstep.run("diff", "--golden-a", a.toString(), "--golden-b", b.toString());
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).startsWith("MATCH  run r1 (billing.reconcile)").contains("~ /timestamp");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void aVolatileNameFromGoldenConfigTurnsAMismatchIntoAMatch() throws Exception {
    Path a = Goldens.write(dir, "a.json", "{\"run_id\":\"r1\",\"output\":1,\"trace_id\":\"aaa\"}");
    Path b = Goldens.write(dir, "b.json", "{\"run_id\":\"r1\",\"output\":1,\"trace_id\":\"bbb\"}");
    Lockstep.Result plain = Lockstep.run("diff", "--golden-a", a.toString(), "--golden-b", b.toString());
    assertThat(plain.exitCode()).isEqualTo(1);
    assertThat(plain.out()).startsWith("MISMATCH");

    // an agent.yaml-like file: the section sits under golden:, next to the watcher's keys
    Path agentYaml = Goldens.write(dir, "agent.yaml",
        "agent_id: w1\ngolden:\n  dirs: [/g]\n  volatile:\n    names: [trace_id]\n");
    Lockstep.Result masked = Lockstep.run("diff", "--golden-config", agentYaml.toString(),
        "--golden-a", a.toString(), "--golden-b", b.toString());
    assertThat(masked.exitCode()).as(masked.err()).isZero();
    assertThat(masked.out()).startsWith("MATCH").contains("~ /trace_id");

    // a bare section, as JSON
    Path json = Goldens.write(dir, "golden.json", "{\"volatile\": {\"names\": [\"trace_id\"]}}");
    assertThat(Lockstep.run("diff", "--golden-config", json.toString(),
        "--golden-a", a.toString(), "--golden-b", b.toString()).exitCode()).isZero();
  }

  @Test
  void aBadGoldenConfigIsOneLineAndExitTwo() throws Exception {
    Path a = Goldens.write(dir, "a.json", Goldens.primary("r1"));
    Path cfg = Goldens.write(dir, "golden.yaml", "mapping: {run_id: run_id}\n");
    for (String command : new String[] {"diff", "hash", "summary", "verify"}) {
      String[] args = switch (command) {
        case "diff" -> new String[] {"diff", "--golden-config", cfg.toString(), "--golden-a", a.toString(),
            "--golden-b", a.toString()};
        case "hash" -> new String[] {"hash", "--golden-config", cfg.toString(), a.toString()};
        case "summary" -> new String[] {"summary", "--golden-config", cfg.toString(), "--dir", dir.toString()};
        default -> new String[] {"verify", "--golden-config", cfg.toString(), "--golden", a.toString(), "--", "true"};
      };
      Lockstep.Result r = Lockstep.run(args);
      assertThat(r.exitCode()).as(command + ": " + r.err()).isEqualTo(2);
      assertThat(r.err()).as(command).isEqualTo(
          "lockstep: golden.yaml: mapping.run_id must be a JSON Pointer starting with '/', got \"run_id\"\n");
    }
    Path unknown = Goldens.write(dir, "agent.yaml", "golden: {volatile: {nmes: [x]}}\n");
    Lockstep.Result r = Lockstep.run("hash", "--golden-config", unknown.toString(), a.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("lockstep: agent.yaml: golden.volatile.nmes is not a known key");
    Lockstep.Result missing = Lockstep.run("hash", "--golden-config", dir.resolve("nope.yaml").toString(), a.toString());
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).startsWith("lockstep: --golden-config: no such file").hasLineCount(1);
  }

  @Test
  void mismatchExitsOneAndNamesCategoryStepAndValues() throws Exception {
    Path a = Goldens.write(dir, "a.json", Goldens.primary("r1"));
    Path b = Goldens.write(dir, "b.json",
        Goldens.doc("r1", "shadow", 1234567, "t", "[0.12, 0.55]", "{\"eur\": 1.08}"));
    Lockstep.Result r = Lockstep.run("diff", "--golden-a", a.toString(), "--golden-b", b.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).contains("MISMATCH  UNSEEDED_RNG").contains("first step:  2 'sample'")
        .containsPattern("/steps/2/rng/1\\s+VALUE\\s+0\\.98\\s+0\\.55");
  }

  @Test
  void jsonOutputHasTheStableFields() throws Exception {
    Path a = Goldens.write(dir, "a.json", Goldens.primary("r1"));
    Path b = Goldens.write(dir, "b.json",
        Goldens.doc("r1", "shadow", 1234567, "t", "[0.12, 0.98]", "{\"eur\": 1.5}"));
    Lockstep.Result r = Lockstep.run("diff", "--golden-a", a.toString(), "--golden-b", b.toString(), "-o", "json");
    assertThat(r.exitCode()).isEqualTo(1);
    JsonNode n = new ObjectMapper().readTree(r.out());
    assertThat(n.get("verdict").asText()).isEqualTo("MISMATCH");
    assertThat(n.get("category").asText()).isEqualTo("EXTERNAL_CALL");
    assertThat(n.get("first_divergent_step").get("index").asInt()).isEqualTo(1);
    assertThat(n.get("first_divergent_step").get("name").asText()).isEqualTo("fetch_rates");
    assertThat(n.get("run_id").asText()).isEqualTo("r1");
    assertThat(n.get("differences").isArray()).isTrue();
    assertThat(DiffReport.fromJson(r.out()).category().name()).isEqualTo("EXTERNAL_CALL");
  }

  @Test
  void verboseShowsEveryDifference() throws Exception {
    StringBuilder a = new StringBuilder("{\"run_id\":\"r\"");
    StringBuilder b = new StringBuilder("{\"run_id\":\"r\"");
    for (int i = 0; i < 30; i++) {
      a.append(",\"k").append(i).append("\":").append(i);
      b.append(",\"k").append(i).append("\":").append(-i - 1);
    }
    Path pa = Goldens.write(dir, "a.json", a.append('}').toString());
    Path pb = Goldens.write(dir, "b.json", b.append('}').toString());
    assertThat(Lockstep.run("diff", "--golden-a", pa.toString(), "--golden-b", pb.toString()).out())
        .contains("more (use --verbose");
    assertThat(Lockstep.run("diff", "--golden-a", pa.toString(), "--golden-b", pb.toString(), "--verbose").out())
        .doesNotContain("more (use --verbose").contains("/k29");
  }

  // ---- the issue's bad-input table: each a clear one-line error and exit 2 ------------------

  private Lockstep.Result diffAgainstGood(Path bad) throws Exception {
    Path good = Goldens.write(dir, "good.json", Goldens.primary("r1"));
    return Lockstep.run("diff", "--golden-a", good.toString(), "--golden-b", bad.toString());
  }

  private static void assertOneLineError(Lockstep.Result r, String... fragments) {
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("lockstep: ").endsWith("\n");
    assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
    for (String f : fragments) {
      assertThat(r.err()).contains(f);
    }
  }

  @Test
  void truncatedFile() throws Exception {
    String full = Goldens.primary("r1");
    Path bad = Goldens.write(dir, "cut.json", full.substring(0, full.length() / 2));
    assertOneLineError(diffAgainstGood(bad), "cut.json", "truncated", "[TRUNCATED]");
  }

  @Test
  void notJson() throws Exception {
    Path bad = Goldens.write(dir, "text.json", "this is not json\n");
    assertOneLineError(diffAgainstGood(bad), "text.json:1:", "[NOT_JSON]");
  }

  @Test
  void binaryJunk() throws Exception {
    byte[] junk = new byte[8192];
    new java.util.Random(1).nextBytes(junk);
    junk[0] = (byte) 0xff;
    Path bad = Goldens.write(dir, "junk.bin", junk);
    assertOneLineError(diffAgainstGood(bad), "junk.bin", "[INVALID_UTF8]");
  }

  @Test
  void invalidUtf8() throws Exception {
    byte[] bytes = "{\"run_id\":\"r1\",\"s\":\"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
    Path bad = Goldens.write(dir, "latin1.json", bytes);
    assertOneLineError(diffAgainstGood(bad), "latin1.json:1:24", "invalid UTF-8", "[INVALID_UTF8]");
  }

  @Test
  void nesting200000Deep() throws Exception {
    int n = 200_000;
    Path bad = Goldens.write(dir, "deep.json", "{\"run_id\":\"r1\",\"x\":" + "[".repeat(n) + "]".repeat(n) + "}");
    assertOneLineError(diffAgainstGood(bad), "deep.json", "nesting deeper than the limit of 512", "[TOO_DEEP]");
  }

  @Test
  void duplicateKeys() throws Exception {
    Path bad = Goldens.write(dir, "dup.json", "{\"run_id\":\"r1\",\n\"seed\":1,\n\"seed\":2}");
    assertOneLineError(diffAgainstGood(bad), "dup.json:3:", "duplicate key \"seed\"", "[DUPLICATE_KEY]");
  }

  @Test
  void nan() throws Exception {
    Path bad = Goldens.write(dir, "nan.json", "{\"run_id\":\"r1\",\"x\":NaN}");
    assertOneLineError(diffAgainstGood(bad), "nan.json:1:", "NaN", "[NON_FINITE_NUMBER]");
  }

  @Test
  void oneGibFileIsRefusedByTheSizeLimitBeforeItIsRead() throws Exception {
    Path huge = dir.resolve("huge.json");
    try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
      f.setLength(1L << 30);
    }
    long t0 = System.nanoTime();
    assertOneLineError(diffAgainstGood(huge), "huge.json", "1073741824 bytes", "[TOO_LARGE]");
    assertThat(System.nanoTime() - t0).isLessThan(3_000_000_000L);
  }

  @Test
  void filesOfDifferentRuns() throws Exception {
    Path a = Goldens.write(dir, "a.json", Goldens.primary("run-one"));
    Path b = Goldens.write(dir, "b.json", Goldens.shadow("run-two"));
    Lockstep.Result r = Lockstep.run("diff", "--golden-a", a.toString(), "--golden-b", b.toString());
    assertOneLineError(r, "run-one", "run-two", "different runs");
  }

  @Test
  void missingFile() throws Exception {
    Path good = Goldens.write(dir, "good.json", Goldens.primary("r1"));
    Lockstep.Result r = Lockstep.run("diff", "--golden-a", good.toString(), "--golden-b", dir.resolve("nope.json").toString());
    assertOneLineError(r, "nope.json", "no such file", "[IO]");
  }

  @Test
  void debugAddsTheStackTrace() throws Exception {
    Path bad = Goldens.write(dir, "nan.json", "{\"run_id\":\"r1\",\"x\":NaN}");
    Path good = Goldens.write(dir, "good.json", Goldens.primary("r1"));
    Lockstep.Result r = Lockstep.run("--debug", "diff", "--golden-a", good.toString(), "--golden-b", bad.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("lockstep: ").contains("GoldenParseException").contains("\tat ");
    Lockstep.Result after = Lockstep.run("diff", "--debug", "--golden-a", good.toString(), "--golden-b", bad.toString());
    assertThat(after.err()).contains("\tat ");
  }

  @Test
  void usageErrorsExitTwo() {
    Lockstep.Result r = Lockstep.run("diff", "--golden-a", "x.json");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("--golden-b").contains("lockstep diff --help");
    assertThat(Lockstep.run("diff", "--golden-a", "a", "--golden-b", "b", "-o", "xml").exitCode()).isEqualTo(2);
    assertThat(Lockstep.run().exitCode()).isEqualTo(2);
    assertThat(Lockstep.run("no-such-command").exitCode()).isEqualTo(2);
  }

  @Test
  void diffWithIncidentOrRunGoesToTheCollector() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nobody listens there
    }
    Lockstep.Result r = Lockstep.run("diff", "--run", "r1", "--collector", "127.0.0.1:" + port, "--timeout", "2s", "--insecure");
    assertThat(r.exitCode()).as(r.err()).isEqualTo(3);
    assertThat(r.err()).doesNotContain("--golden-a");
  }

  @Test
  void offlineRunsAreRecognisedSoFleetCommandsNeedNotLoad() {
    assertThat(OfflineCommands.isOfflineCommand("hash", "a.json")).isTrue();
    assertThat(OfflineCommands.isOfflineCommand("--debug", "diff", "--golden-a", "a", "--golden-b", "b")).isTrue();
    assertThat(OfflineCommands.isOfflineCommand("diff", "--run", "r1")).isFalse();
    assertThat(OfflineCommands.isOfflineCommand("status")).isFalse();
    assertThat(OfflineCommands.isOfflineCommand("--help")).isFalse();
    assertThat(OfflineCommands.isOfflineCommand()).isFalse();
  }

  @Test
  void helpDocumentsExitCodes() {
    Lockstep.Result r = Lockstep.run("diff", "--help");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("--golden-a").contains("EXIT STATUS").containsPattern("1\\s+The replicas differ")
        .containsPattern("70\\s+Lockstep itself failed");
    Lockstep.Result top = Lockstep.run("--help");
    assertThat(top.out()).contains("diff").contains("hash").contains("summary").contains("verify")
        .contains("EXIT STATUS");
  }
  @Test
  void diffWithOnlyBothFilesRunsWithoutPicocliAndPrintsTheSame() throws Exception {
    Path a = Goldens.write(dir, "r1.primary.golden.json", Goldens.primary("r1"));
    Path b = Goldens.write(dir, "r1.shadow.golden.json", Goldens.shadow("r1"));
    Path c = Goldens.write(dir, "c.json", Goldens.doc("r1", "shadow", 7, "t", "[0.5]", "{\"ok\": false}"));
    Path bad = Goldens.write(dir, "bad.json", "{\"run_id\":");
    Path missing = dir.resolve("missing.json");
    java.io.StringWriter sink = new java.io.StringWriter();
    java.io.PrintWriter w = new java.io.PrintWriter(sink);
    String fa = a.toString();
    String fb = b.toString();
    // only --golden-a A --golden-b B [-v] is run directly; anything else goes through picocli
    assertThat(OfflineCommands.runPlain(w, w, "diff", "--golden-b", fb, "-v", "--golden-a", fa)).isZero();
    assertThat(OfflineCommands.runPlain(w, w, "diff", "--golden-a", fa, "--golden-b", fb, "-o", "json")).isNull();
    assertThat(OfflineCommands.runPlain(w, w, "diff", "--golden-a", fa, "--golden-a", fb)).isNull();
    assertThat(OfflineCommands.runPlain(w, w, "diff", "--golden-a", fa, "--golden-b", "-v")).isNull();
    assertThat(OfflineCommands.runPlain(w, w, "diff", "--golden-a", fa, "--golden-b", "@" + fb)).isNull();
    assertThat(OfflineCommands.runPlain(w, w, "diff", "--golden-a", fa, "-v", "-v", "--golden-b", fb)).isNull();
    assertThat(OfflineCommands.runPlain(w, w, "diff", "--golden-a", fa, "--golden-b")).isNull();
    assertThat(OfflineCommands.runPlain(w, w, "diff", "--golden-a=" + fa, "--golden-b", fb, "-v")).isNull();
    assertThat(OfflineCommands.runPlain(w, w, "diff", "--incident", "INC-1", "--golden-a", fa)).isNull();
    for (Path[] pair : new Path[][] {{a, b}, {a, c}, {c, a}, {bad, a}, {a, missing}, {missing, bad}}) {
      for (String verbose : new String[] {null, "-v", "--verbose"}) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(
            "diff", "--golden-b", pair[1].toString(), "--golden-a", pair[0].toString()));
        if (verbose != null) {
          args.add(2, verbose);
        }
        Lockstep.Result plain = Lockstep.run(args.toArray(new String[0]));
        args.addAll(java.util.List.of("-o", "table"));
        assertThat(plain).isEqualTo(Lockstep.run(args.toArray(new String[0])));
      }
    }
  }
}
