package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lockstep.agent.Agent;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.collector.Collector;
import dev.lockstep.collector.config.CollectorConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The playbook end to end with real agents (in-process, real stop files and hooks) and a real
 * collector: STOP, VERIFY, a mismatch, CAPTURE, RESUME, each step one lockstep command.
 */
class RealAgentsTest {
  static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  Collector collector;
  String address;
  final List<Agent> agents = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    collector = Collector.start(CollectorConfig.defaults(dir.resolve("collector")).withInsecure(true).withListen("127.0.0.1", 0),
        Clock.systemUTC(), line -> {});
    address = "127.0.0.1:" + collector.port();
    for (String id : List.of("host-a", "host-b")) {
      Path root = dir.resolve("agents").resolve(id);
      Files.createDirectories(root.resolve("golden"));
      AgentConfig config = AgentConfig.defaults(id, address, root.resolve("state"))
          .withReconnect(Duration.ofMillis(100), Duration.ofMillis(400))
          .withGolden(new AgentConfig.GoldenWatch(List.of(root.resolve("golden").toString()), "*.json",
              Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(500)))
          .withProbes(new AgentConfig.Probes(Duration.ofMillis(500), Duration.ofSeconds(60)))
          .withStopFile(root.resolve("run/EMERGENCY_STOP"))
          .withHooks("true", "true",
              "if [ \"$LOCKSTEP_MODE\" = STOPPED ]; then test -f \"$LOCKSTEP_STOP_FILE\"; else test ! -e \"$LOCKSTEP_STOP_FILE\"; fi");
      agents.add(Agent.start(config, Clock.systemUTC(), line -> {}));
    }
    Eventually.await(WAIT, "2 agents connected", () -> collector.fleet().connectedCount() == 2);
  }

  @AfterEach
  void stop() {
    for (int i = agents.size() - 1; i >= 0; i--) {
      agents.get(i).close();
    }
    collector.close();
  }

  Cli.Result lockstep(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--collector");
    all.add(address);
    all.add("--insecure");
    return Cli.run(all.toArray(String[]::new));
  }

  Path stopFile(String agent) {
    return dir.resolve("agents").resolve(agent).resolve("run/EMERGENCY_STOP");
  }

  void golden(String agent, String role, String rng) throws Exception {
    Path d = dir.resolve("agents").resolve(agent).resolve("golden");
    Path tmp = d.resolve(".run-9." + role + ".tmp");
    Files.writeString(tmp, "{\"format\":\"lockstep.golden/v1\",\"run_id\":\"run-9\",\"workflow\":\"billing.reconcile\","
        + "\"role\":\"" + role + "\",\"seed\":42,\"steps\":[{\"index\":0,\"name\":\"sample\",\"kind\":\"compute\","
        + "\"rng\":[" + rng + "]}],\"output\":{\"total\":42}}", StandardCharsets.UTF_8);
    Files.move(tmp, d.resolve("run-9." + role + ".golden.json"), StandardCopyOption.ATOMIC_MOVE);
  }

  @Test
  void thePlaybookRunsAsLockstepCommandsAgainstRealAgents() throws Exception {
    Cli.Result stop = lockstep("stop", "enable", "--reason", "drill", "--wait", "20s");
    Cli.Result verify = lockstep("stop", "status");

    assertThat(stop.exitCode()).as(stop.out() + stop.err()).isZero();
    assertThat(stopFile("host-a")).isRegularFile();
    assertThat(stopFile("host-b")).isRegularFile();
    assertThat(verify.exitCode()).isZero();
    assertThat(verify.out()).containsPattern("host-a\\s+STOPPED\\s+\\d+\\s+ORD-000001-\\S+\\s+CONFIRMED")
        .containsPattern("host-b\\s+STOPPED\\s+\\d+\\s+ORD-000001-\\S+\\s+CONFIRMED");

    Cli.Result resume = lockstep("stop", "disable", "--yes", "--reason", "drill over", "--wait", "20s");
    assertThat(resume.exitCode()).as(resume.out() + resume.err()).isZero();
    assertThat(stopFile("host-a")).doesNotExist();

    golden("host-a", "primary", "0.1, 0.2");
    golden("host-b", "shadow", "0.1, 0.9");
    Eventually.await(WAIT, "a P0 and the automatic stop confirmed", () ->
        lockstep("check").out().contains("1 P0 open") && lockstep("stop", "status").exitCode() == 0
            && stopFile("host-b").toFile().exists());
    JsonNode incidents = new ObjectMapper().readTree(lockstep("incidents", "--open", "-o", "json").out());
    String id = incidents.path("incidents").get(0).path("id").asText();
    Eventually.await(WAIT, "both golden documents captured", () ->
        lockstep("incident", "show", id).out().lines().filter(l -> l.contains("golden/run-9.")).count() == 2);

    Path out = dir.resolve("m4-incident");
    Cli.Result capture = lockstep("evidence", "export", id, "--out", out.toString());

    assertThat(capture.exitCode()).as(capture.err()).isZero();
    JsonNode manifest = Manifests.verify(out.toRealPath());
    assertThat(manifest.path("files").findValuesAsText("name"))
        .contains("host-a/golden/run-9.primary.golden.json", "host-b/golden/run-9.shadow.golden.json",
            "diff_analysis.txt", "golden_summary.json", "golden_files.tgz", "incident.json");
    assertThat(Files.readString(out.resolve("diff_analysis.txt"))).contains("UNSEEDED_RNG");
  }

  @Test
  void agentsShowsEachRealAgentsComponentsAndWhyOneIsDegraded() throws Exception {
    Path root = dir.resolve("agents").resolve("host-c");
    Files.createDirectories(root.resolve("golden"));
    Path missing = root.resolve("not-yet");
    AgentConfig config = AgentConfig.defaults("host-c", address, root.resolve("state"))
        .withReconnect(Duration.ofMillis(100), Duration.ofMillis(400))
        .withGoldenDirs(root.resolve("golden"), missing)
        .withProbes(new AgentConfig.Probes(Duration.ofMillis(500), Duration.ofSeconds(60)))
        .withStopFile(root.resolve("run/EMERGENCY_STOP"));
    agents.add(Agent.start(config, Clock.systemUTC(), line -> {}));
    Eventually.await(WAIT, "host-c's golden component degraded", () ->
        lockstep("agents").out().lines().anyMatch(l -> l.startsWith("host-c") && l.contains("golden=DEGRADED")));
    Eventually.await(WAIT, "host-a's components reported", () ->
        lockstep("agents").out().lines().anyMatch(l -> l.startsWith("host-a") && l.contains(" ok ")));

    Cli.Result r = lockstep("agents", "--probes");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("COMPONENTS")
        .containsPattern("host-c  component:golden WARN  agent component golden degraded: 1 of 2 golden dirs failing \\("
            + java.util.regex.Pattern.quote(missing.toString()) + ": does not exist\\)");
    assertThat(lockstep("incidents").out()).as("the collector opened an incident for it")
        .contains("agent component golden degraded on host-c");
  }

  @Test
  void theIncidentReportHoldsEverySectionWithTheAuditLogsTimes() throws Exception {
    golden("host-a", "primary", "0.1, 0.2");
    golden("host-b", "shadow", "0.1, 0.9");
    Eventually.await(WAIT, "the automatic stop confirmed by both agents", () ->
        lockstep("check").out().contains("1 P0 open") && lockstep("stop", "status").exitCode() == 0
            && stopFile("host-a").toFile().exists() && stopFile("host-b").toFile().exists());
    ObjectMapper json = new ObjectMapper();
    String id = json.readTree(lockstep("incidents", "--open", "-o", "json").out()).path("incidents").get(0).path("id").asText();
    Eventually.await(WAIT, "both golden documents captured", () ->
        lockstep("incident", "show", id).out().lines().filter(l -> l.contains("golden/run-9.")).count() == 2);
    assertThat(lockstep("incident", "ack", id, "--note", "looking at the rng").exitCode()).isZero();
    Cli.Result resume = lockstep("stop", "resume", "--yes", "--reason", "rng seeded in engine 2.4.1", "--wait", "20s");
    assertThat(resume.exitCode()).as(resume.out() + resume.err()).isZero();
    assertThat(lockstep("incident", "resolve", id, "--note", "unseeded rng in sample step; fixed in 2.4.1").exitCode()).isZero();

    Cli.Result report = lockstep("incident", "report", id, "-o", "json");
    assertThat(report.exitCode()).as(report.err()).isZero();
    JsonNode r = json.readTree(report.out());
    JsonNode audit = json.readTree(lockstep("audit", "--limit", "1000", "-o", "json").out()).path("entries");
    String order = r.path("incident").path("stop_order_id").asText();
    assertThat(order).startsWith("ORD-");

    // every time is the audit log's own
    assertThat(r.path("times").path("detected_at").asText()).isEqualTo(auditTime(audit, "incident.open", id));
    assertThat(r.path("times").path("stop_issued_at").asText()).isEqualTo(auditTime(audit, "AutoStop", order));
    assertThat(r.path("times").path("resumed_at").asText()).isEqualTo(auditTime(audit, "ResumeStop", order));
    assertThat(r.path("times").path("resolved_at").asText()).isEqualTo(auditTime(audit, "ResolveIncident", id));
    java.time.Instant lastConfirm = java.time.Instant.MIN;
    List<String> confirmedBy = new ArrayList<>();
    for (JsonNode e : audit) {
      if (e.path("action").asText().equals("StopConfirmed") && e.path("detail").asText().contains("STOPPED orders " + order)) {
        java.time.Instant at = java.time.Instant.parse(e.path("at").asText());
        if (at.isAfter(lastConfirm)) lastConfirm = at;
        confirmedBy.add(e.path("target").asText());
      }
    }
    assertThat(confirmedBy).containsExactlyInAnyOrder("host-a", "host-b");
    assertThat(r.path("times").path("all_confirmed_at").asText()).isEqualTo(lastConfirm.toString());
    java.time.Instant detected = java.time.Instant.parse(r.path("times").path("detected_at").asText());
    assertThat(r.path("times").path("time_to_stop_ms").asLong()).isEqualTo(java.time.Duration.between(detected,
        java.time.Instant.parse(r.path("times").path("stop_issued_at").asText())).toMillis());
    assertThat(r.path("times").path("time_to_confirm_all_ms").asLong()).isEqualTo(java.time.Duration.between(detected, lastConfirm).toMillis());
    assertThat(r.path("times").path("time_to_resolve_ms").asLong()).isEqualTo(java.time.Duration.between(detected,
        java.time.Instant.parse(r.path("times").path("resolved_at").asText())).toMillis());
    java.time.Instant newestGolden = java.time.Instant.MIN;
    for (JsonNode rep : r.path("runs").get(0).path("replicas")) {
      java.time.Instant m = java.time.Instant.parse(rep.path("modified_at").asText());
      if (m.isAfter(newestGolden)) newestGolden = m;
    }
    assertThat(r.path("times").path("time_to_detect_ms").asLong()).isEqualTo(java.time.Duration.between(newestGolden, detected).toMillis())
        .isGreaterThanOrEqualTo(0);

    // the timeline in order, with who and why
    List<String> events = new ArrayList<>();
    r.path("timeline").forEach(e -> events.add(e.path("event").asText()));
    assertThat(events).containsSubsequence("detected", "stop issued", "confirmed stopped", "confirmed stopped",
        "acknowledged", "resumed", "confirmed running", "confirmed running", "resolved");
    List<String> captured = new ArrayList<>();
    r.path("timeline").forEach(e -> {
      if (e.path("event").asText().equals("captured")) captured.add(e.path("detail").asText());
    });
    for (JsonNode e : r.path("evidence")) {
      assertThat(captured).as("each artifact's capture on the timeline")
          .anyMatch(d -> d.contains(e.path("name").asText()) && d.contains(e.path("sha256").asText()));
    }
    assertThat(r.path("timeline").findValuesAsText("detail")).contains("rng seeded in engine 2.4.1", "looking at the rng");

    // root cause, differences, hosts, evidence
    assertThat(r.path("root_cause").path("category").asText()).isEqualTo("UNSEEDED_RNG");
    assertThat(r.path("root_cause").path("first_divergent_step").path("index").asInt()).isZero();
    assertThat(r.path("root_cause").path("top_differences").findValuesAsText("path")).anyMatch(p -> p.contains("rng"));
    assertThat(json.convertValue(r.path("hosts").path("agent_ids"), List.class)).containsExactlyInAnyOrder("host-a", "host-b");
    JsonNode shown = json.readTree(lockstep("incident", "show", id, "-o", "json").out()).path("evidence");
    assertThat(r.path("evidence").size()).isEqualTo(shown.size()).isGreaterThanOrEqualTo(2);
    for (JsonNode e : shown) {
      assertThat(r.path("evidence").findValuesAsText("sha256")).contains(e.path("sha256").asText());
    }
    JsonNode checklist = r.path("checklist");
    assertThat(checklist).hasSize(6);
    assertThat(checklist.get(0).path("done").asBoolean()).as("root cause documented").isTrue();
    assertThat(checklist.get(2).path("done").asBoolean()).as("not archived by a bare report").isFalse();
    assertThat(checklist.get(4).path("done").asBoolean()).as("the shadow run resumed").isTrue();
    assertThat(r.path("warnings")).isEmpty();

    // -o json round-trips through jq
    Process jq = new ProcessBuilder("jq", "-S", ".").start();
    jq.getOutputStream().write(report.out().getBytes(StandardCharsets.UTF_8));
    jq.getOutputStream().close();
    String jqOut = new String(jq.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(jq.waitFor()).isZero();
    assertThat(json.readTree(jqOut)).isEqualTo(r);

    // Markdown: every section, to a file
    Path md = dir.resolve("reports/" + id + ".md");
    Cli.Result written = lockstep("incident", "report", id, "--out", md.toString());
    assertThat(written.exitCode()).as(written.err()).isZero();
    assertThat(Files.readString(md)).contains("# Incident " + id, "## Times", "## Timeline", "## Root cause",
        "### Top differences", "## Hosts and blame", "## Stop", "## Evidence", "## Remediation",
        "## Post-incident checklist", "- [x] Root cause identified", "- [ ] Incident artifacts archived", "UNSEEDED_RNG");
    assertThat(lockstep("incidents", "-o", "markdown").exitCode()).as("markdown only for the report").isEqualTo(2);
    Cli.Result unknown = lockstep("incident", "report", "INC-999999");
    assertThat(unknown.exitCode()).isNotZero();
    assertThat(unknown.err()).contains("INC-999999");

    // the export carries the same report, archive ticked
    Path out = dir.resolve("m4-incident-" + id);
    assertThat(lockstep("evidence", "export", id, "--out", out.toString()).exitCode()).isZero();
    JsonNode manifest = Manifests.verify(out.toRealPath());
    assertThat(manifest.path("files").findValuesAsText("name")).contains("report.md");
    assertThat(Files.readString(out.resolve("report.md"))).contains("# Incident " + id, "- [x] Incident artifacts archived");
  }

  static String auditTime(JsonNode entries, String action, String target) {
    for (JsonNode e : entries) {
      if (e.path("action").asText().equals(action) && e.path("target").asText().equals(target)) {
        return java.time.Instant.parse(e.path("at").asText()).toString();
      }
    }
    throw new AssertionError("no audit entry " + action + " " + target + " in " + entries);
  }
}
