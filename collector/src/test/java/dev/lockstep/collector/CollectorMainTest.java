package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.store.Store;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CollectorMainTest {
  @TempDir Path dir;

  record Run(int code, String err) {}

  static Run run(String... args) {
    CommandLine cmd = new CommandLine(new CollectorMain());
    StringWriter err = new StringWriter();
    cmd.setErr(new PrintWriter(err));
    cmd.setParameterExceptionHandler((ex, a) -> {
      ex.getCommandLine().getErr().println("lockstep collector: " + ex.getMessage());
      return 2;
    });
    java.io.PrintStream old = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(captured, true));
    try {
      int code = cmd.execute(args);
      return new Run(code, err + captured.toString());
    } finally {
      System.setErr(old);
    }
  }

  @Test
  void aBadConfigIsOneLineAndExitCodeTwo() throws Exception {
    Path f = dir.resolve("collector.yaml");
    Files.writeString(f, "stop:\n  policy: sometimes\n");
    Run r = run("--config", f.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo(
        "lockstep collector: collector.yaml: stop.policy must be one of fleet, workflow, host, off, got 'sometimes'");
    assertThat(run("--listen", "nowhere").code()).isEqualTo(2);
    assertThat(run("--correlation-window", "soon").err()).contains("--correlation-window must be a duration");
    assertThat(run("--no-such-flag").code()).isEqualTo(2);
  }

  @Test
  void clusterFlagsAreCheckedBeforeAnythingStarts() throws Exception {
    Run idAlone = run("--data-dir", dir.resolve("d").toString(), "--insecure", "--collector-id", "c1");
    assertThat(idAlone.code()).isEqualTo(2);
    assertThat(idAlone.err()).contains("--collector-id, --kafka-replication and --max-core-backlog need cluster mode");
    Run badBacklog = run("--data-dir", dir.resolve("d").toString(), "--insecure", "--kafka", "k:9092",
        "--max-core-backlog", "soon");
    assertThat(badBacklog.code()).isEqualTo(2);
    assertThat(badBacklog.err()).contains("--max-core-backlog must be a duration like 500ms");
    Run longBacklog = run("--data-dir", dir.resolve("d").toString(), "--insecure", "--kafka", "k:9092",
        "--max-core-backlog", "1h");
    assertThat(longBacklog.code()).isEqualTo(2);
    assertThat(longBacklog.err()).contains("cluster.max_core_backlog must be between 0s");
    Run badServers = run("--data-dir", dir.resolve("d").toString(), "--insecure", "--kafka", "kafka");
    assertThat(badServers.code()).isEqualTo(2);
    assertThat(badServers.err()).contains("cluster.bootstrap_servers must be HOST:PORT");
    Path f = dir.resolve("collector.yaml");
    Files.writeString(f, "cluster:\n  bootstrap_servers: k:9092\n  standby_replicas: 9\n");
    Run badFile = run("--config", f.toString(), "--insecure");
    assertThat(badFile.code()).isEqualTo(2);
    assertThat(badFile.err().strip()).isEqualTo(
        "lockstep collector: collector.yaml: cluster.standby_replicas must be between 0 and 8, got 9");
  }

  @Test
  void anInsecureCollectorSaysSoLoudly() throws Exception {
    java.util.List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (Collector c = Collector.start(CollectorConfig.defaults(dir.resolve("i")).withInsecure(true)
        .withListen("127.0.0.1", 0), Clock.systemUTC(), lines::add)) {
      assertThat(lines).anySatisfy(l -> assertThat(l)
          .startsWith("WARNING: lockstep-collector is running WITHOUT TLS (--insecure)"));
      assertThat(lines).anySatisfy(l -> assertThat(l).contains("(PLAINTEXT, --insecure"));
    }
  }

  @Test
  void withoutTlsFilesOrInsecureTheCollectorRefusesToStartInOneLine() {
    Run r = run("--data-dir", dir.resolve("d").toString(), "--listen", "127.0.0.1:0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).startsWith("lockstep collector: no TLS configured: missing --ca, --cert, --key")
        .contains("--insecure").doesNotContain("\n");
    Run half = run("--data-dir", dir.resolve("d").toString(), "--cert", dir.resolve("nope.pem").toString());
    assertThat(half.code()).isEqualTo(2);
    assertThat(half.err()).contains("nope.pem");
  }

  @Test
  void flagsOverrideTheFile() throws Exception {
    Path f = dir.resolve("collector.yaml");
    Files.writeString(f, "listen: 0.0.0.0:9000\nstop:\n  policy: host\n");
    CollectorMain m = new CollectorMain();
    new CommandLine(m).parseArgs("--config", f.toString(), "--listen", "127.0.0.1:0", "--data-dir",
        dir.resolve("d").toString(), "--stop-policy", "workflow", "--correlation-window", "30s",
        "--alert-webhook", "http://127.0.0.1:1/x", "--alertmanager", "http://127.0.0.1:2", "--metrics-port", "0",
        "--insecure");
    CollectorConfig c = m.config();
    assertThat(c.listenPort()).isZero();
    assertThat(c.stopPolicy()).isEqualTo(CollectorConfig.StopPolicy.WORKFLOW);
    assertThat(c.correlation().window().toSeconds()).isEqualTo(30);
    assertThat(c.alerts().webhooks()).hasSize(1);
    assertThat(c.alerts().alertmanager().getPort()).isEqualTo(2);
    assertThat(c.dataDir()).isEqualTo(dir.resolve("d"));
    assertThat(c.insecure()).isTrue();
  }

  @Test
  void backupWritesACheckpointThatRestoresAsADataDir() throws Exception {
    Path data = dir.resolve("data");
    try (Collector c = Collector.start(CollectorConfig.defaults(data).withInsecure(true).withListen("127.0.0.1", 0),
        Clock.systemUTC(), l -> { }); RawAgent a = RawAgent.connect(c.port(), "host-a")) {
      a.report(Goldens.report("r", "w", "primary", "a"), Goldens.report("r", "w", "shadow", "b"));
      a.await("stop", f -> f.hasStop());
      assertThat(run("backup", "--data-dir", data.toString(), "--to", dir.resolve("live").toString()).code()).isZero();
    }
    assertThat(run("backup", "--data-dir", data.toString(), "--to", dir.resolve("cold").toString(),
        "--evidence-to", dir.resolve("cold-evidence").toString()).code()).isZero();
    assertThat(run("backup", "--data-dir", dir.resolve("nowhere").toString(), "--to",
        dir.resolve("x").toString(), "--evidence-to", dir.resolve("y").toString()).code()).isEqualTo(2);
    assertThat(run("backup", "--data-dir", data.toString(), "--to", dir.resolve("cold").toString()).code()).isEqualTo(2);
    for (String b : new String[] {"live", "cold"}) {
      Path restored = dir.resolve("restored-" + b);
      Files.createDirectories(restored);
      Files.move(dir.resolve(b), restored.resolve("db"));
      if (b.equals("cold")) Files.move(dir.resolve("cold-evidence"), restored.resolve("evidence"));
      try (Collector c = Collector.start(CollectorConfig.defaults(restored).withInsecure(true).withListen("127.0.0.1", 0),
          Clock.systemUTC(), l -> { })) {
        assertThat(c.fleet().orders()).hasSize(1);
        assertThat(c.fleet().incidents().get("INC-000001")).isPresent();
      }
      try (Store s = Store.open(restored.resolve("db"), true, 8 << 20, 8 << 20)) {
        assertThat(s.highWaterMark("host-a")).isEqualTo(2);
      }
    }
  }
}
