package dev.lockstep.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.proto.lite.v1.CaptureRequest;
import dev.lockstep.proto.lite.v1.Event;
import dev.lockstep.proto.lite.v1.EvidenceChunk;
import dev.lockstep.proto.lite.v1.Pins;
import dev.lockstep.proto.lite.v1.StopMode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SuppressWarnings("try") // agents are started for their side effects
class EvidenceAndRetentionTest {
  @TempDir Path root;
  TestGateway gateway;

  @BeforeEach
  void setUp() throws Exception {
    gateway = new TestGateway();
  }

  @AfterEach
  void tearDown() throws Exception {
    gateway.close();
  }

  private static Map<String, byte[]> artifacts(List<EvidenceChunk> chunks) throws Exception {
    Map<String, ByteArrayOutputStream> data = new LinkedHashMap<>();
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (EvidenceChunk c : chunks) {
      if (c.getDone()) {
        continue;
      }
      assertThat(c.getError()).as(c.getName()).isEmpty();
      assertThat(c.getData().size()).isLessThanOrEqualTo(256 * 1024);
      ByteArrayOutputStream b = data.computeIfAbsent(c.getName(), k -> new ByteArrayOutputStream());
      assertThat(c.getOffset()).isEqualTo(b.size());
      c.getData().writeTo(b);
      if (c.getLast()) {
        byte[] all = b.toByteArray();
        assertThat(c.getTotalBytes()).isEqualTo(all.length);
        assertThat(c.getSha256()).isEqualTo("sha256:" + HexFormat.of().formatHex(
            MessageDigest.getInstance("SHA-256").digest(all)));
        out.put(c.getName(), all);
      }
    }
    return out;
  }

  @Test
  void captureRequestIsAnsweredWithGoldenFilesLogTailsAndASystemSnapshotInChunks() throws Exception {
    Path log = root.resolve("shadow_24h_1.log");
    StringBuilder big = new StringBuilder();
    for (int i = 0; i < 40_000; i++) {
      big.append("Running cycle ").append(i).append(" run_id=r-").append(i).append('\n');
    }
    Files.writeString(log, big);
    AgentConfig c = Fixtures.config("a1", gateway, root)
        .withLogs(List.of(AgentConfig.LogWatch.of(log.toString())));
    Path golden = root.resolve("golden");
    try (Agent agent = Agent.start(c, Clock.systemUTC())) {
      GoldenFiles.writeAtomically(golden, "run-x", "primary");
      GoldenFiles.writeAtomically(golden, "run-x", "shadow");
      GoldenFiles.writeAtomically(golden, "run-y", "primary");
      Eventually.await("reported", () -> gateway.events("a1", Event.BodyCase.GOLDEN).size() == 3);
      gateway.capture(CaptureRequest.newBuilder().setRequestId("req-1").setIncidentId("inc-1").addRunIds("run-x")
          .setIncludeLogs(true).setLogTailLines(30_000).setIncludeSnapshot(true).build());
      Eventually.await("done", () -> gateway.evidence().stream().anyMatch(EvidenceChunk::getDone));
      Map<String, byte[]> a = artifacts(gateway.evidence());
      assertThat(a.keySet()).containsExactlyInAnyOrder("golden/run-x.primary.golden.json",
          "golden/run-x.shadow.golden.json", "logs/shadow_24h_1.log", "snapshot/ps_aux.txt",
          "snapshot/disk_usage.txt", "snapshot/memory.txt");
      assertThat(new String(a.get("golden/run-x.shadow.golden.json"))).isEqualTo(GoldenFiles.json("run-x", "shadow", 42, 7));
      String tail = new String(a.get("logs/shadow_24h_1.log"));
      assertThat(tail.lines().count()).isEqualTo(30_000);
      assertThat(tail).endsWith("Running cycle 39999 run_id=r-39999\n");
      assertThat(gateway.evidence().stream().filter(ch -> ch.getName().startsWith("logs/")).count())
          .as("a log tail over 256 KiB comes in several chunks").isGreaterThan(1);
      assertThat(new String(a.get("snapshot/ps_aux.txt"))).contains("PID").contains("java");
      assertThat(new String(a.get("snapshot/memory.txt"))).contains("Mem:");
      assertThat(new String(a.get("snapshot/disk_usage.txt"))).contains("Use%");
      assertThat(gateway.evidence()).allMatch(ch -> ch.getRequestId().equals("req-1") && ch.getIncidentId().equals("inc-1"));
    }
  }

  @Test
  void evidenceStaysWithinTheRequestedBound() throws Exception {
    Path log = root.resolve("big.log");
    Files.writeString(log, "x".repeat(100) .concat("\n").repeat(20_000));
    AgentConfig c = Fixtures.config("a1", gateway, root).withLogs(List.of(AgentConfig.LogWatch.of(log.toString())));
    try (Agent agent = Agent.start(c, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      gateway.capture(CaptureRequest.newBuilder().setRequestId("r").setIncludeLogs(true).setLogTailLines(20_000)
          .setIncludeSnapshot(true).setMaxBytes(300_000).build());
      Eventually.await("done", () -> gateway.evidence().stream().anyMatch(EvidenceChunk::getDone));
      long total = gateway.evidence().stream().mapToLong(ch -> ch.getData().size()).sum();
      assertThat(total).isLessThanOrEqualTo(300_000);
      assertThat(gateway.evidence().stream().anyMatch(EvidenceChunk::getTruncated)).isTrue();
    }
  }

  @Test
  void retentionArchivesOldGoldenFilesIntoTarGzAndNeverTouchesPinnedRuns() throws Exception {
    MutableClock clock = MutableClock.atSystemNow();
    Path archive = root.resolve("archive");
    AgentConfig c = Fixtures.config("a1", gateway, root)
        .withRetention(new AgentConfig.Retention(true, Duration.ofDays(1), archive, Duration.ofHours(1)));
    Path golden = root.resolve("golden");
    // Two files already two days old when the agent first sees them (touching a reported file
    // would make it a changed file, reported again), and a fresh one.
    Path oldA = GoldenFiles.writeAtomically(golden, "old-a", "primary");
    Path oldPinned = GoldenFiles.writeAtomically(golden, "old-pinned", "primary");
    FileTime twoDaysAgo = FileTime.from(clock.instant().minus(Duration.ofDays(2)));
    Files.setLastModifiedTime(oldA, twoDaysAgo);
    Files.setLastModifiedTime(oldPinned, twoDaysAgo);
    Path fresh = GoldenFiles.writeAtomically(golden, "fresh", "primary");
    try (Agent agent = Agent.start(c, clock)) {
      Eventually.await("reported", () -> gateway.events("a1", Event.BodyCase.GOLDEN).size() == 3);
      gateway.pins(Pins.newBuilder().addRunIds("old-pinned").build());
      Eventually.await("pins arrived", () -> agent.currentPins().getRunIdsCount() == 1);
      assertThat(agent.runRetention()).isEqualTo(1);
      assertThat(oldA).doesNotExist();
      assertThat(oldPinned).as("pinned by an open incident").exists();
      assertThat(fresh).exists();
      assertThat(archived(archive)).isEqualTo(GoldenFiles.json("old-a", "primary", 42, 7));
      Eventually.await("retention notice", () -> gateway.events("a1", Event.BodyCase.NOTICE).stream()
          .anyMatch(e -> e.getNotice().getCount() == 1 && e.getNotice().getMessage().contains("archived")));
      // the archived file is not reported again, and nothing else is reported
      assertThat(gateway.events("a1", Event.BodyCase.GOLDEN)).hasSize(3);
    }
  }

  // A workload that may write the golden and log directories (not root) must not make the agent
  // read files outside them (a symlink to a root-only file), nor hang it on a FIFO: a capture
  // request naming such a file must never keep a stop command from being enacted.

  @Test
  void aFifoNamedLikeAGoldenFileNeitherHangsTheAgentNorKeepsAStopFromBeingEnacted() throws Exception {
    Path golden = root.resolve("golden");
    AgentConfig c = Fixtures.config("a1", gateway, root);
    Path fifo = golden.resolve("run-f.primary.golden.json");
    Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    assertThat(mk.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(mk.exitValue()).isZero();
    try (Agent agent = Agent.start(c, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      gateway.capture(CaptureRequest.newBuilder().setRequestId("req-f").setIncidentId("inc-f")
          .addRunIds("run-f").build());
      Thread.sleep(300);
      gateway.setStop(StopMode.STOPPED, "inc-f", "mismatch");
      Eventually.await("the stop is enacted although a capture named a FIFO", Duration.ofSeconds(15),
          () -> agent.enactedStop().mode() == StopMode.STOPPED && agent.enactedStop().done());
      Eventually.await("the capture is answered", Duration.ofSeconds(15),
          () -> gateway.evidence().stream().anyMatch(EvidenceChunk::getDone));
      assertThat(gateway.evidence()).filteredOn(ch -> ch.getName().endsWith("run-f.primary.golden.json"))
          .allMatch(ch -> !ch.getError().isEmpty() && ch.getData().isEmpty());
    } finally {
      // unblock a reader stuck in open(2) on the FIFO (the unfixed agent), so the test ends
      new ProcessBuilder("timeout", "2", "sh", "-c", "echo > '" + fifo + "'").start().waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void symlinksInTheGoldenAndLogDirectoriesAreNotFollowedOutOfThem() throws Exception {
    Path secret = root.resolve("secret");
    Files.createDirectories(secret);
    Path shadow = secret.resolve("shadow");
    Files.writeString(shadow, "root:TOPSECRET-HASH:19000:0:99999:7:::\n");
    Path logs = root.resolve("logs");
    Files.createDirectories(logs);
    Files.writeString(logs.resolve("app_1.log"), "Running cycle 1\n");
    Files.createSymbolicLink(logs.resolve("app_2.log"), shadow);
    Path golden = root.resolve("golden");
    AgentConfig c = Fixtures.config("a1", gateway, root)
        .withLogs(List.of(AgentConfig.LogWatch.of(logs.resolve("app_*.log").toString())));
    Files.createSymbolicLink(golden.resolve("run-s.primary.golden.json"), shadow);
    try (Agent agent = Agent.start(c, Clock.systemUTC())) {
      Eventually.await("connected", agent::isConnected);
      gateway.capture(CaptureRequest.newBuilder().setRequestId("req-s").setIncidentId("inc-s")
          .addRunIds("run-s").setIncludeLogs(true).build());
      Eventually.await("the capture is answered", Duration.ofSeconds(15),
          () -> gateway.evidence().stream().anyMatch(EvidenceChunk::getDone));
      assertThat(gateway.evidence()).as("the log that is a regular file is sent")
          .anyMatch(ch -> ch.getName().equals("logs/app_1.log") && ch.getData().toStringUtf8().contains("Running cycle 1"));
      for (EvidenceChunk ch : gateway.evidence()) {
        assertThat(ch.getData().toString(StandardCharsets.UTF_8)).as(ch.getName()).doesNotContain("TOPSECRET");
      }
      // nor is it tailed and sent as log lines or golden reports
      Files.writeString(shadow, "error TOPSECRET-2\n", java.nio.file.StandardOpenOption.APPEND);
      Files.writeString(logs.resolve("app_1.log"), "error here\n", java.nio.file.StandardOpenOption.APPEND);
      Eventually.await("the real log's line arrives", Duration.ofSeconds(15), () -> gateway.events("a1").stream()
          .anyMatch(e -> e.hasLogMatch() && e.getLogMatch().getLine().contains("error here")));
      Thread.sleep(1000);
      assertThat(gateway.events("a1")).allMatch(e -> !e.toString().contains("TOPSECRET"));
    }
  }

  @Test
  void retentionNeitherArchivesWhatASymlinkNamesNorWritesThroughALinkPlantedAtItsTemporaryName() throws Exception {
    // the archive dir is by default under /var/lib/aos, where the workload writes its logs
    MutableClock clock = MutableClock.atSystemNow();
    Path archive = root.resolve("archive");
    Files.createDirectories(archive);
    AgentConfig c = Fixtures.config("a1", gateway, root)
        .withRetention(new AgentConfig.Retention(true, Duration.ofDays(1), archive, Duration.ofHours(1)));
    Path golden = root.resolve("golden");
    Path secret = Files.writeString(Files.createDirectories(root.resolve("secret")).resolve("shadow"),
        "root:TOPSECRET-HASH:19000:0:99999:7:::\n");
    Path victim = Files.writeString(root.resolve("secret/passwd"), "precious\n");
    FileTime twoDaysAgo = FileTime.from(clock.instant().minus(Duration.ofDays(2)));
    Files.setLastModifiedTime(secret, twoDaysAgo);
    Path link = Files.createSymbolicLink(golden.resolve("old-link.primary.golden.json"), secret);
    Path old = GoldenFiles.writeAtomically(golden, "old-a", "primary");
    Files.setLastModifiedTime(old, twoDaysAgo);
    String stamp = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(java.time.ZoneOffset.UTC)
        .format(clock.instant());
    Files.createSymbolicLink(archive.resolve(".golden-" + stamp + "-1.tar.gz.tmp"), victim);
    try (Agent agent = Agent.start(c, clock)) {
      Eventually.await("connected", agent::isConnected);
      assertThat(agent.runRetention()).isEqualTo(1);
    }
    assertThat(Files.readString(victim)).as("a file the planted link named").isEqualTo("precious\n");
    assertThat(Files.readString(secret)).contains("TOPSECRET");
    assertThat(old).doesNotExist();
    assertThat(Files.isSymbolicLink(link)).as("a link is not archived, so not removed").isTrue();
    assertThat(archived(archive)).isEqualTo(GoldenFiles.json("old-a", "primary", 42, 7)).doesNotContain("TOPSECRET");
  }

  /** The content of the files in the (one) archive in {@code archive}, extracted by tar(1). */
  private static String archived(Path archive) throws Exception {
    Path tgz;
    try (Stream<Path> s = Files.list(archive)) {
      tgz = s.filter(p -> p.toString().endsWith(".tar.gz")).findFirst().orElseThrow();
    }
    Process tar = new ProcessBuilder("tar", "-xzOf", tgz.toString()).redirectErrorStream(true).start();
    String content = new String(tar.getInputStream().readAllBytes());
    assertThat(tar.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(tar.exitValue()).as(content).isZero();
    return content;
  }
}
