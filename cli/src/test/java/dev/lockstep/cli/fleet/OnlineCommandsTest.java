package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lockstep.golden.DiffReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.StopStatusRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every online command run in-process against a real collector on loopback. */
class OnlineCommandsTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;
  LiveFleet fleet;

  @BeforeEach
  void start() throws Exception {
    fleet = new LiveFleet(tmp.resolve("collector"));
  }

  @AfterEach
  void stop() throws Exception {
    fleet.close();
  }

  @Test
  void statusShowsAgentsTheStopAndOpenIncidentsAfterAMismatch() throws Exception {
    Incident incident = fleet.mismatch();

    Cli.Result table = fleet.lockstep("status");
    Cli.Result json = fleet.lockstep("status", "-o", "json");

    assertThat(table.exitCode()).as(table.err()).isZero();
    assertThat(table.out())
        .contains("agents     2 connected, 0 stale, 0 offline")
        .contains("STOPPED: 1 active order covering 2 agents")
        .containsPattern("ORD-000001-[0-9a-f]{12} fleet by collector at \\S+ for " + incident.getId())
        .contains("2 confirmed, 0 failed, 0 pending, 0 offline")
        .contains("incidents  P0 1 open");
    JsonNode s = JSON.readTree(json.out());
    assertThat(s.path("agents_connected").asInt()).isEqualTo(2);
    assertThat(s.path("open_incidents").path("P0").asInt()).isEqualTo(1);
    assertThat(s.path("stop").path("orders").get(0).path("incident_id").asText()).isEqualTo(incident.getId());
    assertThat(s.path("stop").path("covered").asInt()).isEqualTo(2);
    assertThat(s.path("stop").path("confirmed").asInt()).isEqualTo(2);
  }

  @Test
  void agentsListsEveryAgentWithItsProbes() throws Exception {
    fleet.agent("host-a").health(HealthSample.newBuilder().setProbe(HealthSample.Probe.DISK).setTarget("/var/lib/aos")
        .setLevel(HealthSample.Level.WARN).setSummary("disk /var/lib/aos 91.0% used (warn > 90%)").build());
    fleet.agent("host-b");
    Eventually.await(LiveFleet.WAIT, "disk probe stored", () ->
        fleet.lockstep("agents").out().contains("disk:/var/lib/aos=WARN"));

    Cli.Result r = fleet.lockstep("agents", "--probes");
    Cli.Result json = fleet.lockstep("agents", "-o", "json");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).containsPattern("host-a\\s+host-a.local\\s+CONNECTED")
        .containsPattern("host-b\\s+host-b.local\\s+CONNECTED")
        .contains("host-a  disk:/var/lib/aos WARN  disk /var/lib/aos 91.0% used (warn > 90%)");
    JsonNode first = JSON.readTree(json.out()).path("agents").get(0);
    assertThat(first.path("agent_id").asText()).isEqualTo("host-a");
    assertThat(first.path("probes").get(0).path("summary").asText()).isEqualTo("disk /var/lib/aos 91.0% used (warn > 90%)");
  }

  @Test
  void incidentsShowAckAndResolveWalkTheIncidentThroughItsStates() throws Exception {
    String id = fleet.mismatch().getId();

    Cli.Result list = fleet.lockstep("incidents", "--severity", "P0", "--open", "--since", "1h");
    Cli.Result none = fleet.lockstep("incidents", "--severity", "P3");
    Cli.Result show = fleet.lockstep("incident", "show", id);
    Cli.Result ack = fleet.lockstep("incident", "ack", id, "--note", "looking at seed propagation");
    Cli.Result resolve = fleet.lockstep("incident", "resolve", id, "--note", "rng now seeded", "-o", "json");
    Cli.Result open = fleet.lockstep("incidents", "--open");
    Cli.Result unknown = fleet.lockstep("incident", "show", "no-such-incident");
    Cli.Result audit = fleet.lockstep("audit");

    assertThat(audit.out())
        .containsPattern("anonymous\\s+insecure\\s+AckIncident\\s+" + id + "\\s+\\S+\\s+OK\\s+looking at seed propagation")
        .containsPattern("anonymous\\s+insecure\\s+ResolveIncident\\s+" + id + "\\s+\\S+\\s+OK\\s+rng now seeded");
    assertThat(list.out()).containsPattern(id + "\\s+P0\\s+OPEN\\s+MISMATCH\\s+UNSEEDED_RNG\\s+billing.reconcile");
    assertThat(none.out().strip()).isEqualTo("no incidents");
    assertThat(show.exitCode()).isZero();
    assertThat(show.out())
        .containsPattern("category\\s+UNSEEDED_RNG")
        .containsPattern("first step\\s+1 sample")
        .containsPattern("agents\\s+host-a, host-b")
        .containsPattern("/steps/1/rng/1\\s+VALUE\\s+0.98\\s+0.55")
        .containsPattern("snapshot/ps_aux.txt\\s+snapshot\\s+host-a\\s+\\d+\\s+sha256:[0-9a-f]{64}");
    assertThat(ack.exitCode()).isZero();
    assertThat(ack.out().strip()).isEqualTo("incident " + id + " acknowledged (state ACKNOWLEDGED)");
    assertThat(resolve.exitCode()).isZero();
    JsonNode resolved = JSON.readTree(resolve.out());
    assertThat(resolved.path("state").asText()).isEqualTo("RESOLVED");
    assertThat(resolved.path("notes").toString()).contains("looking at seed propagation", "rng now seeded");
    assertThat(open.out().strip()).isEqualTo("no incidents open");
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.err().strip()).isEqualTo("lockstep: no incident no-such-incident");
  }

  @Test
  void anEmptyNoteIsRefusedBeforeItReachesTheCollector() throws Exception {
    String id = fleet.mismatch().getId();

    Cli.Result r = fleet.lockstep("incident", "ack", id, "--note", " ");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("lockstep: --note must not be empty");
  }

  @Test
  void runsAndRunShowListReplicasWithTheirHashes() throws Exception {
    Incident incident = fleet.mismatch();

    Cli.Result runs = fleet.lockstep("runs", "--mismatch");
    Cli.Result show = fleet.lockstep("run", "show", LiveFleet.RUN);
    Cli.Result json = fleet.lockstep("run", "show", LiveFleet.RUN, "-o", "json");

    assertThat(runs.out()).containsPattern(LiveFleet.RUN + "\\s+billing.reconcile\\s+MISMATCH\\s+UNSEEDED_RNG\\s+host-a/primary host-b/shadow\\s+" + incident.getId());
    assertThat(show.out()).contains("verdict     MISMATCH").containsPattern("host-a\\s+primary\\s+1234567\\s+sha256:[0-9a-f]{64}")
        .containsPattern("host-b\\s+shadow\\s+1234567\\s+sha256:[0-9a-f]{64}");
    JsonNode run = JSON.readTree(json.out());
    assertThat(run.path("replicas")).hasSize(2);
    assertThat(run.path("replicas").get(0).path("report").path("canonical_hash").asText())
        .isNotEqualTo(run.path("replicas").get(1).path("report").path("canonical_hash").asText());
  }

  @Test
  void diffByIncidentOrRunPrintsTheGoldenReportAndExitsOneOnMismatch() throws Exception {
    Incident incident = fleet.mismatch();

    Cli.Result byIncident = fleet.lockstep("diff", "--incident", incident.getId());
    Cli.Result byRun = fleet.lockstep("diff", "--run", LiveFleet.RUN, "-o", "json");
    Cli.Result unknown = fleet.lockstep("diff", "--run", "nope");

    assertThat(byIncident.exitCode()).as(byIncident.err()).isEqualTo(1);
    assertThat(byIncident.out()).contains("UNSEEDED_RNG").contains("/steps/1/rng/1");
    assertThat(byRun.exitCode()).isEqualTo(1);
    DiffReport report = DiffReport.fromJson(byRun.out());
    assertThat(report.match()).isFalse();
    assertThat(report.runId()).isEqualTo(LiveFleet.RUN);
    assertThat(report.category().name()).isEqualTo("UNSEEDED_RNG");
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.err().strip()).isEqualTo("lockstep: no run nope");
  }

  @Test
  void stopEnableStatusAndResumeFollowTheAgentsConfirmations() throws Exception {
    fleet.agent("host-a");
    TestAgent silent = fleet.agent("host-b");
    silent.acknowledgeStops = false;

    Cli.Result enable = fleet.lockstep("stop", "enable", "--reason", "P0 mismatch in billing.reconcile");
    Eventually.await(LiveFleet.WAIT, "host-a confirmed", () -> fleet.operator.getStopStatus(
        StopStatusRequest.getDefaultInstance()).getAgentsList().stream().anyMatch(a ->
            a.getAgentId().equals("host-a") && a.getStatus().equals("CONFIRMED") && a.getMode().name().equals("STOPPED")));
    Cli.Result pending = fleet.lockstep("stop", "status");
    Cli.Result expectRunning = fleet.lockstep("stop", "status", "--expect", "running");
    Cli.Result waited = fleet.lockstep("stop", "enable", "--reason", "again", "--wait", "300ms");
    silent.acknowledgeStops = true;
    Eventually.await(LiveFleet.WAIT, "host-b confirmed once it acks (resent)", () ->
        fleet.lockstep("stop", "status", "--expect", "stopped").exitCode() == 0);
    Cli.Result resume = fleet.lockstep("stop", "disable", "--yes", "--reason", "seed fix verified", "--wait", "20s");
    Cli.Result confirmed = fleet.lockstep("stop", "status", "--expect", "running", "-o", "json");
    Cli.Result scoped = fleet.lockstep("stop", "enable", "--reason", "bad host", "--scope", "agent=host-b", "--wait", "20s");
    Cli.Result badExpect = fleet.lockstep("stop", "status", "--expect", "halted");

    assertThat(enable.exitCode()).as(enable.err()).isZero();
    assertThat(enable.out()).contains("stop order issued: STOPPED: 1 active order covering 2 agents")
        .containsPattern("ORD-000001-[0-9a-f]{12} fleet by anonymous at \\S+: P0 mismatch in billing.reconcile");
    assertThat(pending.exitCode()).isEqualTo(1);
    assertThat(pending.out()).containsPattern("host-a\\s+STOPPED\\s+\\d+\\s+ORD-000001-\\S+\\s+CONFIRMED")
        .containsPattern("host-b\\s+STOPPED\\s+\\d+\\s+ORD-000001-\\S+\\s+PENDING")
        .contains("not confirmed by: host-b (PENDING)");
    assertThat(expectRunning.exitCode()).isEqualTo(1);
    assertThat(waited.exitCode()).isEqualTo(1);
    assertThat(resume.exitCode()).as(resume.out() + resume.err()).isZero();
    assertThat(resume.out()).containsPattern("resumed ORD-000001-\\S+, ORD-000002-\\S+: RUNNING \\(no active stop order\\)");
    assertThat(confirmed.exitCode()).as(confirmed.out()).isZero();
    JsonNode s = JSON.readTree(confirmed.out());
    assertThat(s.path("orders").size()).isZero();
    assertThat(s.path("confirmed").asInt()).isEqualTo(2);
    assertThat(scoped.exitCode()).as(scoped.out()).isZero();
    assertThat(scoped.out()).contains("covering 1 agent").containsPattern("ORD-000003-\\S+ agent=host-b")
        .containsPattern("host-a\\s+RUNNING").containsPattern("host-b\\s+STOPPED");
    assertThat(badExpect.exitCode()).isEqualTo(2);
    assertThat(badExpect.err()).contains("expected stopped or running, got 'halted'");
  }

  @Test
  void checkIsHealthyUntilAP0OpensAndSpeaksNagios() throws Exception {
    fleet.agent("host-z");
    Cli.Result healthy = fleet.lockstep("check");
    Cli.Result healthyNagios = fleet.lockstep("check", "--nagios");

    fleet.mismatch();
    Cli.Result critical = fleet.lockstep("check");
    Cli.Result nagios = fleet.lockstep("check", "--nagios");
    Cli.Result json = fleet.lockstep("check", "-o", "json");

    assertThat(healthy.exitCode()).isZero();
    assertThat(healthy.out().strip()).isEqualTo("LOCKSTEP OK - 1 agent(s) connected, no open incidents");
    assertThat(healthyNagios.exitCode()).isZero();
    assertThat(healthyNagios.out()).startsWith("LOCKSTEP OK - ").contains("| agents_connected=1");
    assertThat(critical.exitCode()).isEqualTo(1);
    assertThat(critical.out()).startsWith("LOCKSTEP CRITICAL - 1 P0 open")
        .contains("STOPPED: 1 active order covering 3 agents, all confirmed");
    assertThat(nagios.exitCode()).isEqualTo(2);
    assertThat(nagios.out()).contains("p0_open=1").contains("stop_orders=1").contains("stop_unconfirmed=0");
    JsonNode j = JSON.readTree(json.out());
    assertThat(j.path("status").asText()).isEqualTo("CRITICAL");
    assertThat(j.path("exit_code").asInt()).isEqualTo(1);
    assertThat(j.path("open_incidents").path("P0").asInt()).isEqualTo(1);
  }

  @Test
  void aStoreThatRefusesWritesMakesCheckCriticalWhileTheStopStillGoesOut() throws Exception {
    TestAgent a = fleet.agent("host-a");
    Cli.Result before = fleet.lockstep("status");
    fleet.collector.store().injectWriteFault("No space left on device");
    Cli.Result stop = fleet.lockstep("stop", "enable", "--reason", "drill on a full disk");
    Eventually.await(LiveFleet.WAIT, "host-a told to stop", () -> a.received.stream().anyMatch(f -> f.hasStop()
        && f.getStop().getState().getMode() == dev.lockstep.proto.v1.StopMode.STOPPED));
    Cli.Result check = fleet.lockstep("check");
    Cli.Result json = fleet.lockstep("check", "-o", "json");
    Cli.Result status = fleet.lockstep("status");
    fleet.collector.store().injectWriteFault(null);
    Eventually.await(LiveFleet.WAIT, "store OK again", () ->
        fleet.lockstep("status").out().matches("(?s).*store\\s+OK \\(.*"));

    assertThat(before.out()).containsPattern("store\\s+OK \\(\\d+ [GM]iB free\\)");
    assertThat(stop.exitCode()).as(stop.err()).isZero();
    assertThat(check.exitCode()).isEqualTo(1);
    assertThat(check.out()).startsWith("LOCKSTEP CRITICAL").contains("collector store FAILED");
    JsonNode j = JSON.readTree(json.out());
    assertThat(j.path("store_state").asText()).isEqualTo("FAILED");
    assertThat(j.path("critical").toString()).contains("collector store FAILED");
    assertThat(status.out()).containsPattern("store\\s+FAILED: .*writes held in memory");
  }

  /**
   * A resume lifts only what the operator looked at: without --order nothing is resumed, the
   * active orders are listed with the command that resumes exactly them; that command, run after
   * another order was issued (a mismatch while the operator read), resumes nothing and names the
   * new order; naming both resumes both.
   */
  @Test
  void aResumeWithoutOrdersListsThemAndResumesNothing() throws Exception {
    fleet.agent("host-a");
    fleet.lockstep("stop", "enable", "--reason", "drill");
    Cli.Result bare = fleet.lockstep("stop", "resume", "--reason", "drill's over");
    assertThat(bare.exitCode()).as(bare.out() + bare.err()).isEqualTo(2);
    assertThat(bare.err()).contains("nothing resumed: name the orders you have looked at")
        .containsPattern("ORD-000001-\\S+ fleet by anonymous at \\S+: drill")
        .containsPattern("lockstep stop resume --all --order ORD-000001-[0-9a-f]{12} --reason 'drill'\\\\''s over'");
    assertThat(fleet.operator.getStopStatus(StopStatusRequest.getDefaultInstance()).getOrdersCount())
        .as("nothing resumed").isEqualTo(1);
    String seen = fleet.operator.getStopStatus(StopStatusRequest.getDefaultInstance()).getOrders(0).getId();

    fleet.lockstep("stop", "enable", "--reason", "P0 mismatch while the operator read"); // unseen
    Cli.Result stale = fleet.lockstep("stop", "resume", "--all", "--order", seen, "--reason", "drill over");
    assertThat(stale.exitCode()).isNotZero();
    assertThat(stale.err()).contains("ORD-000002-").contains("nothing was resumed");
    assertThat(fleet.operator.getStopStatus(StopStatusRequest.getDefaultInstance()).getOrdersCount())
        .isEqualTo(2);
    String unseen = fleet.operator.getStopStatus(StopStatusRequest.getDefaultInstance()).getOrdersList()
        .stream().map(o -> o.getId()).filter(id -> !id.equals(seen)).findFirst().orElseThrow();
    Cli.Result both = fleet.lockstep("stop", "resume", "--all", "--order", seen, "--order", unseen,
        "--reason", "both looked at");
    assertThat(both.exitCode()).as(both.err()).isZero();
    assertThat(fleet.operator.getStopStatus(StopStatusRequest.getDefaultInstance()).getOrdersCount()).isZero();
    Cli.Result mixed = fleet.lockstep("stop", "resume", "--yes", "--order", seen, "--reason", "x");
    assertThat(mixed.exitCode()).isEqualTo(2);
    assertThat(mixed.err()).contains("--yes resumes every active order");
  }

  @Test
  void auditListsOperatorActionsWithTheirReasons() throws Exception {
    fleet.agent("host-a");
    fleet.lockstep("stop", "enable", "--reason", "drill: stop the fleet");
    fleet.lockstep("stop", "resume", "--yes", "--reason", "drill over");

    Cli.Result r = fleet.lockstep("audit", "--since", "1h");
    Cli.Result json = fleet.lockstep("audit", "-o", "json");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).containsPattern("EnableStop\\s+ORD-000001-\\S+\\s+\\S+\\s+OK\\s+fleet: drill: stop the fleet")
        .containsPattern("ResumeStop\\s+ORD-000001-\\S+\\s+\\S+\\s+OK\\s+drill over");
    assertThat(JSON.readTree(json.out()).path("entries").size()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void evidenceExportWritesThePlaybookDirectoryCheckedAgainstItsManifest() throws Exception {
    Incident incident = fleet.mismatch();
    Path out = tmp.resolve("reports/m4-incident");

    Cli.Result r = fleet.lockstep("evidence", "export", incident.getId(), "--out", out.toString());

    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode manifest = Manifests.verify(out.toRealPath());
    assertThat(manifest.path("incident_id").asText()).isEqualTo(incident.getId());
    assertThat(out.resolve("host-a/golden/" + LiveFleet.RUN + ".primary.golden.json")).isRegularFile();
    assertThat(out.resolve("host-b/golden/" + LiveFleet.RUN + ".shadow.golden.json")).isRegularFile();
    assertThat(Files.readString(out.resolve("host-a/snapshot/ps_aux.txt"))).contains("host-a");
    assertThat(out.resolve("host-b/snapshot/disk_usage.txt")).isRegularFile();
    assertThat(out.resolve("host-b/snapshot/memory.txt")).isRegularFile();
    assertThat(out.resolve("host-a/logs/shadow_24h_20251202.log")).isRegularFile();
    assertThat(Files.readString(out.resolve("diff_analysis.txt"))).contains("UNSEEDED_RNG");
    JsonNode summary = JSON.readTree(out.resolve("golden_summary.json").toFile());
    assertThat(summary.path("files").asInt()).isEqualTo(2);
    assertThat(summary.path("mismatches").asInt()).isEqualTo(1);
    JsonNode mismatching = summary.path("mismatching_runs").get(0);
    assertThat(mismatching.path("category").asText()).isEqualTo("UNSEEDED_RNG");
    assertThat(mismatching.path("replicas").findValuesAsText("file")).containsExactlyInAnyOrder(
        "host-a/golden/" + LiveFleet.RUN + ".primary.golden.json", "host-b/golden/" + LiveFleet.RUN + ".shadow.golden.json");
    Process tar = new ProcessBuilder("tar", "tzf", out.resolve("golden_files.tgz").toString()).start();
    String listing = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(tar.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(listing).contains(LiveFleet.RUN + ".primary.golden.json", LiveFleet.RUN + ".shadow.golden.json");
    try (Stream<Path> all = Files.walk(tmp)) {
      assertThat(all.map(p -> p.getFileName().toString())).doesNotContain("escape.txt");
    }
    assertThat(r.out()).startsWith("exported 10 artifact(s)");
  }

  @Test
  void watchPrintsTheCurrentIncidentsAndStopOneLineEach() throws Exception {
    Incident incident = fleet.mismatch();

    Cli.Result r = fleet.lockstep("watch", "--current", "--count", "2");
    Cli.Result json = fleet.lockstep("watch", "--current", "--count", "1", "-o", "json");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out().lines()).hasSize(2);
    assertThat(r.out()).contains("incident " + incident.getId() + " P0 OPEN MISMATCH UNSEEDED_RNG billing.reconcile")
        .contains("stop STOPPED: 1 active order covering 2 agents");
    assertThat(JSON.readTree(json.out()).path("incident").path("id").asText()).isEqualTo(incident.getId());
  }

  @Test
  void watchStreamsAStopChangeAsItHappens() throws Exception {
    fleet.agent("host-a");
    java.util.concurrent.CompletableFuture<Cli.Result> watching =
        java.util.concurrent.CompletableFuture.supplyAsync(() -> fleet.lockstep("watch", "--count", "1"));

    // The watch subscribes asynchronously: keep changing the stop state until it has seen one.
    Eventually.await(LiveFleet.WAIT, "the watch saw a stop change", () -> {
      fleet.operator.enableStop(dev.lockstep.proto.v1.EnableStopRequest.newBuilder().setReason("watch me").build());
      return watching.isDone();
    });
    Cli.Result r = watching.get();

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).containsPattern("^\\d{4}-\\d\\d-\\d\\dT\\S+Z  stop STOPPED: \\d+ active orders? covering 1 agent \\[")
        .hasLineCount(1);
  }

  @Test
  void stopStatusOfAFleetNeverStoppedExitsZero() {
    fleet.agent("host-a");
    StopStatus s = fleet.operator.getStopStatus(StopStatusRequest.getDefaultInstance());
    assertThat(s.getOrdersList()).isEmpty();

    Cli.Result r = fleet.lockstep("stop", "status");
    Cli.Result stopped = fleet.lockstep("stop", "status", "--expect", "stopped");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("stop    RUNNING (no active stop order)");
    assertThat(stopped.exitCode()).as("no order is active").isEqualTo(1);
  }
}
