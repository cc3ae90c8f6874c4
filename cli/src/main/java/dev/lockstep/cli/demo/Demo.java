package dev.lockstep.cli.demo;

import dev.lockstep.proto.v1.AgentInfo;
import dev.lockstep.proto.v1.AgentStopStatus;
import dev.lockstep.proto.v1.DiffRequest;
import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.ListAgentsRequest;
import dev.lockstep.proto.v1.ListIncidentsRequest;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.StopStatusRequest;
import dev.lockstep.golden.DiffReport;
import dev.lockstep.security.CertsInit;
import dev.lockstep.security.SecuritySetupException;
import dev.lockstep.security.Tls;
import dev.lockstep.security.TlsFiles;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The whole incident loop on one machine: certificates from {@link CertsInit}, a collector and N
 * agents as separate processes on loopback talking mTLS, a simulated engine per host, a few clean cycles, one injected divergence, the P0
 * incident, the fleet-wide stop and its confirmations, then the operator's resume. Every step is
 * printed as it happens; the last line is one JSON object of figures.
 */
public final class Demo {
  /** The operator certificate the demo acts as. */
  static final String OPERATOR = "demo-operator";

  /** What the demo found, printed as its last line. */
  public record Result(int agents, List<String[]> incidents, int stopConfirmed, long detectToConfirmMillis,
      String remediation, String collectorKilled) {
    public Result(int agents, List<String[]> incidents, int stopConfirmed, long detectToConfirmMillis) {
      this(agents, incidents, stopConfirmed, detectToConfirmMillis, null, null);
    }

    public String toJson() {
      StringBuilder sb = new StringBuilder("{\"agents\":").append(agents).append(",\"incidents\":[");
      for (int i = 0; i < incidents.size(); i++) {
        if (i > 0) sb.append(',');
        sb.append("{\"severity\":\"").append(incidents.get(i)[0])
            .append("\",\"category\":\"").append(incidents.get(i)[1]).append("\"}");
      }
      return sb.append("],\"stop_confirmed\":").append(stopConfirmed)
          .append(",\"detect_to_confirm_ms\":").append(detectToConfirmMillis)
          .append(",\"remediated\":").append(remediation != null && remediation.contains("RESTART DONE"))
          .append(collectorKilled == null ? "" : ",\"collectors\":2,\"collector_killed\":\"" + collectorKilled + "\"")
          .append('}').toString();
    }
  }

  private final List<String> launcher;
  private final Path dir;
  private final int agentCount;
  private final int cleanCycles;
  private final Duration timeout;
  private final PrintStream out;
  private final boolean cluster;
  private final List<Process> collectors = new ArrayList<>();
  private String killed;
  private final long started = System.nanoTime();
  /** host-1's simulated engine process (the remediation scene). */
  private volatile Process engine;

  public Demo(List<String> launcher, Path dir, int agentCount, int cleanCycles, Duration timeout, PrintStream out) {
    this(launcher, dir, agentCount, cleanCycles, timeout, out, false);
  }

  /**
   * With {@code cluster}: one Kafka broker and two collectors in cluster mode; the agents get
   * both addresses, and the collector the operator does not talk to is SIGKILLed right after the
   * divergence is injected, so the decision and the stop happen without it.
   */
  public Demo(List<String> launcher, Path dir, int agentCount, int cleanCycles, Duration timeout, PrintStream out,
      boolean cluster) {
    this.launcher = List.copyOf(launcher);
    this.dir = dir;
    this.agentCount = agentCount;
    this.cleanCycles = cleanCycles;
    this.timeout = timeout;
    this.out = out;
    this.cluster = cluster;
  }

  public Result run() throws IOException, InterruptedException {
    Files.createDirectories(dir);
    List<SimulatedEngine> engines = new ArrayList<>();
    List<Thread> engineThreads = new ArrayList<>();
    try (FleetProcesses fleet = new FleetProcesses(launcher, dir)) {
      Thread onCtrlC = new Thread(() -> {
        fleet.close();
        Process e = engine;
        if (e != null) e.destroyForcibly();
        stopEngines();
      }, "demo-shutdown");
      Runtime.getRuntime().addShutdownHook(onCtrlC);
      try {
        return runFleet(fleet, engines, engineThreads);
      } finally {
        engines.forEach(SimulatedEngine::stop);
        for (Thread t : engineThreads) {
          t.interrupt();
          t.join(2000);
        }
        say("shutting the fleet down (SIGTERM to collector and agents)");
        fleet.close();
        if (engine != null) engine.destroyForcibly();
        stopEngines();
        try {
          Runtime.getRuntime().removeShutdownHook(onCtrlC);
        } catch (IllegalStateException alreadyShuttingDown) {
          // Ctrl-C: the hook is running and closes the fleet itself.
        }
      }
    }
  }

  private Result runFleet(FleetProcesses fleet, List<SimulatedEngine> engines, List<Thread> engineThreads)
      throws IOException, InterruptedException {
    say("workspace " + dir);
    List<String> hosts = new ArrayList<>();
    for (int i = 1; i <= agentCount; i++) hosts.add("host-" + i);
    Path certDir = dir.resolve("certs");
    CertsInit.Result certs;
    try {
      certs = CertsInit.run(certDir, hosts, List.of(OPERATOR), List.of(), List.of(), Duration.ofDays(1));
    } catch (SecuritySetupException e) {
      throw new IOException("demo: cannot create certificates: " + e.getMessage(), e);
    }
    say("certificates in " + certDir.getFileName() + " (lockstep certs init --agents " + String.join(",", hosts)
        + " --operators " + OPERATOR + "): a CA, the collector, one per agent, one operator");
    TlsFiles collectorTls = certs.tlsFilesFor(CertsInit.COLLECTOR_NAME);
    List<String> kafkaArgs = List.of();
    if (cluster) {
      Path bootstrapFile = dir.resolve("kafka.bootstrap");
      say("starting one Kafka broker (KRaft, from the project's jars: StorageTool format, then kafka.Kafka)");
      fleet.start("kafka", List.of("kafka", dir.resolve("kafka").toString(), "1", bootstrapFile.toString()));
      await("the Kafka broker to serve", () -> Files.exists(bootstrapFile), Duration.ofSeconds(90), dir.resolve("kafka.log"));
      String bootstrap = Files.readString(bootstrapFile).trim();
      say("Kafka serving at " + bootstrap);
      kafkaArgs = List.of("--kafka", bootstrap, "--kafka-replication", "1");
    }
    List<String> names = cluster ? List.of("collector", "collector-2") : List.of("collector");
    List<String> targets = new ArrayList<>();
    for (String name : names) {
      Path portFile = dir.resolve(name + ".port");
      Path dataDir = dir.resolve(name + "-data");
      say("starting " + name + (cluster ? " (cluster mode: the core in Kafka Streams, a copy in "
          : " (RocksDB in ") + dataDir.getFileName() + ")");
      List<String> args = new ArrayList<>(List.of("collector", "--ca", collectorTls.ca().toString(),
          "--cert", collectorTls.cert().toString(), "--key", collectorTls.key().toString(),
          "--listen", "127.0.0.1:0",
          "--port-file", portFile.toString(), "--data-dir", dataDir.toString(), "--metrics-port", "0",
          "--stop-policy", "fleet", "--correlation-window", "30s"));
      if (cluster) {
        args.addAll(kafkaArgs);
        args.addAll(List.of("--collector-id", name));
      }
      collectors.add(fleet.start(name, args));
      await(name + " to listen", () -> Files.exists(portFile), Duration.ofSeconds(60), dir.resolve(name + ".log"));
      // "localhost" is one of the names in the collector's certificate (its SANs).
      targets.add("localhost:" + Files.readString(portFile).trim());
      say(name + " listening on " + targets.get(targets.size() - 1));
    }
    String target = targets.get(0);

    List<Path> stopFiles = new ArrayList<>();
    Path hookLog = dir.resolve("hooks.log");
    for (int i = 1; i <= agentCount; i++) {
      String host = "host-" + i;
      TlsFiles agentTls = certs.tlsFilesFor(host);
      Path hostDir = dir.resolve(host);
      Path golden = Files.createDirectories(hostDir.resolve("golden"));
      Path stopFile = hostDir.resolve("workflows.stop");
      stopFiles.add(stopFile);
      List<String> config = List.of();
      if (i == 1) {
        config = List.of("--config", engineConfig(hostDir, host, target).toString());
        // running before its agent starts, so the agent never sees it down until the scene ends it
        engine = new ProcessBuilder("sh", hostDir.resolve("engine.sh").toString(), "4", "exit",
            hostDir.resolve("engine.log").toString(), engineMarker()).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      }
      fleet.start("agent-" + host, concat(List.of("agent"), config, List.of("--ca", agentTls.ca().toString(),
          "--cert", agentTls.cert().toString(), "--key", agentTls.key().toString(),
          "--id", host, "--collector", addresses(targets, i - 1),
          "--golden-dir", golden.toString(), "--stop-file", stopFile.toString(),
          "--spool-dir", hostDir.resolve("spool").toString(), "--state-dir", hostDir.resolve("state").toString(),
          "--metrics-port", "0",
          "--on-stop", "echo \"$(date +%T) " + host + " on_stop: WORKFLOW_EMERGENCY_STOP=$WORKFLOW_EMERGENCY_STOP incident=$LOCKSTEP_INCIDENT orders=$LOCKSTEP_ORDERS\" >> " + hookLog,
          "--on-resume", "echo \"$(date +%T) " + host + " on_resume: generation=$LOCKSTEP_GENERATION\" >> " + hookLog,
          "--verify", "test -f " + stopFile + " || test \"$WORKFLOW_EMERGENCY_STOP\" != true")));
      engines.add(new SimulatedEngine(host, golden, stopFile, 1000));
    }
    say("started " + agentCount + " agents, each watching its host's golden directory");

    ManagedChannel channel;
    try {
      channel = Grpc.newChannelBuilder(target, Tls.channelCredentials(certs.tlsFilesFor(OPERATOR))).build();
    } catch (SecuritySetupException e) {
      throw new IOException("demo: " + e.getMessage(), e);
    }
    try {
      OperatorGrpc.OperatorBlockingStub operator = OperatorGrpc.newBlockingStub(channel);
      await("all agents to connect", () -> connected(operator) == agentCount, limit(30), dir.resolve("collector.log"));
      say("all " + agentCount + " agents connected");
      say("the fleet runs with mTLS: every agent proves its id with its certificate, and this demo"
          + " talks to the Operator API as \"" + OPERATOR + "\" (role operator)");

      for (SimulatedEngine engine : engines) {
        Thread t = new Thread(engine, "engine-" + engineThreads.size());
        t.setDaemon(true);
        engineThreads.add(t);
        t.start();
      }
      say("engines running: every host writes a primary and a shadow golden file each second");
      SimulatedEngine victim = engines.get(agentCount > 1 ? 1 : 0);
      await(cleanCycles + " clean cycles", () -> victim.cycles() >= cleanCycles && openIncidents(operator).isEmpty(),
          limit(30), dir.resolve("collector.log"));
      say(cleanCycles + " clean cycles on every host: primary and shadow agree (volatile timestamp/duration_ms masked)");

      int divergentCycle = victim.cycles() + 1;
      victim.injectUnseededRng();
      say("INJECTING a divergence: " + victim.runId(divergentCycle) + " shadow draws random numbers from an unseeded RNG");
      if (cluster) {
        killed = names.get(1);
        Process p = collectors.get(1);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        say("SIGKILL " + killed + " (its agents reconnect to " + names.get(0)
            + "; if it ran the core task, the task moves there)");
      }

      List<Incident> incidents = new ArrayList<>();
      await("the P0 incident", () -> {
        incidents.clear();
        incidents.addAll(openIncidents(operator));
        return incidents.stream().anyMatch(inc -> inc.getSeverity().name().equals("P0"));
      }, limit(20), dir.resolve("collector.log"));
      Incident p0 = incidents.stream().filter(inc -> inc.getSeverity().name().equals("P0")).findFirst().orElseThrow();
      say("INCIDENT " + p0.getId() + " " + p0.getSeverity() + " " + p0.getCategory() + " — " + p0.getTitle());
      if (!p0.getExplanation().isEmpty()) say("  why: " + p0.getExplanation());
      if (p0.getFirstStepIndex() >= 0) say("  first divergent step: #" + p0.getFirstStepIndex() + " " + p0.getFirstStepName());
      await("the stop order", () -> operator.getStopStatus(StopStatusRequest.getDefaultInstance())
          .getOrdersCount() > 0, limit(20), dir.resolve("collector.log"));
      StopOrder order = operator.getStopStatus(StopStatusRequest.getDefaultInstance()).getOrders(0);
      say("collector stored stop order " + order.getId() + " (fleet, for " + order.getIncidentId()
          + ") with the incident in " + (cluster ? "one Kafka transaction (exactly_once_v2); every"
              + " collector pushed its own agents" : "one fsync'd write, and pushed each agent")
          + " its STOPPED state");

      Set<String> reported = new HashSet<>();
      long[] lastAck = {0};
      await("every agent to confirm the stop", () -> {
        StopStatus status = operator.getStopStatus(StopStatusRequest.getDefaultInstance());
        for (AgentStopStatus a : status.getAgentsList()) {
          if (a.getStatus().equals("CONFIRMED") && a.getMode() == StopMode.STOPPED && reported.add(a.getAgentId())) {
            long ackMillis = a.getAckedAt().getSeconds() * 1000 + a.getAckedAt().getNanos() / 1_000_000;
            lastAck[0] = Math.max(lastAck[0], ackMillis);
            say("  " + a.getAgentId() + " CONFIRMED STOPPED (generation " + a.getAckedGeneration() + "): stop file written, on_stop and verify hooks ran");
          }
        }
        return status.getCovered() == agentCount && status.getConfirmed() == agentCount;
      }, limit(20), dir.resolve("collector.log"));
      long firstSeen = p0.getFirstSeen().getSeconds() * 1000 + p0.getFirstSeen().getNanos() / 1_000_000;
      long detectToConfirm = Math.max(0, lastAck[0] - firstSeen);
      long present = stopFiles.stream().filter(Files::exists).count();
      say("fleet stopped: " + present + "/" + agentCount + " stop files present, detect→all confirmed in " + detectToConfirm + " ms");
      if (Files.exists(hookLog)) {
        Files.readAllLines(hookLog).forEach(l -> say("  hook: " + l));
      }

      try {
        String report = operator.withDeadlineAfter(5, TimeUnit.SECONDS)
            .diff(DiffRequest.newBuilder().setIncidentId(p0.getId()).build()).getReportJson();
        if (!report.isEmpty()) {
          say("the evidence, as `lockstep diff --incident " + p0.getId() + "` shows it:");
          for (String line : DiffReport.fromJson(report).renderTable(false).split("\n")) say("  | " + line);
        }
      } catch (RuntimeException e) {
        say("(diff not available yet: " + e.getMessage() + ")");
      }

      List<String> seen = operator.getStopStatus(StopStatusRequest.getDefaultInstance()).getOrdersList()
          .stream().map(dev.lockstep.proto.v1.StopOrder::getId).toList();
      say("operator: lockstep stop resume --all --order " + String.join(" --order ", seen)
          + " --reason \"demo: RNG seeded, fix verified 10x\"");
      StopStatus resumed = operator.resumeStop(ResumeStopRequest.newBuilder()
          .setReason("demo: RNG seeded, fix verified 10x").setAll(true).addAllOrderIds(seen).build());
      await("every agent to resume", () -> {
        StopStatus status = operator.getStopStatus(StopStatusRequest.getDefaultInstance());
        return status.getOrdersCount() == 0 && status.getConfirmed() == agentCount
            && status.getAgentsList().stream().allMatch(a -> a.getMode() == StopMode.RUNNING)
            && stopFiles.stream().noneMatch(Files::exists);
      }, limit(20), dir.resolve("collector.log"));
      say("fleet resumed (order " + String.join(", ", resumed.getChangedOrderIdsList())
          + " removed): stop files removed, on_resume hooks ran on " + agentCount + " agents");

      writeReport(p0.getId(), target, certs);
      String remediation = remediationScene(operator);

      List<String[]> summary = new ArrayList<>();
      for (Incident inc : incidents) {
        summary.add(new String[] {inc.getSeverity().name(), inc.getCategory()});
      }
      return new Result(agentCount, summary, reported.size(), detectToConfirm, remediation, killed);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  // ------------------------------------------------------------------ remediation and report

  /** A marker in the simulated engine's command line (the agent's process pattern). */
  private String engineMarker() {
    return engineMarker(dir);
  }

  /** The marker of the engines of the demo in {@code dir} (tests look for leftovers by it). */
  static String engineMarker(Path dir) {
    return "lockstep-demo-engine-" + Integer.toHexString(dir.toAbsolutePath().toString().hashCode());
  }

  /**
   * host-1's agent.yaml: it watches a simulated engine process and its log, and may restart it
   * (remediate:). The engine is a shell script writing the playbook's log lines; it waits for a
   * go file before it ends, so the agent has seen it running first.
   */
  private Path engineConfig(Path hostDir, String host, String target) throws IOException {
    Path script = hostDir.resolve("engine.sh");
    Files.writeString(script, """
        #!/bin/sh
        # simulated engine: $1 cycles ("Running cycle N", "cycle N: 0 mismatches"), then waits for
        # $3.go (unless $2 is run) and finishes cleanly
        log="$3"; i=0
        while [ $i -lt "$1" ] || [ "$2" = run ]; do
          i=$((i+1)); echo "Running cycle $i" >> "$log"; echo "cycle $i: 0 mismatches" >> "$log"; sleep 0.2
        done
        while [ ! -e "$log.go" ]; do sleep 0.05; done
        echo "simulation finished early: clean exit" >> "$log"
        """);
    Path log = hostDir.resolve("engine.log");
    Files.writeString(log, "");
    Path yaml = hostDir.resolve("agent.yaml");
    Files.writeString(yaml, """
        # written by lockstep demo: host-1 watches a simulated engine and may restart it
        # (the command line's flags add the certificates, golden dir, stop file and hooks)
        agent_id: %s
        collector:
          address: %s
        state_dir: %s
        probes:
          interval: 250ms
        logs:
          - path: %s
            start_at: beginning
            staleness: false
        processes:
          - name: engine
            pattern: "%s"
            log: %s
            remediate:
              restart:
                command: "nohup sh %s 0 run %s %s >/dev/null 2>&1 &"
                clean_cycles: 3
                max_per_day: 1
                timeout: 10s
                start_wait: 10s
                settle: 1s
        """.formatted(host, target, hostDir.resolve("state"), log, engineMarker(), log, script, log, engineMarker()));
    return yaml;
  }

  /** The engine on host-1 finishes cleanly; its agent restarts it. Returns the agent's note. */
  private String remediationScene(OperatorGrpc.OperatorBlockingStub operator) throws IOException, InterruptedException {
    Path hostDir = dir.resolve("host-1");
    Path log = hostDir.resolve("engine.log");
    say("remediation (opt-in, remediate: in host-1's agent.yaml): host-1's agent watches a simulated engine"
        + " process (pid " + engine.pid() + ") and its log");
    await("host-1's agent to see the engine running", () -> operator.withDeadlineAfter(2, TimeUnit.SECONDS)
        .listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList().stream()
        .filter(a -> a.getAgentId().equals("host-1")).flatMap(a -> a.getProbesList().stream())
        .anyMatch(p -> p.getTarget().equals("engine") && p.getProcess().getRunning()
            && p.getProcess().getPid() == engine.pid()), Duration.ofSeconds(30), dir.resolve("agent-host-1.log"));
    Files.writeString(Path.of(log + ".go"), "");
    engine.waitFor(10, TimeUnit.SECONDS);
    say("the engine (pid " + engine.pid() + ") finished early and cleanly after 4 clean cycles");
    String[] note = {null};
    Incident[] died = {null};
    await("the agent's remediation on the PROCESS_DIED incident", () -> {
      for (Incident inc : openIncidents(operator)) {
        if (inc.getKind().name().equals("PROCESS_DIED")) {
          for (var n : inc.getNotesList()) {
            if (n.getAction().equals("REMEDIATION")) {
              died[0] = inc;
              note[0] = n.getNote();
              return true;
            }
          }
        }
      }
      return false;
    }, Duration.ofSeconds(30), dir.resolve("agent-host-1.log"));
    say("INCIDENT " + died[0].getId() + " " + died[0].getSeverity() + " — " + died[0].getTitle());
    say("  host-1's agent: " + note[0]);
    say("  (it would not have restarted a crash, a host under a stop order, or more than max_per_day times;"
        + " see `lockstep incident show " + died[0].getId() + "` and `lockstep audit`)");
    return note[0];
  }

  /** The post-incident report of the P0, written by `lockstep incident report` itself. */
  private void writeReport(String incidentId, String target, CertsInit.Result certs) {
    Path report = dir.resolve(incidentId + ".md");
    TlsFiles op = certs.tlsFilesFor(OPERATOR);
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    int code = dev.lockstep.cli.Main.run(new java.io.PrintWriter(out), new java.io.PrintWriter(err), "incident", "report",
        incidentId, "--out", report.toString(), "--collector", target, "--ca", op.ca().toString(), "--cert",
        op.cert().toString(), "--key", op.key().toString());
    say(code == 0 ? "post-incident report: lockstep incident report " + incidentId + " --out " + dir.relativize(report)
        + " (timeline, time to detect/stop/confirm/resolve, root cause, evidence, checklist)"
        : "(incident report failed: " + err.toString().strip() + ")");
  }

  /** Kills what the demo's restarted engine left (it runs detached from the agent). */
  private void stopEngines() {
    String marker = engineMarker();
    ProcessHandle.allProcesses().filter(p -> p.info().commandLine().map(c -> c.contains(marker)).orElse(false))
        .forEach(ProcessHandle::destroyForcibly);
  }

  @SafeVarargs
  private static List<String> concat(List<String>... parts) {
    List<String> all = new ArrayList<>();
    for (List<String> p : parts) all.addAll(p);
    return all;
  }

  /** Every collector's address, starting from number {@code first} (so agents spread). */
  private static String addresses(List<String> targets, int first) {
    List<String> out = new ArrayList<>();
    for (int k = 0; k < targets.size(); k++) out.add(targets.get((first + k) % targets.size()));
    return String.join(",", out);
  }

  /** How long a step may take: longer in cluster mode, where the core task may be failing over. */
  private Duration limit(int seconds) {
    return Duration.ofSeconds(cluster ? 3L * seconds : seconds);
  }

  private static int connected(OperatorGrpc.OperatorBlockingStub operator) {
    int n = 0;
    for (AgentInfo a : operator.withDeadlineAfter(2, TimeUnit.SECONDS).listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList()) {
      if (a.getConnection().equals("CONNECTED")) n++;
    }
    return n;
  }

  private static List<Incident> openIncidents(OperatorGrpc.OperatorBlockingStub operator) {
    return operator.withDeadlineAfter(2, TimeUnit.SECONDS)
        .listIncidents(ListIncidentsRequest.newBuilder().setOpenOnly(true).build()).getIncidentsList();
  }

  private void await(String what, BooleanSupplier condition, Duration limit, Path logOnFailure)
      throws InterruptedException {
    long deadline = System.nanoTime() + Math.min(limit.toNanos(), timeout.toNanos() - (System.nanoTime() - started));
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      try {
        if (condition.getAsBoolean()) return;
      } catch (RuntimeException e) {
        last = e;
      }
      Thread.sleep(100); // polling interval while waiting for a condition
    }
    throw new IllegalStateException("demo: timed out waiting for " + what
        + (last != null ? " (last error: " + last.getMessage() + ")" : "")
        + "\n--- " + logOnFailure.getFileName() + " (last lines) ---\n" + FleetProcesses.tail(logOnFailure, 30));
  }

  private void say(String line) {
    double t = (System.nanoTime() - started) / 1e9;
    out.println(String.format(Locale.ROOT, "[%5.1fs] %s", t, line));
    out.flush();
  }
}
