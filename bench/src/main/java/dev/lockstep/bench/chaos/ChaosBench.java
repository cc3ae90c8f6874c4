package dev.lockstep.bench.chaos;

import dev.lockstep.proto.v1.AuditEntry;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.GetRunRequest;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.ListAuditRequest;
import dev.lockstep.proto.v1.ListIncidentsRequest;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.StopStatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * {@code bench/run chaos}: a real collector process and real agent processes (with stop hooks
 * that take time), driven with mismatches (each in its own workflow, so each must become exactly
 * one incident and one order), operator stops and resumes, and SIGKILLs at chosen moments: the
 * collector right after it acked a mismatching report, agents inside their stop hooks, either at
 * random. At the end everything restarts and settles, then:
 *
 * <ul>
 *   <li>{@code unsafe}: an agent ran its on_resume while an order it held was still active (no
 *       operator resume of it had been audited), or its final stop file disagrees with its
 *       desired state;
 *   <li>{@code lost_mismatches}: an injected mismatch without its incident or its order;
 *       {@code duplicated}: one with more than one of either.
 * </ul>
 *
 * Prints progress lines and one JSON line; exits 1 when unsafe or lost is not 0.
 */
public final class ChaosBench {
  private static final Duration SETTLE = Duration.ofSeconds(180);

  private final Path work;
  private final Random random;
  private final int agentCount;
  private final int port;
  private final String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
  private final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  private final Map<String, Process> agents = new LinkedHashMap<>();
  private final Map<String, Integer> metricsPorts = new HashMap<>();
  private final Map<String, String> injected = new LinkedHashMap<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private Process collector;
  private ManagedChannel channel;
  private int collectorStarts;
  int collectorKills;
  int agentKills;
  int killsInHooks;
  int killsAfterAck;
  int operatorActions;

  ChaosBench(Path work, long seed, int agentCount) throws IOException {
    this.work = work;
    this.random = new Random(seed);
    this.agentCount = agentCount;
    this.port = freePort();
  }

  /** The figures of one run. */
  public record Result(int trials, int mismatches, int kills, int collectorKills, int agentKills,
      int killsInHooks, int killsAfterAck, int unsafe, int lostMismatches, int duplicated,
      List<String> problems) {
    public String json(double minutes, int agents, long seed) {
      return String.format(Locale.ROOT, "{\"bench\":\"chaos\",\"minutes\":%.2f,\"agents\":%d,\"seed\":%d,"
          + "\"trials\":%d,\"mismatches\":%d,\"kills\":%d,\"collector_kills\":%d,\"agent_kills\":%d,"
          + "\"kills_in_hooks\":%d,\"kills_after_ack\":%d,\"unsafe\":%d,\"lost_mismatches\":%d,"
          + "\"duplicated\":%d}", minutes, agents, seed, trials, mismatches, kills, collectorKills,
          agentKills, killsInHooks, killsAfterAck, unsafe, lostMismatches, duplicated);
    }
  }

  public static void main(String[] args) throws Exception {
    double minutes = 2;
    int agents = 3;
    long seed = System.nanoTime();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--minutes" -> minutes = Double.parseDouble(args[++i]);
        case "--agents" -> agents = Integer.parseInt(args[++i]);
        case "--seed" -> seed = Long.parseLong(args[++i]);
        default -> throw new IllegalArgumentException("bench chaos: unknown argument " + args[i]
            + " (usage: chaos [--minutes M] [--agents N] [--seed S])");
      }
    }
    Path work = Files.createTempDirectory("lockstep-chaos-");
    Result r = run(work, seed, agents, Duration.ofMillis((long) (minutes * 60_000)), System.out::println);
    System.out.println(r.json(minutes, agents, seed));
    System.exit(r.unsafe() == 0 && r.lostMismatches() == 0 && r.duplicated() == 0 ? 0 : 1);
  }

  /** Runs the chaos for {@code length} in {@code work}; reports progress to {@code say}. */
  public static Result run(Path work, long seed, int agents, Duration length,
      java.util.function.Consumer<String> say) throws Exception {
    ChaosBench c = new ChaosBench(work, seed, agents);
    say.accept(String.format(Locale.ROOT, "chaos: %d agents, %d s, seed %d, workspace %s", agents,
        length.toSeconds(), seed, work));
    try {
      return c.drive(length, say);
    } finally {
      c.shutdown();
    }
  }

  // ------------------------------------------------------------------ processes

  private void startCollector() throws Exception {
    Path log = work.resolve("collector.log");
    collector = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-cp", cp,
        "dev.lockstep.collector.CollectorMain", "--insecure", "--listen", "127.0.0.1:" + port,
        "--data-dir", work.resolve("collector").toString(), "--stop-policy", "workflow",
        "--metrics-port", "0").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    collectorStarts++;
    awaitCondition("collector listening", Duration.ofSeconds(60), () -> {
      try {
        return Files.readString(log).lines().filter(l -> l.contains("listening on")).count()
            >= collectorStarts;
      } catch (IOException e) {
        return false;
      }
    });
  }

  private Path agentRoot(String id) {
    return work.resolve("agents").resolve(id);
  }

  private void startAgent(String id) throws Exception {
    Path root = agentRoot(id);
    Files.createDirectories(root.resolve("golden"));
    Path hooks = root.resolve("hooks.log");
    Path config = root.resolve("agent.yaml");
    if (!Files.exists(config)) {
      int mport = freePort();
      metricsPorts.put(id, mport);
      Files.writeString(config, """
          agent_id: %1$s
          state_dir: %2$s/state
          collector:
            address: 127.0.0.1:%3$d
            insecure: true
            reconnect_initial: 100ms
            reconnect_max: 500ms
          golden:
            dirs: [%2$s/golden]
            settle: 100ms
            rescan_interval: 300ms
          stop:
            file: %2$s/STOP
            on_stop: "echo \\"stop-begin $(date +%%s%%3N) $LOCKSTEP_GENERATION $LOCKSTEP_ORDERS\\" >> %4$s; sleep 0.4; echo \\"stop-end $(date +%%s%%3N)\\" >> %4$s"
            on_resume: "echo \\"resume-begin $(date +%%s%%3N) $LOCKSTEP_GENERATION\\" >> %4$s; sleep 0.3; echo \\"resume-end $(date +%%s%%3N)\\" >> %4$s"
            verify: "if [ \\"$LOCKSTEP_MODE\\" = STOPPED ]; then test -f \\"$LOCKSTEP_STOP_FILE\\"; else test ! -e \\"$LOCKSTEP_STOP_FILE\\"; fi"
            hook_timeout: 30s
          metrics:
            port: %5$d
          retention:
            enabled: false
          """.formatted(id, root, port, hooks, mport));
    }
    Process p = new ProcessBuilder(java, "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", cp, "dev.lockstep.agent.AgentMain", "--config", config.toString())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve("agent.log").toFile())).start();
    agents.put(id, p);
  }

  private static void kill(Process p) throws InterruptedException {
    p.destroyForcibly();
    p.waitFor(20, TimeUnit.SECONDS);
  }

  private OperatorGrpc.OperatorBlockingStub operator() {
    if (channel == null) {
      channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }
    return OperatorGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private long ackedEvents(String agent) {
    try {
      String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + metricsPorts.get(agent) + "/metrics")).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      for (String l : body.split("\n")) {
        if (l.startsWith("lockstep_agent_events_acked_total")) {
          return (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
        }
      }
    } catch (IOException | RuntimeException e) {
      // agent down or starting
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return -1;
  }

  // ------------------------------------------------------------------ the drive

  private Result drive(Duration length, java.util.function.Consumer<String> say) throws Exception {
    startCollector();
    for (int i = 0; i < agentCount; i++) startAgent("a" + i);
    long end = System.nanoTime() + length.toNanos();
    long lastReport = System.nanoTime();
    int step = 0;
    while (System.nanoTime() < end) {
      step++;
      String agent = "a" + random.nextInt(agentCount);
      int pick = random.nextInt(100);
      // Every run injects a mismatch and kills both kinds of process at least once, whatever the
      // dice say: a 40 s run has about 30 steps, and about 1 in 50 such runs killed no agent.
      if (step == 2 && injected.isEmpty()) {
        pick = 0; // a mismatch
      } else if (step == 3 && agentKills == 0) {
        pick = 70; // an agent kill (every process was revived after the step before)
      } else if (step == 4 && collectorKills == 0) {
        pick = 82; // a collector kill
      }
      if (pick < 30) {
        mismatch(agent, random.nextInt(3) == 0);
      } else if (pick < 40) {
        golden(agent, "noise-" + step, "noise", false);
      } else if (pick < 55) {
        operatorStop();
      } else if (pick < 67) {
        operatorResume();
      } else if (pick < 80) {
        killAgent(agent, random.nextBoolean());
      } else if (pick < 86) {
        killCollector();
      }
      reviveDead();
      Thread.sleep(150 + random.nextInt(350)); // the pace of the chaos, not a timeout
      if (System.nanoTime() - lastReport > TimeUnit.SECONDS.toNanos(10)) {
        lastReport = System.nanoTime();
        say.accept(String.format(Locale.ROOT, "  %d steps: %d mismatches, %d operator actions, kills:"
            + " %d collector (%d right after an ack), %d agent (%d inside a hook)", step,
            injected.size(), operatorActions, collectorKills, killsAfterAck, agentKills, killsInHooks));
      }
    }
    say.accept("chaos over: restarting everything and letting it settle");
    reviveDead();
    return check(say);
  }

  private void reviveDead() throws Exception {
    if (!collector.isAlive()) startCollector();
    for (var e : List.copyOf(agents.entrySet())) {
      if (!e.getValue().isAlive()) startAgent(e.getKey());
    }
  }

  private void golden(String agent, String run, String workflow, boolean differ) throws IOException {
    Path dir = agentRoot(agent).resolve("golden");
    for (String role : List.of("primary", "shadow")) {
      String rng = differ && role.equals("shadow") ? "0.5" : "0.1";
      String doc = "{\"format\":\"lockstep.golden/v1\",\"run_id\":\"" + run + "\",\"workflow\":\""
          + workflow + "\",\"role\":\"" + role + "\",\"seed\":7,\"steps\":[{\"index\":0,\"name\":"
          + "\"sample\",\"kind\":\"compute\",\"rng\":[" + rng + "]}],\"output\":{\"n\":1}}";
      Path tmp = dir.resolve("." + run + "." + role + ".tmp");
      Files.writeString(tmp, doc, StandardCharsets.UTF_8);
      Files.move(tmp, dir.resolve(run + "." + role + ".golden.json"), StandardCopyOption.ATOMIC_MOVE);
    }
  }

  /** A mismatch in a workflow of its own; maybe the collector is killed right after its ack. */
  private void mismatch(String agent, boolean killAfterAck) throws Exception {
    String run = "run-" + (injected.size() + 1);
    String workflow = "wf-" + (injected.size() + 1);
    long before = ackedEvents(agent);
    golden(agent, run, workflow, true);
    injected.put(run, workflow);
    if (!killAfterAck || before < 0 || !collector.isAlive()) return;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline && ackedEvents(agent) < before + 2) {
      Thread.sleep(2); // polling the agent's acked counter
    }
    if (ackedEvents(agent) >= before + 2) {
      Thread.sleep(random.nextInt(51)); // 0-50 ms after the ack
      killCollector();
      killsAfterAck++;
    }
  }

  private void operatorStop() {
    String target = "a" + random.nextInt(agentCount);
    try {
      operator().enableStop(EnableStopRequest.newBuilder().setReason("chaos drill")
          .setScope(StopScope.newBuilder().setAgentId(target)).build());
      operatorActions++;
    } catch (StatusRuntimeException e) {
      // collector down: the drill is skipped
    }
  }

  private void operatorResume() {
    try {
      StopStatus s = operator().getStopStatus(StopStatusRequest.getDefaultInstance());
      if (s.getOrdersCount() == 0) return;
      ResumeStopRequest.Builder r = ResumeStopRequest.newBuilder().setReason("chaos: resumed");
      if (random.nextInt(4) == 0) {
        r.setAll(true).addAllOrderIds(s.getOrdersList().stream().map(dev.lockstep.proto.v1.StopOrder::getId).toList());
      } else {
        r.addOrderIds(s.getOrders(random.nextInt(s.getOrdersCount())).getId());
      }
      operator().resumeStop(r.build());
      operatorActions++;
    } catch (StatusRuntimeException e) {
      // collector down, or the order was resumed meanwhile
    }
  }

  private void killCollector() throws InterruptedException {
    if (!collector.isAlive()) return;
    kill(collector);
    collectorKills++;
  }

  private void killAgent(String id, boolean insideHook) throws Exception {
    Process p = agents.get(id);
    if (!p.isAlive()) return;
    if (insideHook) {
      Path hooks = agentRoot(id).resolve("hooks.log");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
      while (System.nanoTime() < deadline) {
        List<String> lines = Files.exists(hooks) ? Files.readAllLines(hooks) : List.of();
        if (!lines.isEmpty() && lines.get(lines.size() - 1).split(" ")[0].endsWith("-begin")) {
          kill(p);
          agentKills++;
          killsInHooks++;
          return;
        }
        Thread.sleep(10); // polling the hook log
      }
    }
    kill(p);
    agentKills++;
  }

  // ------------------------------------------------------------------ the verdict

  private Result check(java.util.function.Consumer<String> say) throws Exception {
    List<String> problems = new ArrayList<>();
    awaitCondition("every injected run decided", SETTLE, () -> injected.keySet().stream().allMatch(run -> {
      try {
        String v = operator().getRun(GetRunRequest.newBuilder().setRunId(run).build()).getVerdict();
        return !v.equals("PENDING");
      } catch (StatusRuntimeException e) {
        return false;
      }
    }));
    awaitCondition("every agent confirmed its desired state", SETTLE, () -> {
      try {
        StopStatus s = operator().getStopStatus(StopStatusRequest.getDefaultInstance());
        return s.getAgentsCount() == agentCount && s.getConfirmed() == agentCount;
      } catch (StatusRuntimeException e) {
        return false;
      }
    });
    // every agent's hooks finished (its stop file is the final word)
    awaitCondition("hooks quiet", Duration.ofSeconds(30), () -> agents.keySet().stream().allMatch(id -> {
      try {
        Path h = agentRoot(id).resolve("hooks.log");
        List<String> lines = Files.exists(h) ? Files.readAllLines(h) : List.of();
        return lines.isEmpty() || lines.get(lines.size() - 1).contains("-end ");
      } catch (IOException e) {
        return false;
      }
    }));

    List<Incident> incidents = new ArrayList<>();
    String token = "";
    do {
      var page = operator().listIncidents(ListIncidentsRequest.newBuilder().setPageSize(500)
          .setPageToken(token).build());
      incidents.addAll(page.getIncidentsList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    List<AuditEntry> audit = operator().listAudit(ListAuditRequest.newBuilder().setLimit(10_000).build())
        .getEntriesList();
    int lost = 0;
    int duplicated = 0;
    for (var e : injected.entrySet()) {
      List<Incident> mine = incidents.stream().filter(i -> i.getKind() == IncidentKind.MISMATCH
          && i.getRunIdsList().contains(e.getKey())).toList();
      if (mine.isEmpty()) {
        lost++;
        problems.add("mismatch " + e.getKey() + " has no incident");
        continue;
      }
      if (mine.size() > 1) {
        duplicated++;
        problems.add("mismatch " + e.getKey() + " has " + mine.size() + " incidents");
      }
      String id = mine.get(0).getId();
      long orders = audit.stream().filter(a -> a.getAction().equals("AutoStop")
          && a.getDetail().endsWith(" for " + id)).count();
      if (orders == 0) {
        lost++;
        problems.add("mismatch " + e.getKey() + " (" + id + ") has no stop order");
      } else if (orders > 1) {
        duplicated++;
        problems.add("mismatch " + e.getKey() + " (" + id + ") has " + orders + " stop orders");
      }
    }
    Map<String, Long> resumedAt = new HashMap<>();
    for (AuditEntry a : audit) {
      if (a.getAction().equals("ResumeStop") && a.getResult().equals("OK")) {
        resumedAt.merge(a.getTarget(), a.getAt().getSeconds() * 1000 + a.getAt().getNanos() / 1_000_000,
            Math::min);
      }
    }
    int unsafe = 0;
    StopStatus finalStatus = operator().getStopStatus(StopStatusRequest.getDefaultInstance());
    for (String id : agents.keySet()) {
      unsafe += unsafeResumes(id, resumedAt, problems);
      var row = finalStatus.getAgentsList().stream().filter(a -> a.getAgentId().equals(id)).findFirst();
      boolean stopFile = Files.exists(agentRoot(id).resolve("STOP"));
      boolean desiredStopped = row.map(r -> r.getMode() == StopMode.STOPPED).orElse(false);
      if (stopFile != desiredStopped) {
        unsafe++;
        problems.add(id + ": stop file " + (stopFile ? "present" : "absent") + " but desired "
            + (desiredStopped ? "STOPPED" : "RUNNING"));
      }
    }
    say.accept(String.format(Locale.ROOT, "settled: %d mismatches injected, %d incidents, %d active"
        + " orders; unsafe %d, lost %d, duplicated %d", injected.size(), incidents.size(),
        finalStatus.getOrdersCount(), unsafe, lost, duplicated));
    problems.forEach(p -> say.accept("  PROBLEM: " + p));
    return new Result(injected.size() + operatorActions, injected.size(),
        collectorKills + agentKills, collectorKills, agentKills, killsInHooks, killsAfterAck,
        unsafe, lost, duplicated, problems);
  }

  /**
   * Every on_resume of {@code agent} must follow an audited operator resume of every order the
   * agent held (the orders of its last on_stop).
   */
  private int unsafeResumes(String agent, Map<String, Long> resumedAt, List<String> problems)
      throws IOException {
    Path h = agentRoot(agent).resolve("hooks.log");
    if (!Files.exists(h)) return 0;
    int unsafe = 0;
    List<String> held = List.of();
    for (String line : Files.readAllLines(h)) {
      String[] w = line.trim().split(" ");
      if (w[0].equals("stop-begin")) {
        held = w.length > 3 ? List.of(w[3].split(",")) : List.of();
      } else if (w[0].equals("resume-begin")) {
        long at = Long.parseLong(w[1]);
        for (String order : held) {
          Long resumed = resumedAt.get(order);
          if (resumed == null || resumed > at) {
            unsafe++;
            problems.add(agent + " ran on_resume at " + at + " while holding " + order
                + (resumed == null ? ", never resumed" : ", resumed only at " + resumed));
          }
        }
        held = List.of();
      }
    }
    return unsafe;
  }

  private void shutdown() throws InterruptedException {
    if (channel != null) channel.shutdownNow();
    for (Process p : agents.values()) {
      p.destroy();
    }
    for (Process p : agents.values()) {
      if (!p.waitFor(15, TimeUnit.SECONDS)) kill(p);
    }
    if (collector != null) {
      collector.destroy();
      if (!collector.waitFor(15, TimeUnit.SECONDS)) kill(collector);
    }
  }

  private static void awaitCondition(String what, Duration limit, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("chaos: gave up waiting for " + what + " after "
            + limit.toSeconds() + " s");
      }
      Thread.sleep(100); // polling interval
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
