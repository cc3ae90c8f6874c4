package dev.lockstep.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.uplink.Uplink;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.ReportLimits;
import dev.lockstep.proto.lite.v1.Event;
import dev.lockstep.proto.lite.v1.GoldenReport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SuppressWarnings("try") // agents are started for their side effects
class AgentDeliveryTest {
  @TempDir Path root;
  TestGateway gateway;
  Path golden;

  @BeforeEach
  void setUp() throws Exception {
    gateway = new TestGateway();
    golden = root.resolve("golden");
  }

  @AfterEach
  void tearDown() throws Exception {
    gateway.close();
  }

  private List<GoldenReport> goldenReports(String agent) {
    return gateway.events(agent, Event.BodyCase.GOLDEN).stream().map(Event::getGolden).toList();
  }

  @Test
  void completeGoldenFilesAreParsedHashedAndDelivered() throws Exception {
    try (Agent agent = Agent.start(Fixtures.config("a1", gateway, root), Clock.systemUTC())) {
      GoldenFiles.writeAtomically(golden, "run-1", "primary");
      GoldenFiles.writeAtomically(golden, "run-1", "shadow");
      Eventually.await("two golden reports", () -> goldenReports("a1").size() == 2);
      for (GoldenReport r : goldenReports("a1")) {
        assertThat(r.hasError()).as(r.getError().getMessage()).isFalse();
        assertThat(r.getRunId()).isEqualTo("run-1");
        assertThat(r.getCanonicalHash()).startsWith("sha256:");
        assertThat(r.getStepsCount()).isEqualTo(2);
        assertThat(r.getSeed()).isEqualTo(42);
      }
      assertThat(goldenReports("a1")).extracting(GoldenReport::getRole).containsExactlyInAnyOrder("primary", "shadow");
      Eventually.await("acked", () -> agent.lastAckedSeq() >= 2);
      assertThat(agent.isConnected()).isTrue();
    }
  }

  /**
   * A golden file whose run id is longer than a collector takes is reported as a bad golden file
   * (STRING_TOO_LONG, without the run id), not as a report the collector would refuse together
   * with every event batched after it; the files after it are delivered as usual.
   */
  @Test
  void aRunIdOverTheCollectorsLimitIsReportedAsABadGoldenFile() throws Exception {
    try (Agent agent = Agent.start(Fixtures.config("a1", gateway, root), Clock.systemUTC())) {
      Files.createDirectories(golden);
      String longId = "run-" + "x".repeat(300);
      Files.writeString(golden.resolve("long.primary.golden.json"), GoldenFiles.json(longId, "primary", 42, 7));
      Eventually.await("the bad report", () -> goldenReports("a1").size() == 1);
      GoldenReport bad = goldenReports("a1").get(0);
      assertThat(bad.getError().getCode()).isEqualTo("STRING_TOO_LONG");
      assertThat(bad.getError().getMessage()).contains("run_id of 304 characters (at most 256)");
      assertThat(bad.getRunId()).isEmpty();
      GoldenFiles.writeAtomically(golden, "run-2", "primary");
      Eventually.await("the next file", () -> goldenReports("a1").size() == 2);
      assertThat(goldenReports("a1").get(1).hasError()).isFalse();
    }
  }

  /**
   * An engine hash over the collector's limit is never a reason to leave a run uncompared: our
   * agent sends such a file as a normal report, the long hash as its digest (what the collector
   * keeps of it, ReportLimits.engineHash), so equal hashes still read equal and different ones
   * different.
   */
  @Test
  void aStepsEngineHashOverTheCollectorsLimitIsSentAsItsDigestInANormalReport() throws Exception {
    try (Agent agent = Agent.start(Fixtures.config("a1", gateway, root), Clock.systemUTC())) {
      Files.createDirectories(golden);
      String json = GoldenFiles.json("run-1", "primary", 42, 7)
          .replace("\"name\":\"sum\",", "\"name\":\"sum\",\"hash\":\"" + "h".repeat(300) + "\",");
      Files.writeString(golden.resolve("run-1.primary.golden.json"), json);
      Eventually.await("the report", () -> goldenReports("a1").size() == 1);
      GoldenReport report = goldenReports("a1").get(0);
      assertThat(report.hasError()).as(report.getError().getMessage()).isFalse();
      assertThat(report.getRunId()).isEqualTo("run-1");
      assertThat(report.getSteps(1).getEngineHash()).isEqualTo(ReportLimits.engineHash("h".repeat(300)))
          .startsWith(ReportLimits.ENGINE_HASH_DIGEST);
      assertThat(report.getSteps(1).getCanonicalHash()).startsWith("sha256:");
    }
  }

  @Test
  void aFieldNamedInVolatileNamesIsMaskedFromTheCanonicalHash() throws Exception {
    Path yaml = root.resolve("agent.yaml");
    Files.writeString(yaml, "agent_id: a1\nstate_dir: " + root.resolve("state") + "\n"
        + "collector: {address: '" + gateway.target() + "', insecure: true}\n"
        + "golden: {volatile: {names: [trace_id]}}\n");
    GoldenConfig loaded = AgentConfig.load(yaml).goldenConfig();
    String a = GoldenFiles.json("run-v", "primary", 42, 7).replace("\"output\":{\"total\":7}}", "\"output\":{\"total\":7},\"trace_id\":\"aaa\"}");
    String b = a.replace("\"primary\"", "\"shadow\"").replace("aaa", "bbb");
    // with the default config the two files hash differently, so equal hashes below prove the mask
    assertThat(Golden.parse(a.getBytes(StandardCharsets.UTF_8), "a", GoldenConfig.DEFAULT).summary().canonicalHash())
        .isNotEqualTo(Golden.parse(b.getBytes(StandardCharsets.UTF_8), "b", GoldenConfig.DEFAULT).summary().canonicalHash());
    try (Agent agent = Agent.start(Fixtures.config("a1", gateway, root).withGoldenConfig(loaded), Clock.systemUTC())) {
      Files.writeString(golden.resolve("run-v.primary.golden.json"), a, StandardCharsets.UTF_8);
      Files.writeString(golden.resolve("run-v.shadow.golden.json"), b, StandardCharsets.UTF_8);
      Eventually.await("two golden reports", () -> goldenReports("a1").size() == 2);
      List<GoldenReport> reports = goldenReports("a1");
      assertThat(reports).allSatisfy(r -> assertThat(r.hasError()).as(r.getError().getMessage()).isFalse());
      assertThat(reports.get(0).getCanonicalHash()).isEqualTo(reports.get(1).getCanonicalHash());
    }
  }

  @Test
  void collectorDownWhileEventsPileUpThenEverythingArrivesInOrder() throws Exception {
    try (Agent agent = Agent.start(Fixtures.config("a1", gateway, root), Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      gateway.stop();
      Eventually.await("disconnected", () -> !agent.isConnected());
      for (int i = 0; i < 60; i++) {
        GoldenFiles.writeAtomically(golden, "run-" + i, "primary");
      }
      Eventually.await("60 golden events spooled", () -> agent.lastSpooledSeq() >= 60);
      assertThat(goldenReports("a1")).isEmpty();
      gateway.start();
      Eventually.await("all delivered", () -> goldenReports("a1").size() == 60);
      List<Event> all = gateway.events("a1");
      for (int i = 0; i < all.size(); i++) {
        assertThat(all.get(i).getSeq()).isEqualTo(i + 1);
      }
      Set<String> runs = goldenReports("a1").stream().map(GoldenReport::getRunId).collect(Collectors.toSet());
      assertThat(runs).hasSize(60);
      Eventually.await("acked", () -> agent.lastAckedSeq() == agent.lastSpooledSeq());
    }
  }

  /**
   * A collector that holds routine events asks again on every batch after each pause (a cluster
   * whose core is behind: every second of a fail-over): the agent says so once, not once per ask,
   * and still delivers everything once the hold ends.
   */
  @Test
  void aHoldAskedForAgainAndAgainIsLoggedOnce() throws Exception {
    List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
    gateway.holdRoutine(50);
    try (Agent agent = Agent.start(Fixtures.config("a1", gateway, root), Clock.systemUTC(), lines::add)) {
      Eventually.await("20 holds asked for", () -> gateway.backoffsSent() >= 20);
      assertThat(lines.stream().filter(l -> l.contains("collector asked to hold events"))).hasSize(1);
      gateway.holdRoutine(0);
      long spooled = agent.lastSpooledSeq();
      Eventually.await("everything spooled during the hold acked", () -> agent.lastAckedSeq() >= spooled);
    }
  }

  @Test
  void aFileRenamedIntoPlaceIsReportedWithoutWaitingForTheSettleTime() throws Exception {
    AgentConfig config = Fixtures.config("a1", gateway, root).withGoldenSettle(Duration.ofMinutes(10));
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      GoldenFiles.writeAtomically(golden, "run-fast", "primary");
      // The settle time is 10 minutes: only the first-sight look can report it this soon.
      Eventually.await("reported on first sight", Duration.ofSeconds(20), () -> goldenReports("a1").size() == 1);
      assertThat(goldenReports("a1").get(0).getRunId()).isEqualTo("run-fast");
      assertThat(goldenReports("a1").get(0).hasError()).isFalse();
    }
  }

  @Test
  void halfWrittenGoldenFileIsNeverReadAsFinal() throws Exception {
    try (Agent agent = Agent.start(Fixtures.config("a1", gateway, root), Clock.systemUTC())) {
      String full = GoldenFiles.json("run-half", "primary", 7, 3);
      Path half = golden.resolve("run-half.primary.golden.json");
      Files.writeString(half, full.substring(0, full.length() / 2), StandardCharsets.UTF_8);
      // a later, complete file proves the watcher looked at the directory well past the settle time
      GoldenFiles.writeAtomically(golden, "run-later", "primary");
      Eventually.await("later file reported", () -> goldenReports("a1").size() == 1);
      Eventually.await("settle passed twice", Duration.ofSeconds(5), () -> {
        try {
          return Files.getLastModifiedTime(half).toMillis() < System.currentTimeMillis() - 400;
        } catch (java.io.IOException e) {
          return false;
        }
      });
      assertThat(goldenReports("a1")).extracting(GoldenReport::getRunId).containsExactly("run-later");
      Files.writeString(half, full, StandardCharsets.UTF_8);
      Eventually.await("completed file reported", () -> goldenReports("a1").size() == 2);
      GoldenReport r = goldenReports("a1").get(1);
      assertThat(r.hasError()).as(r.getError().getMessage()).isFalse();
      assertThat(r.getRunId()).isEqualTo("run-half");
      assertThat(r.getSizeBytes()).isEqualTo(full.length());
    }
  }

  @Test
  void malformedGoldenFileIsReportedAsAnErrorNamingTheFileAndTheAgentKeepsRunning() throws Exception {
    try (Agent agent = Agent.start(Fixtures.config("a1", gateway, root), Clock.systemUTC())) {
      Path bad = golden.resolve("run-bad.primary.golden.json");
      Files.writeString(bad, "{\"run_id\": \"run-bad\", \"steps\": [1, 2,, 3]}");
      Eventually.await("error report", () -> goldenReports("a1").size() == 1);
      GoldenReport r = goldenReports("a1").get(0);
      assertThat(r.hasError()).isTrue();
      assertThat(r.getError().getPath()).isEqualTo(bad.toString());
      assertThat(r.getError().getMessage()).contains("run-bad.primary.golden.json");
      assertThat(r.getError().getCode()).isNotEmpty();
      assertThat(r.getError().getLine()).isEqualTo(1);
      GoldenFiles.writeAtomically(golden, "run-good", "primary");
      Eventually.await("good file after the bad one", () -> goldenReports("a1").size() == 2);
      assertThat(goldenReports("a1").get(1).hasError()).isFalse();
    }
  }

  @Test
  void aGoldenFileWithoutARoleIsReportedAsMissingFieldNotWithAnEmptyRole() throws Exception {
    try (Agent agent = Agent.start(Fixtures.config("a1", gateway, root), Clock.systemUTC())) {
      Path roleless = golden.resolve("run-x.json");
      Files.writeString(roleless, GoldenFiles.json("run-x", "", 1, 2).replace("\"role\":\"\",", ""));
      Eventually.await("error report", () -> goldenReports("a1").size() == 1);
      GoldenReport r = goldenReports("a1").get(0);
      assertThat(r.hasError()).isTrue();
      assertThat(r.getError().getCode()).isEqualTo("MISSING_FIELD");
      assertThat(r.getError().getMessage()).contains("no role");
      Eventually.await("acked", () -> agent.lastAckedSeq() >= 1);
    }
  }

  /** An agent reports run-0..run-4 and is closed. */
  private void reportFiveRuns(AgentConfig config) throws Exception {
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      for (int i = 0; i < 5; i++) {
        GoldenFiles.writeAtomically(golden, "run-" + i, "primary");
      }
      Eventually.await("five", () -> goldenReports("a1").size() == 5);
    }
  }

  /** Deletes the agent's state directory (a wiped or replaced host). */
  private void wipeState() throws java.io.IOException {
    try (java.util.stream.Stream<Path> files = Files.walk(root.resolve("state"))) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void restartedAgentDoesNotReportTheSameFilesAgainButReportsNewOnes() throws Exception {
    AgentConfig config = Fixtures.config("a1", gateway, root);
    reportFiveRuns(config);
    GoldenFiles.writeAtomically(golden, "run-new", "primary");
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("the new one", () -> goldenReports("a1").size() == 6);
      // a rescan or two later there is still nothing more
      Eventually.await("acked", () -> agent.lastAckedSeq() == agent.lastSpooledSeq() && agent.lastSpooledSeq() >= 6);
    }
    assertThat(goldenReports("a1")).extracting(GoldenReport::getRunId).doesNotHaveDuplicates().hasSize(6);
  }

  @Test
  void anAgentWhoseStateWasWipedContinuesAboveWhatTheCollectorHolds() throws Exception {
    AgentConfig config = Fixtures.config("a1", gateway, root);
    reportFiveRuns(config);
    long held = gateway.events("a1").size();
    wipeState();
    gateway.stop();
    GoldenFiles.writeAtomically(golden, "run-after-wipe", "primary");
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      // spooled while the collector is away, with seqs the collector already holds
      Eventually.await("spooled", () -> agent.lastSpooledSeq() >= 6);
      gateway.start();
      Eventually.await("re-sequenced and stored", () -> goldenReports("a1").size() == 5 + 6);
      assertThat(gateway.events("a1").get((int) held).getSeq())
          .isBetween(held + Uplink.REBASE_GAP + 1, held + Uplink.REBASE_GAP + Uplink.REBASE_SPREAD);
      assertThat(goldenReports("a1")).extracting(GoldenReport::getRunId).contains("run-after-wipe");
    }
  }

  /**
   * Cluster mode welcomes with a collector's acked mark, which may lag what the core processed (a
   * collector killed before its mark reached Kafka). An agent whose state was wiped numbered its
   * new events right above that mark: the same seqs as events already processed, and the core
   * dropped them as resends. Now it numbers them far above it.
   */
  @Test
  void anAgentWhoseStateWasWipedIsNotFooledByALaggingAckedMark() throws Exception {
    AgentConfig config = Fixtures.config("a1", gateway, root);
    reportFiveRuns(config);
    wipeState();
    long stale = gateway.events("a1").size() - 3;
    gateway.welcomeAt(stale); // the mark reached Kafka 3 events short, and stays there
    GoldenFiles.writeAtomically(golden, "run-after-wipe", "primary");
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("stored", () -> goldenReports("a1").stream().anyMatch(r -> r.getRunId().equals("run-after-wipe")));
      assertThat(gateway.duplicates()).as("no seq the collector holds sent again").isZero();
    }
    // wiped again while the mark still lags: the new seqs are not the ones the first wipe took
    wipeState();
    GoldenFiles.writeAtomically(golden, "run-after-second-wipe", "primary");
    try (Agent agent = Agent.start(config, Clock.systemUTC())) {
      Eventually.await("stored", () -> goldenReports("a1").stream().anyMatch(r -> r.getRunId().equals("run-after-second-wipe")));
      assertThat(gateway.duplicates()).as("no seq of the first wipe sent again").isZero();
    }
  }

  @Test
  void goldenDirectoryDeletedAndRecreatedIsWatchedAgain() throws Exception {
    try (Agent agent = Agent.start(Fixtures.config("a1", gateway, root), Clock.systemUTC())) {
      GoldenFiles.writeAtomically(golden, "run-1", "primary");
      Eventually.await("first", () -> goldenReports("a1").size() == 1);
      Files.delete(golden.resolve("run-1.primary.golden.json"));
      Files.delete(golden);
      Files.createDirectories(golden);
      GoldenFiles.writeAtomically(golden, "run-2", "primary");
      Eventually.await("file in the recreated dir", () -> goldenReports("a1").size() == 2);
    }
  }

  @Test
  void globDirectoriesPickUpNewSimulationDirectories() throws Exception {
    AgentConfig c = Fixtures.config("a1", gateway, root)
        .withGoldenDirs(List.of(root.resolve("sim_*").resolve("golden").toString()));
    try (Agent agent = Agent.start(c, Clock.systemUTC())) {
      Path d = Files.createDirectories(root.resolve("sim_20251202").resolve("golden"));
      GoldenFiles.writeAtomically(d, "run-g", "shadow");
      Eventually.await("file under a globbed dir", () -> goldenReports("a1").size() == 1);
    }
  }

  @Test
  void thousandsOfFilesAMinuteAreKeptUpWith() throws Exception {
    try (Agent agent = Agent.start(Fixtures.config("a1", gateway, root), Clock.systemUTC())) {
      long start = System.nanoTime();
      for (int i = 0; i < 1000; i++) {
        GoldenFiles.writeAtomically(golden, "bulk-" + i, i % 2 == 0 ? "primary" : "shadow");
      }
      Eventually.await("1000 reports", Duration.ofSeconds(30), () -> goldenReports("a1").size() == 1000);
      double seconds = (System.nanoTime() - start) / 1e9;
      assertThat(seconds).as("1000 files took %.1f s", seconds).isLessThan(30);
      assertThat(gateway.duplicates()).isZero();
    }
  }
}
