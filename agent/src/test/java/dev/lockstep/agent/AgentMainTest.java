package dev.lockstep.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.proto.lite.v1.Event;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SuppressWarnings("try") // agents are started for their side effects
class AgentMainTest {
  @TempDir Path root;
  TestGateway gateway;
  Process child;

  @BeforeEach
  void setUp() throws Exception {
    gateway = new TestGateway();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (child != null) {
      child.destroyForcibly().waitFor();
    }
    gateway.close();
  }

  private static int runMain(ByteArrayOutputStream err, String... args) {
    return AgentMain.run(args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true), false);
  }

  @Test
  void badConfigurationPrintsOneLineAndExitsTwo() throws Exception {
    Path yaml = root.resolve("agent.yaml");
    Files.writeString(yaml, "agent_id: w1\nstate_dir: /tmp/x\ncollector: {address: 'c:1'}\ndisk: {critical_percent: 140}\n");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(runMain(err, "--config", yaml.toString())).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .isEqualTo("agent.yaml: disk.critical_percent must be between 1 and 100, got 140\n");

    ByteArrayOutputStream err2 = new ByteArrayOutputStream();
    assertThat(runMain(err2, "--bogus")).isEqualTo(2);
    assertThat(err2.toString(StandardCharsets.UTF_8).lines()).hasSize(1);

    ByteArrayOutputStream err3 = new ByteArrayOutputStream();
    assertThat(runMain(err3, "--id", "a", "--state-dir", root.toString())).isEqualTo(2);
    assertThat(err3.toString(StandardCharsets.UTF_8)).contains("--collector");

    ByteArrayOutputStream err4 = new ByteArrayOutputStream();
    assertThat(runMain(err4, "--id", "a", "--collector", "c:1", "--state-dir", root.toString())).isEqualTo(2);
    assertThat(err4.toString(StandardCharsets.UTF_8)).isEqualTo("lockstep agent: no TLS configured: missing"
        + " collector.tls.ca_file (--ca), collector.tls.cert_file (--cert), collector.tls.key_file (--key);"
        + " plaintext only with collector.insecure: true or --insecure\n");
  }

  @Test
  void flagsOverrideTheConfigFile() throws Exception {
    Path yaml = root.resolve("agent.yaml");
    Files.writeString(yaml, "agent_id: w1\nstate_dir: /tmp/x\ncollector: {address: 'c:1'}\n");
    var c = AgentMain.parse(new String[] {"--config", yaml.toString(), "--id", "w2", "--collector", "h:9",
        "--golden-dir", "/g1", "--golden-dir=/g2", "--label", "zone=eu", "--insecure", "--on-stop", "touch /x",
        "--metrics-port", "0", "--stop-file", "/s", "--state-dir", root.toString()});
    assertThat(c.agentId()).isEqualTo("w2");
    assertThat(c.collector().target()).isEqualTo("h:9");
    assertThat(c.collector().insecure()).isTrue();
    assertThat(c.golden().dirs()).containsExactly("/g1", "/g2");
    assertThat(c.labels()).containsEntry("zone", "eu");
    assertThat(c.stop().onStop()).isEqualTo("touch /x");
    assertThat(c.stop().file()).isEqualTo(Path.of("/s"));
    assertThat(c.spool().dir()).isEqualTo(root.resolve("spool"));
  }

  @Test
  void realAgentProcessReportsProgressAndShutsDownCleanlyOnSigterm() throws Exception {
    Path golden = Files.createDirectories(root.resolve("golden"));
    Path out = root.resolve("out.txt");
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp, "dev.lockstep.agent.AgentMain",
        "--id", "proc-1", "--collector", gateway.target(), "--state-dir", root.resolve("state").toString(),
        "--golden-dir", golden.toString(), "--insecure", "--label", "workflows=billing.reconcile")
        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
    Eventually.await("connected line", Duration.ofSeconds(20), () -> read(out).contains("connected to"));
    assertThat(read(out)).contains("WITHOUT TLS (--insecure)");
    GoldenFiles.writeAtomically(golden, "run-p", "primary");
    Eventually.await("golden delivered", Duration.ofSeconds(20),
        () -> gateway.events("proc-1", Event.BodyCase.GOLDEN).size() == 1);
    assertThat(gateway.hellos().get(0).getLabelsMap()).containsEntry("workflows", "billing.reconcile");
    child.destroy(); // SIGTERM
    assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(read(out)).contains("shutting down");
    // the state dir is free again: another agent can take it
    try (Agent again = Agent.start(Fixtures.config("proc-1", gateway, root).withStateDir(root.resolve("state")),
        Clock.systemUTC())) {
      assertThat(again.lastAckedSeq()).isGreaterThanOrEqualTo(1);
    }
  }

  /**
   * The agent's steady state keeps out what it does not need, each of which it kept for good once
   * loaded: the JDK's time-zone database (its own lines are stamped in UTC by hand), its CLDR
   * locale data (String.format with a locale other than en-US; gRPC's default name-resolution
   * pool names its threads that way, so the agent gives gRPC its own pool) and jackson-databind.
   */
  @Test
  void aRealAgentLoadsNoTimeZoneDatabaseNoLocaleDataAndNoDatabind() throws Exception {
    Path golden = Files.createDirectories(root.resolve("golden"));
    Path out = root.resolve("out.txt");
    Path classes = root.resolve("classes.txt");
    Path yaml = root.resolve("agent.yaml");
    Files.writeString(yaml, "agent_id: lean-1\nstate_dir: " + root.resolve("state") + "\ncollector:\n  address: '"
        + gateway.target() + "'\n  insecure: true\ngolden:\n  dirs: ['" + golden + "']\n  settle: 1s\n"
        + "disk:\n  paths: ['" + root + "']\nprobes:\n  interval: 1s\nmetrics:\n  port: 0\n");
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:off", "-Xlog:class+load:file=" + classes,
        "-Duser.language=de", "-Duser.country=CH", "-cp", cp, "dev.lockstep.agent.AgentMain", "--config", yaml.toString())
        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
    Eventually.await("connected line", Duration.ofSeconds(20), () -> read(out).contains("connected to"));
    GoldenFiles.writeAtomically(golden, "run-lean", "primary");
    Eventually.await("golden delivered", Duration.ofSeconds(20),
        () -> gateway.events("lean-1", Event.BodyCase.GOLDEN).size() == 1);
    Eventually.await("a disk probe", Duration.ofSeconds(20),
        () -> gateway.events("lean-1", Event.BodyCase.HEALTH).stream()
            .anyMatch(e -> e.getHealth().getSummary().startsWith("disk ")));
    child.destroy();
    assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();

    assertThat(read(out).lines().filter(l -> !l.startsWith("WARNING"))).isNotEmpty()
        .allMatch(l -> l.matches("\\d\\d:\\d\\d:\\d\\dZ agent lean-1: .*"), "stamped HH:mm:ssZ");
    String loaded = read(classes);
    assertThat(loaded).contains("dev.lockstep.agent.probe.DiskProbe", "dev.lockstep.agent.spool.Spool ")
        .doesNotContain("sun.util.calendar.ZoneInfoFile", "java.time.zone.TzdbZoneRulesProvider",
            "java.text.DecimalFormatSymbols", "sun.util.locale.provider.LocaleProviderAdapter",
            "com.fasterxml.jackson.databind.");
  }

  private static String read(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p) : "";
    } catch (java.io.IOException e) {
      return "";
    }
  }

  @Test
  void metricsAreServedAsPrometheusText() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (Agent agent = Agent.start(Fixtures.config("m1", gateway, root).withMetricsPort(port), Clock.systemUTC())) {
      GoldenFiles.writeAtomically(root.resolve("golden"), "run-m", "primary");
      Eventually.await("acked", () -> agent.lastAckedSeq() >= 1);
      Eventually.await("welcome state enacted", () -> agent.enactedStop().generation() == 1);
      HttpResponse<String> r = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("lockstep_agent_events_spooled_total{kind=\"golden\"} 1.0")
          .contains("lockstep_agent_connected 1.0")
          .contains("lockstep_agent_events_acked_total")
          .contains("lockstep_agent_spool_bytes")
          .contains("lockstep_agent_stop_generation 1.0")
          .contains("lockstep_agent_stopped 0.0");
    }
  }
}
