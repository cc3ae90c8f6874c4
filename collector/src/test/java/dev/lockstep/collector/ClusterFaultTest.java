package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.internal.LocalKafka;
import dev.lockstep.proto.v1.AgentStopStatus;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.ExportEvidenceRequest;
import dev.lockstep.proto.v1.GetRunRequest;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.ListAuditRequest;
import dev.lockstep.proto.v1.ListIncidentsRequest;
import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.Run;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.StopStatusRequest;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Cluster mode under faults, with real processes only: three KRaft brokers (replication 3,
 * min.insync.replicas 2), three collectors, four agents with stop hooks. One fleet goes through
 * the steps in order (brokers and collectors start once for the class): SIGKILL the collector
 * running the core while events flow; SIGKILL the collector holding most agents while a stop is
 * in flight; SIGKILL a broker; restart everything. After each step nothing acked is lost or
 * counted twice and every agent confirms its desired state. Prints one JSON line.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterFaultTest {
  static final int AGENTS = 4;
  /** Kept after the run (target/ is the build's): the logs of every process. */
  static Path dir;
  static LocalKafka kafka;
  static ClusterFleet fleet;
  static final List<String> steady = new ArrayList<>();
  static int kills;
  static int collectorKills;
  static int brokerKills;
  /** From SIGKILL of the collector running the core until another one runs it (-1: not measured). */
  static long failoverMillis = -1;
  /** From SIGKILL of the busiest collector, a stop in flight, until every agent confirmed STOPPED. */
  static long stopAfterKillMillis = -1;
  /** The P0 of step 2. */
  static String p0Id;

  @BeforeAll
  static void start() throws Exception {
    dir = Path.of("target", "cluster-faults").toAbsolutePath();
    deleteTree(dir);
    Files.createDirectories(dir);
    kafka = LocalKafka.start(dir.resolve("kafka"), 3, System.out::println);
    fleet = new ClusterFleet(dir, kafka, "faults", 3);
    for (int i = 0; i < 3; i++) fleet.startCollector(i);
    for (int i = 0; i < AGENTS; i++) fleet.startAgent("a" + i, i % 3);
    awaitStatus(Duration.ofSeconds(90), "every agent connected and RUNNING",
        s -> s.getAgentsCount() == AGENTS && s.getConfirmed() == AGENTS);
  }

  @AfterAll
  static void stop() {
    if (fleet != null) {
      try {
        printFigures();
      } catch (RuntimeException e) {
        System.out.println("cluster_faults: no figures (" + e + ")");
      }
      fleet.close();
    }
    if (kafka != null) kafka.close();
  }

  /** The one JSON line: kills, what was lost, counted twice or unsafe, and the timings. */
  static void printFigures() {
    System.out.println(String.format(Locale.ROOT,
        "{\"test\":\"cluster_faults\",\"kills\":%d,\"collector_kills\":%d,\"broker_kills\":%d,"
              + "\"runs\":%d,\"lost\":%d,\"duplicated\":%d,\"unsafe\":%d,\"core_failover_ms\":%d,"
              + "\"stop_confirmed_after_kill_ms\":%d}", kills, collectorKills, brokerKills,
          steady.size(), lost(), duplicated(), unsafe(new ArrayList<>()), failoverMillis,
          stopAfterKillMillis));
  }

  static void deleteTree(Path p) throws java.io.IOException {
    if (!Files.exists(p)) return;
    try (var walk = Files.walk(p)) {
      for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(x);
    }
  }

  /** Writes {@code rounds} matching runs on every agent, a little apart. */
  static void writeRuns(String tag, int rounds) throws Exception {
    for (int r = 0; r < rounds; r++) {
      for (int a = 0; a < AGENTS; a++) {
        String run = tag + "-a" + a + "-" + r;
        fleet.golden("a" + a, run, "steady", false);
        steady.add(run);
      }
      Thread.sleep(100); // the engines' pace, not a timeout
    }
  }

  static Run run(String id) {
    try {
      return fleet.operator().getRun(GetRunRequest.newBuilder().setRunId(id).build());
    } catch (StatusRuntimeException e) {
      return null;
    }
  }

  static void awaitDecided() {
    Eventually.await(Duration.ofSeconds(120), "every steady run decided", () -> steady.stream()
        .allMatch(r -> {
          Run x = run(r);
          return x != null && !x.getVerdict().equals("PENDING");
        }));
  }

  /** Runs written but not decided MATCH. */
  static int lost() {
    int n = 0;
    for (String r : steady) {
      Run x = run(r);
      if (x == null || !x.getVerdict().equals("MATCH")) n++;
    }
    return n;
  }

  /** Runs with more replicas than written, and incidents beyond the ones caused on purpose. */
  static int duplicated() {
    int n = 0;
    for (String r : steady) {
      Run x = run(r);
      if (x != null && x.getReplicasCount() > 2) n++;
    }
    for (Incident i : incidents()) {
      if (i.getCategory().equals("REPLICA_CONFLICT")) n++;
    }
    return n;
  }

  static List<Incident> incidents() {
    return fleet.operator().listIncidents(ListIncidentsRequest.newBuilder().setPageSize(500).build())
        .getIncidentsList();
  }

  /**
   * An agent ran on_resume while holding an order no operator had resumed, or its stop file
   * disagrees with its desired state.
   */
  static int unsafe(List<String> problems) {
    Map<String, Long> resumedAt = new HashMap<>();
    for (var a : fleet.operator().listAudit(ListAuditRequest.newBuilder().setLimit(10_000).build())
        .getEntriesList()) {
      if (a.getAction().equals("ResumeStop") && a.getResult().equals("OK")) {
        resumedAt.merge(a.getTarget(), a.getAt().getSeconds() * 1000 + a.getAt().getNanos() / 1_000_000, Math::min);
      }
    }
    int unsafe = 0;
    StopStatus status = fleet.operator().getStopStatus(StopStatusRequest.getDefaultInstance());
    for (int i = 0; i < AGENTS; i++) {
      String id = "a" + i;
      try {
        Path h = fleet.agentRoot(id).resolve("hooks.log");
        List<String> held = List.of();
        for (String line : Files.exists(h) ? Files.readAllLines(h) : List.<String>of()) {
          String[] w = line.trim().split(" ");
          if (w[0].equals("stop-begin")) {
            held = w.length > 3 ? List.of(w[3].split(",")) : List.of();
          } else if (w[0].equals("resume-begin")) {
            long at = Long.parseLong(w[1]);
            for (String o : held) {
              Long r = resumedAt.get(o);
              if (r == null || r > at) {
                unsafe++;
                problems.add(id + " resumed at " + at + " holding " + o);
              }
            }
            held = List.of();
          }
        }
      } catch (java.io.IOException e) {
        problems.add(id + ": " + e);
      }
      boolean file = Files.exists(fleet.agentRoot(id).resolve("STOP"));
      boolean stopped = status.getAgentsList().stream().filter(a -> a.getAgentId().equals(id))
          .anyMatch(a -> a.getMode() == StopMode.STOPPED);
      if (file != stopped) {
        unsafe++;
        problems.add(id + ": stop file " + file + ", desired STOPPED " + stopped);
      }
    }
    return unsafe;
  }

  /** Waits for the stop status a live collector answers to satisfy {@code ok}; names the last one if not. */
  static void awaitStatus(Duration timeout, String what,
      java.util.function.Predicate<StopStatus> ok) {
    StopStatus[] last = {null};
    try {
      Eventually.await(timeout, what, () -> {
        last[0] = fleet.operator().getStopStatus(StopStatusRequest.getDefaultInstance());
        return ok.test(last[0]);
      });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; last stop status: " + last[0], e);
    }
  }

  static void awaitAll(StopMode mode) {
    awaitStatus(Duration.ofSeconds(120), "every agent confirmed " + mode,
        s -> s.getAgentsCount() == AGENTS && s.getConfirmed() == AGENTS
            && s.getAgentsList().stream().allMatch(a -> a.getMode() == mode));
    Eventually.await(Duration.ofSeconds(30), "stop files match " + mode, () -> {
      for (int i = 0; i < AGENTS; i++) {
        if (Files.exists(fleet.agentRoot("a" + i).resolve("STOP")) != (mode == StopMode.STOPPED)) return false;
      }
      return true;
    });
  }

  @Test
  @Order(1)
  void killingTheCollectorThatRunsTheCoreWhileEventsFlowLosesNothing() throws Exception {
    writeRuns("before", 5);
    String owner = Eventually.value(Duration.ofSeconds(30), "a core owner", () -> fleet.coreOwner().orElse(null));
    long killedAt = System.nanoTime();
    fleet.kill(owner);
    kills++;
    collectorKills++;
    writeRuns("during", 10);
    String next = Eventually.value(Duration.ofSeconds(120), "another collector running the core",
        () -> fleet.members().stream().filter(m -> m.getCore() && m.getState().equals("UP"))
            .map(dev.lockstep.proto.v1.CollectorMember::getCollectorId)
            .filter(o -> !o.equals(owner)).findFirst().orElse(null));
    failoverMillis = (System.nanoTime() - killedAt) / 1_000_000;
    System.out.println("core task moved from " + owner + " to " + next + " in " + failoverMillis + " ms");
    awaitDecided();
    fleet.startCollector(Integer.parseInt(owner.substring(1)) - 1);
    writeRuns("after", 3);
    awaitDecided();
    assertThat(lost()).as("acked runs not decided MATCH").isZero();
    assertThat(duplicated()).as("runs counted twice").isZero();
    assertThat(incidents()).isEmpty();
  }

  @Test
  @Order(2)
  void killingTheBusiestCollectorWhileAStopIsInFlightStillStopsAndConfirmsEveryAgent() throws Exception {
    fleet.golden("a1", "bad-1", "steady", true);
    Incident p0 = Eventually.value(Duration.ofSeconds(60), "the P0", () -> incidents().stream()
        .filter(i -> i.getKind() == IncidentKind.MISMATCH).findFirst().orElse(null));
    p0Id = p0.getId();
    String busiest = fleet.busiest();
    long killedAt = System.nanoTime();
    fleet.kill(busiest); // the agents it holds are enacting their stop (the hook takes 0.4 s)
    kills++;
    collectorKills++;
    awaitAll(StopMode.STOPPED);
    stopAfterKillMillis = (System.nanoTime() - killedAt) / 1_000_000;
    System.out.println("every agent confirmed STOPPED " + stopAfterKillMillis + " ms after "
        + busiest + " was killed");
    StopStatus s = fleet.operator().getStopStatus(StopStatusRequest.getDefaultInstance());
    assertThat(s.getOrdersCount()).isEqualTo(1);
    assertThat(s.getOrders(0).getIncidentId()).isEqualTo(p0.getId());
    for (AgentStopStatus a : s.getAgentsList()) {
      assertThat(a.getOrderIdsList()).containsExactly(s.getOrders(0).getId());
    }
    fleet.startCollector(Integer.parseInt(busiest.substring(1)) - 1);
    assertThat(incidents().stream().filter(i -> i.getKind() == IncidentKind.MISMATCH)).hasSize(1);
    List<String> problems = new ArrayList<>();
    assertThat(unsafe(problems)).as("unsafe: " + problems).isZero();
  }

  @Test
  @Order(3)
  void losingOneBrokerNeitherStopsIngestNorStops() throws Exception {
    kafka.kill(2);
    kills++;
    brokerKills++;
    // KRaft fences a SIGKILLed broker only after broker.session.timeout.ms (9 s): until then the
    // partitions it led take no writes, so this first request waits that long plus the core's
    // transaction (a fresh-clone CI run on 2 loaded cores went past the usual 15 s).
    fleet.operator().withDeadlineAfter(45, TimeUnit.SECONDS).resumeStop(ResumeStopRequest.newBuilder()
        .setAll(true).addAllOrderIds(fleet.operator().getStopStatus(dev.lockstep.proto.v1.StopStatusRequest.getDefaultInstance()).getOrdersList().stream().map(dev.lockstep.proto.v1.StopOrder::getId).toList())
        .setReason("fault test: fixed").build());
    awaitAll(StopMode.RUNNING);
    writeRuns("one-broker-down", 3);
    awaitDecided();
    assertThat(lost()).isZero();
    fleet.operator().enableStop(EnableStopRequest.newBuilder().setReason("drill with a broker down").build());
    awaitAll(StopMode.STOPPED);
    kafka.restart(2);
    List<String> problems = new ArrayList<>();
    assertThat(unsafe(problems)).as("unsafe: " + problems).isZero();
  }

  /** Names and SHA-256 of the evidence {@code collector} exports for {@code incident}. */
  static List<String> evidence(String collector, String incident) {
    List<String> out = new ArrayList<>();
    fleet.operator(collector).exportEvidence(ExportEvidenceRequest.newBuilder()
        .setIncidentId(incident).build()).forEachRemaining(f -> {
          if (f.getLast()) out.add(f.getName() + " " + f.getSha256());
        });
    java.util.Collections.sort(out);
    return out;
  }

  @Test
  @Order(4)
  void restartingEverythingKeepsStateIncidentsAndOrders() throws Exception {
    String live = fleet.collectors.keySet().stream().filter(fleet::alive).findFirst().orElseThrow();
    List<String> evidenceBefore = Eventually.value(Duration.ofSeconds(60), "the P0's evidence",
        () -> {
          List<String> e = evidence(live, p0Id);
          return e.isEmpty() ? null : e;
        });
    List<Incident> incidentsBefore = incidents();
    StopStatus before = fleet.operator().getStopStatus(StopStatusRequest.getDefaultInstance());
    for (String c : List.copyOf(fleet.collectors.keySet())) {
      fleet.kill(c);
      kills++;
      collectorKills++;
    }
    for (int b = 0; b < kafka.size(); b++) {
      kafka.kill(b);
      kills++;
      brokerKills++;
    }
    // c1 loses its disk: its copy (state, audit, evidence) is read again from Kafka
    deleteTree(dir.resolve("c1"));
    kafka.restartAll();
    for (int i = 0; i < 3; i++) fleet.startCollector(i);
    awaitAll(StopMode.STOPPED);
    StopStatus after = fleet.operator().getStopStatus(StopStatusRequest.getDefaultInstance());
    assertThat(after.getOrdersList()).isEqualTo(before.getOrdersList());
    for (AgentStopStatus a : before.getAgentsList()) {
      AgentStopStatus now = after.getAgentsList().stream()
          .filter(x -> x.getAgentId().equals(a.getAgentId())).findFirst().orElseThrow();
      assertThat(now.getGeneration()).isEqualTo(a.getGeneration());
      assertThat(now.getMode()).isEqualTo(a.getMode());
    }
    // While everything was down the agents could deliver nothing: an agent whose uplink stays
    // down long enough (a slow restart on a loaded machine) reports it, and that opens an
    // AGENT_DEGRADED incident, as it should. Those are new; what was there before must be intact.
    java.util.Set<String> beforeIds = incidentsBefore.stream().map(Incident::getId)
        .collect(java.util.stream.Collectors.toSet());
    java.util.function.Predicate<Incident> fromTheOutage = i -> !beforeIds.contains(i.getId())
        && i.getKind() == dev.lockstep.proto.v1.IncidentKind.AGENT_DEGRADED
        && i.getTitle().contains("uplink degraded");
    List<Incident> incidentsAfter = incidents();
    assertThat(incidentsAfter.stream().filter(fromTheOutage.negate()).toList())
        .as("incidents after the restart: %s", incidentsAfter.stream()
            .map(i -> i.getId() + " " + i.getKind() + " " + i.getTitle()).toList())
        .extracting(Incident::getId, Incident::getState)
        .isEqualTo(incidentsBefore.stream().map(i -> org.assertj.core.groups.Tuple.tuple(i.getId(), i.getState())).toList());
    assertThat(lost()).isZero();
    assertThat(duplicated()).isZero();
    assertThat(fleet.operator("c1").listIncidents(ListIncidentsRequest.newBuilder().setPageSize(500)
        .build()).getIncidentsList().stream().filter(fromTheOutage.negate()).toList())
        .extracting(Incident::getId).containsExactlyElementsOf(
            incidentsBefore.stream().map(Incident::getId).toList());
    Eventually.await(Duration.ofSeconds(60), "the P0's evidence on c1, whose disk was lost",
        () -> evidence("c1", p0Id).equals(evidenceBefore));
    List<String> problems = new ArrayList<>();
    assertThat(unsafe(problems)).as("unsafe: " + problems).isZero();
    for (String c : fleet.collectors.keySet()) {
      assertThat(ClusterFleet.count(fleet.collectorLog(c), "NullPointerException"))
          .as(c + " log: a restarted collector's copy applies state before it serves").isZero();
    }
  }
}
