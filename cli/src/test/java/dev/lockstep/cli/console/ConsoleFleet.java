package dev.lockstep.cli.console;

import dev.lockstep.agent.Agent;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.cli.client.CollectorAddress;
import dev.lockstep.cli.client.CollectorConnection;
import dev.lockstep.cli.fleet.Eventually;
import dev.lockstep.collector.Collector;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.ListIncidentsRequest;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.security.CertsInit;
import dev.lockstep.security.TlsFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real fleet under mTLS for the console's browser tests: certificates from {@code certs init}
 * (agents host-a, host-b, host-c; operator alice; viewer bob), a real collector serving its web
 * console too ({@code console:} on a free port), and real agents (in-process, as in
 * RealAgentsTest) with golden directories, disk probes, stop files and hooks. The on_stop hook
 * takes a moment, as real ones do, so the page is seen waiting for each confirmation.
 */
final class ConsoleFleet implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final List<String> AGENTS = List.of("host-a", "host-b", "host-c");

  final Path dir;
  final Path certs;
  final Collector collector;
  /** The collector's gRPC address as the CLI dials it (a name its certificate lists). */
  final String grpc;
  final List<Agent> agents = new ArrayList<>();
  private final CollectorConnection alice;

  ConsoleFleet(Path dir) throws Exception {
    this.dir = dir;
    this.certs = dir.resolve("certs");
    CertsInit.run(certs, AGENTS, List.of("alice"), List.of("bob"), List.of("localhost"), Duration.ofDays(2));
    TlsFiles server = TlsFiles.inDirectory(certs, "collector");
    collector = Collector.start(CollectorConfig.defaults(dir.resolve("collector"))
            .withListen("127.0.0.1", 0)
            .withTls(new CollectorConfig.Tls(server.ca(), server.cert(), server.key()))
            .withConsole(new CollectorConfig.Console(true, "127.0.0.1", 0, null, null)),
        Clock.systemUTC(), line -> { });
    grpc = "localhost:" + collector.port();
    for (String id : AGENTS) {
      Path root = dir.resolve("agents").resolve(id);
      Files.createDirectories(root.resolve("golden"));
      TlsFiles tls = TlsFiles.inDirectory(certs, id);
      AgentConfig config = AgentConfig.defaults(id, grpc, root.resolve("state"))
          .withInsecure(false).withTlsFiles(tls.ca(), tls.cert(), tls.key())
          .withLabel("workflows", "billing.reconcile,bulk.export")
          .withReconnect(Duration.ofMillis(100), Duration.ofMillis(400))
          .withGolden(new AgentConfig.GoldenWatch(List.of(root.resolve("golden").toString()), "*.json",
              Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(500)))
          .withDisk(new AgentConfig.Disk(List.of(root), 99, 100))
          .withProbes(new AgentConfig.Probes(Duration.ofMillis(500), Duration.ofSeconds(60)))
          .withStopFile(root.resolve("run/EMERGENCY_STOP"))
          .withHooks("sleep 0.3", "true",
              "if [ \"$LOCKSTEP_MODE\" = STOPPED ]; then test -f \"$LOCKSTEP_STOP_FILE\"; else test ! -e \"$LOCKSTEP_STOP_FILE\"; fi");
      agents.add(Agent.start(config, Clock.systemUTC(), line -> { }));
    }
    alice = CollectorConnection.open(CollectorAddress.parse(grpc), TlsFiles.inDirectory(certs, "alice"),
        Duration.ofSeconds(10));
    Eventually.await(WAIT, "3 agents connected", () -> collector.fleet().connectedCount() == 3);
  }

  /** The Operator API as alice, for waiting on conditions (what is checked goes through the browser). */
  OperatorGrpc.OperatorBlockingStub operator() {
    return alice.operator();
  }

  String consoleOrigin() {
    return "https://127.0.0.1:" + collector.consolePort();
  }

  Path cert(String who) {
    return certs.resolve(who + ".pem");
  }

  Path key(String who) {
    return certs.resolve(who + "-key.pem");
  }

  Path stopFile(String agent) {
    return dir.resolve("agents").resolve(agent).resolve("run/EMERGENCY_STOP");
  }

  /** Writes a golden file into an agent's golden directory the way an engine does (temp, rename). */
  void golden(String agent, String name, byte[] content) throws Exception {
    Path d = dir.resolve("agents").resolve(agent).resolve("golden");
    Path tmp = d.resolve("." + name + ".tmp");
    Files.write(tmp, content);
    Files.move(tmp, d.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  void golden(String agent, String name, String content) throws Exception {
    golden(agent, name, content.getBytes(StandardCharsets.UTF_8));
  }

  /** The open incident about {@code runId}, once the collector has it. */
  Incident incidentOf(String runId) {
    return Eventually.value(WAIT, "an incident about " + runId, () -> operator()
        .listIncidents(ListIncidentsRequest.newBuilder().setOpenOnly(true).build()).getIncidentsList().stream()
        .filter(i -> i.getRunIdsList().contains(runId)).findFirst().orElse(null));
  }

  @Override
  public void close() {
    alice.close();
    for (int i = agents.size() - 1; i >= 0; i--) {
      agents.get(i).close();
    }
    collector.close();
  }
}
