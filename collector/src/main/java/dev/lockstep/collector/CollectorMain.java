package dev.lockstep.collector;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.config.Durations;
import dev.lockstep.collector.store.Store;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lockstep collector [--config collector.yaml] [flags]} runs the collector until SIGTERM or
 * SIGINT; {@code lockstep collector backup --data-dir DIR --to DIR} writes a RocksDB checkpoint.
 * Exit codes: 0 clean shutdown, 2 bad configuration or usage, 1 runtime failure.
 */
@Command(name = "lockstep collector", mixinStandardHelpOptions = true,
    version = "lockstep-collector 0.1.0",
    description = "The central Lockstep service: ingest, correlation, incidents, emergency stop.",
    subcommands = {CollectorMain.Backup.class})
public final class CollectorMain implements Callable<Integer> {
  @Option(names = "--config", paramLabel = "FILE", description = "collector.yaml")
  Path configFile;

  @Option(names = "--listen", paramLabel = "HOST:PORT",
      description = "gRPC address (default 127.0.0.1:7443; port 0 picks a free port)")
  String listen;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "where RocksDB and the alert log live")
  Path dataDir;

  @Option(names = "--metrics-port", paramLabel = "N", description = "Prometheus /metrics port (0 = off)")
  Integer metricsPort;

  @Option(names = "--stop-policy", paramLabel = "POLICY",
      description = "auto-stop on P0: fleet, workflow, host or off (default fleet)")
  String stopPolicy;

  @Option(names = "--correlation-window", paramLabel = "DURATION",
      description = "how long to wait for all replicas of a run (e.g. 5m, 30s)")
  String correlationWindow;

  @Option(names = "--alert-webhook", paramLabel = "URL", description = "generic JSON webhook (repeatable)")
  java.util.List<String> webhooks;

  @Option(names = "--alertmanager", paramLabel = "URL", description = "Alertmanager base URL")
  String alertmanager;

  @Option(names = "--port-file", paramLabel = "FILE", description = "write the bound port here when ready")
  Path portFile;

  @Option(names = "--insecure",
      description = "serve PLAINTEXT gRPC without TLS or identities (loud warning); without it,"
          + " --ca, --cert and --key (or tls.* in collector.yaml) are required")
  boolean insecure;

  @Option(names = {"--ca", "--tls-client-ca"}, paramLabel = "FILE",
      description = "CA certificate(s) (PEM) every client certificate must chain to (mTLS)")
  Path tlsCa;

  @Option(names = {"--cert", "--tls-cert"}, paramLabel = "FILE",
      description = "the collector's certificate (PEM, e.g. collector.pem from lockstep certs init)")
  Path tlsCert;

  @Option(names = {"--key", "--tls-key"}, paramLabel = "FILE",
      description = "the collector's private key (PEM)")
  Path tlsKey;

  @Option(names = "--crl", paramLabel = "FILE",
      description = "certificate revocation list (PEM/DER, e.g. crl.pem from lockstep certs revoke);"
          + " revoked client certificates are refused and audited; re-read every minute")
  Path tlsCrl;

  @Option(names = "--max-agent-streams", paramLabel = "N",
      description = "most concurrent agent streams (default 5000)")
  Integer maxStreams;

  @Option(names = "--max-events-per-second", paramLabel = "N",
      description = "per-agent event rate limit (default 20000)")
  Integer maxEventsPerSecond;

  @Option(names = "--console-listen", paramLabel = "HOST:PORT",
      description = "serve the web console over HTTPS here (browsers need a client certificate;"
          + " console.listen in collector.yaml; off by default)")
  String consoleListen;

  @Option(names = "--kafka", paramLabel = "HOST:PORT[,HOST:PORT...]",
      description = "cluster mode: Kafka bootstrap servers (overrides cluster.bootstrap_servers;"
          + " without it and without cluster: in collector.yaml the collector is embedded)")
  String kafka;

  @Option(names = "--collector-id", paramLabel = "ID",
      description = "cluster mode: this collector's name (default: host name and gRPC port)")
  String collectorId;

  @Option(names = "--kafka-replication", paramLabel = "N",
      description = "cluster mode: replication factor of the topics (default 3); min.insync.replicas"
          + " is N-1 (at least 1)")
  Integer kafkaReplication;

  @Option(names = "--max-core-backlog", paramLabel = "DURATION",
      description = "cluster mode: hold agents' routine events while the core is further behind"
          + " than this (cluster.max_core_backlog; default 1s, 0s never holds them)")
  String maxCoreBacklog;

  /** Cluster mode's configuration from the file and flags, or null for embedded mode. */
  dev.lockstep.collector.config.ClusterConfig cluster(CollectorConfig c)
      throws CollectorConfig.ConfigException {
    dev.lockstep.collector.config.ClusterConfig k = configFile == null ? null
        : dev.lockstep.collector.config.ClusterConfig.load(configFile, System.getenv(),
            c.listenPort()).orElse(null);
    if (k == null && kafka == null) {
      if (collectorId != null || kafkaReplication != null || maxCoreBacklog != null) {
        throw new CollectorConfig.ConfigException("--collector-id, --kafka-replication and"
            + " --max-core-backlog need cluster mode (--kafka or cluster: in collector.yaml)");
      }
      return null;
    }
    if (k == null) {
      k = dev.lockstep.collector.config.ClusterConfig.of(kafka,
          dev.lockstep.collector.config.ClusterConfig.defaultId(c.listenPort()));
    } else if (kafka != null) {
      k = k.withBootstrap(kafka);
    }
    if (collectorId != null) k = k.withCollectorId(collectorId);
    if (kafkaReplication != null) k = k.withReplication(kafkaReplication, Math.max(1, kafkaReplication - 1));
    if (maxCoreBacklog != null) {
      try {
        k = k.withMaxCoreBacklog(dev.lockstep.collector.config.Durations.parse(maxCoreBacklog));
      } catch (IllegalArgumentException e) {
        throw new CollectorConfig.ConfigException("--max-core-backlog " + e.getMessage());
      }
    }
    java.util.List<String> problems = k.problems();
    if (!problems.isEmpty()) throw new CollectorConfig.ConfigException(problems.get(0));
    return k;
  }

  /** Builds the effective configuration from the file and flags; errors name the key or flag. */
  CollectorConfig config() throws CollectorConfig.ConfigException {
    CollectorConfig c = configFile != null ? CollectorConfig.load(configFile)
        : CollectorConfig.defaults(Path.of("collector-data").toAbsolutePath());
    try {
      if (dataDir != null) c = c.withDataDir(dataDir.toAbsolutePath());
      if (listen != null) {
        String[] hp = CollectorConfig.parseListen(listen);
        c = c.withListen(hp[0], Integer.parseInt(hp[1]));
      }
    } catch (IllegalArgumentException e) {
      throw new CollectorConfig.ConfigException("--listen " + e.getMessage());
    }
    if (metricsPort != null) {
      if (metricsPort < 0 || metricsPort > 65535) {
        throw new CollectorConfig.ConfigException(
            "--metrics-port must be between 0 and 65535, got " + metricsPort);
      }
      c = c.withMetricsPort(metricsPort);
    }
    if (stopPolicy != null) {
      try {
        c = c.withStopPolicy(CollectorConfig.parseStopPolicy(stopPolicy));
      } catch (IllegalArgumentException e) {
        throw new CollectorConfig.ConfigException("--stop-policy " + e.getMessage());
      }
    }
    if (correlationWindow != null) {
      try {
        c = c.withCorrelationWindow(Durations.parse(correlationWindow));
      } catch (IllegalArgumentException e) {
        throw new CollectorConfig.ConfigException("--correlation-window " + e.getMessage());
      }
    }
    if (webhooks != null) {
      for (String w : webhooks) c = c.withWebhook(new CollectorConfig.Webhook(url("--alert-webhook", w), "json", null));
    }
    if (alertmanager != null) c = c.withAlertmanager(url("--alertmanager", alertmanager));
    if (tlsCa != null || tlsCert != null || tlsKey != null) {
      for (Path p : new Path[] {tlsCa, tlsCert, tlsKey}) {
        if (p != null && !Files.isReadable(p)) {
          throw new CollectorConfig.ConfigException("TLS file is not readable: " + p);
        }
      }
      c = c.withTls(new CollectorConfig.Tls(
          tlsCa != null ? tlsCa.toAbsolutePath() : c.tls().ca(),
          tlsCert != null ? tlsCert.toAbsolutePath() : c.tls().cert(),
          tlsKey != null ? tlsKey.toAbsolutePath() : c.tls().key(), c.tls().crl()));
    }
    if (tlsCrl != null) {
      c = c.withTls(new CollectorConfig.Tls(c.tls().ca(), c.tls().cert(), c.tls().key(),
          tlsCrl.toAbsolutePath()));
    }
    if (maxStreams != null || maxEventsPerSecond != null) {
      int streams = maxStreams != null ? maxStreams : c.limits().maxStreams();
      int rate = maxEventsPerSecond != null ? maxEventsPerSecond : c.limits().maxEventsPerSecond();
      if (streams < 1 || rate < 1) {
        throw new CollectorConfig.ConfigException(
            "--max-agent-streams and --max-events-per-second must be at least 1");
      }
      c = c.withLimits(new CollectorConfig.Limits(streams, rate, Math.max(rate * 2, 1_000),
          c.limits().maxConnectionAge(), c.limits().maxEventBytesPerSecond()));
    }
    if (consoleListen != null) {
      try {
        String[] hp = CollectorConfig.parseListen(consoleListen);
        var d = c.console();
        c = c.withConsole(new CollectorConfig.Console(true, hp[0], Integer.parseInt(hp[1]), d.cert(), d.key()));
      } catch (IllegalArgumentException e) {
        throw new CollectorConfig.ConfigException("--console-listen " + e.getMessage());
      }
    }
    if (insecure) c = c.withInsecure(true);
    if (c.console().enabled() && c.insecure()) {
      throw new CollectorConfig.ConfigException("the web console (console.enabled, --console-listen) needs"
          + " mTLS: browsers are identified by their client certificates; with --insecure use"
          + " `lockstep console --insecure` instead");
    }
    if (!c.insecure() && !c.tls().complete()) {
      throw new CollectorConfig.ConfigException(missingTls(c.tls()));
    }
    return c;
  }

  /** The one-line start-up error when neither TLS files nor --insecure are given. */
  public static String missingTls(CollectorConfig.Tls tls) {
    return "no TLS configured: missing " + String.join(", ", tls.missing())
        + " (or tls.ca/tls.cert/tls.key in collector.yaml; `lockstep certs init` makes them);"
        + " plaintext only with an explicit --insecure";
  }

  private static URI url(String flag, String s) throws CollectorConfig.ConfigException {
    try {
      URI u = URI.create(s);
      if (u.getHost() != null && ("http".equals(u.getScheme()) || "https".equals(u.getScheme()))) return u;
    } catch (IllegalArgumentException e) {
      // fall through
    }
    throw new CollectorConfig.ConfigException(flag + " must be an http(s) URL, got '" + s + "'");
  }

  @Override
  public Integer call() {
    CollectorConfig config;
    dev.lockstep.collector.config.ClusterConfig cluster;
    try {
      config = config();
      cluster = cluster(config);
    } catch (CollectorConfig.ConfigException e) {
      System.err.println("lockstep collector: " + e.getMessage());
      return 2;
    }
    Collector collector;
    try {
      collector = Collector.start(config, cluster, Clock.systemUTC(),
          line -> System.out.println("[collector] " + line));
    } catch (IOException | RuntimeException e) {
      System.err.println("lockstep collector: " + e.getMessage());
      return 1;
    }
    // Exits from a thread of its own: the shutdown hook closes the collector, which joins the
    // thread the failure was reported on. Exit code 70 (EX_SOFTWARE): a service manager restarts.
    collector.onFatal(t -> new Thread(() -> System.exit(70), "lockstep-fatal-exit").start());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("[collector] shutting down");
      collector.close();
      System.out.println("[collector] stopped");
      System.out.flush();
      stopped.countDown();
    }, "lockstep-shutdown"));
    if (portFile != null) {
      try {
        writePortFile(portFile, collector.port());
      } catch (IOException e) {
        System.err.println("lockstep collector: cannot write --port-file " + portFile + ": " + e.getMessage());
        collector.close();
        return 1;
      }
    }
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  static void writePortFile(Path file, int port) throws IOException {
    Path abs = file.toAbsolutePath();
    if (abs.getParent() != null) Files.createDirectories(abs.getParent());
    Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
    Files.writeString(tmp, port + "\n", StandardCharsets.UTF_8);
    try {
      Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** {@code backup --data-dir DIR --to DIR}: a consistent RocksDB checkpoint. */
  @Command(name = "backup", mixinStandardHelpOptions = true,
      description = "Write a RocksDB checkpoint of the collector's store. Restore: stop the "
          + "collector, copy the checkpoint directory to DATA_DIR/db (and the --evidence-to one "
          + "to DATA_DIR/evidence), start the collector.")
  static final class Backup implements Callable<Integer> {
    @Option(names = "--data-dir", required = true, paramLabel = "DIR") Path dataDir;
    @Option(names = "--to", required = true, paramLabel = "DIR") Path to;
    @Option(names = "--evidence-to", paramLabel = "DIR",
        description = "Also back up the evidence store (DATA_DIR/evidence) to DIR.")
    Path evidenceTo;

    @Override
    public Integer call() {
      Path db = dataDir.resolve("db");
      if (!Files.isDirectory(db)) {
        System.err.println("lockstep collector backup: no store at " + db);
        return 2;
      }
      if (Files.exists(to)) {
        System.err.println("lockstep collector backup: --to " + to + " already exists");
        return 2;
      }
      Path evidence = dataDir.resolve("evidence");
      if (evidenceTo != null) {
        if (!Files.isDirectory(evidence)) {
          System.err.println("lockstep collector backup: no evidence store at " + evidence);
          return 2;
        }
        if (Files.exists(evidenceTo)) {
          System.err.println("lockstep collector backup: --evidence-to " + evidenceTo + " already exists");
          return 2;
        }
      }
      try {
        Store.backup(db, to);
        if (evidenceTo != null) Store.backupBeside(evidence, evidenceTo);
      } catch (IOException e) {
        System.err.println("lockstep collector backup: " + e.getMessage());
        return 1;
      }
      System.out.println("checkpoint written to " + to + " (restore: copy it to <data-dir>/db while the collector is stopped)");
      if (evidenceTo == null && Files.isDirectory(evidence)) {
        System.err.println("lockstep collector backup: evidence (" + evidence + ") is not in this"
            + " backup; add --evidence-to DIR to keep it");
      }
      if (evidenceTo != null) {
        System.out.println("evidence checkpoint written to " + evidenceTo
            + " (restore: copy it to <data-dir>/evidence while the collector is stopped)");
      }
      return 0;
    }
  }

  public static void main(String[] args) {
    CommandLine cmd = new CommandLine(new CollectorMain());
    cmd.setParameterExceptionHandler((ex, a) -> {
      PrintWriter err = ex.getCommandLine().getErr();
      err.println("lockstep collector: " + ex.getMessage());
      return 2;
    });
    System.exit(cmd.execute(args));
  }
}
