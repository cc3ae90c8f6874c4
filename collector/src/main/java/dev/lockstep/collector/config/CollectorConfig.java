package dev.lockstep.collector.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lockstep.golden.GoldenConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Everything the collector is configured with, validated at load time. Errors name the key
 * ({@code collector.yaml: stop.policy must be one of fleet, workflow, host, off, got 'all'}).
 * See deploy/config/collector.yaml for the documented example.
 */
public record CollectorConfig(
    Path dataDir,
    String listenHost,
    int listenPort,
    int metricsPort,
    boolean insecure,
    Storage storage,
    Retention retention,
    Correlation correlation,
    StopPolicy stopPolicy,
    Duration stopResendInterval,
    Evidence evidence,
    Alerts alerts,
    Duration agentStaleAfter,
    Tls tls,
    Limits limits,
    GoldenConfig golden,
    Console console) {

  /** Null golden means {@link GoldenConfig#DEFAULT}, null console {@link Console#OFF}. */
  public CollectorConfig {
    golden = golden == null ? GoldenConfig.DEFAULT : golden;
    console = console == null ? Console.OFF : console;
  }

  /**
   * The web console served by the collector itself ({@code console:}): HTTPS on {@code host:port}
   * for browsers holding a client certificate of the fleet's CA (CN = person, OU = operator or
   * viewer), with the same roles and audit as the Operator API. Off by default. {@code cert}/
   * {@code key}: the certificate browsers see (null: the collector's {@code tls.cert}/{@code tls.key});
   * client certificates are always checked against {@code tls.ca} and {@code tls.crl}.
   */
  public record Console(boolean enabled, String host, int port, Path cert, Path key) {
    public static final Console OFF = new Console(false, "127.0.0.1", 7444, null, null);
  }

  /**
   * Server mTLS files ({@code tls.ca}, {@code tls.cert}, {@code tls.key}; flags {@code --ca
   * --cert --key}): every client must present a certificate chaining to {@code ca}; its subject
   * CN is the caller's identity and its OU the role (agent, operator, viewer), see
   * security/README.md. Null fields = not configured.
   */
  public record Tls(Path ca, Path cert, Path key, Path crl) {
    public static final Tls NONE = new Tls(null, null, null);

    /** Without a revocation list. */
    public Tls(Path ca, Path cert, Path key) {
      this(ca, cert, key, null);
    }

    /** Whether all three files are set. */
    public boolean complete() {
      return ca != null && cert != null && key != null;
    }

    /** The flags / keys still missing, e.g. {@code [--ca, --key]}. */
    public List<String> missing() {
      List<String> out = new ArrayList<>();
      if (ca == null) out.add("--ca");
      if (cert == null) out.add("--cert");
      if (key == null) out.add("--key");
      return out;
    }
  }

  /**
   * Limits on what one agent stream may cost; exceeding one closes that stream with a clear status
   * and a metric, never the collector. {@code maxEventsPerSecond} is a per-agent token bucket
   * holding up to {@code maxEventsBurst} events; {@code maxEventBytesPerSecond} one of event-batch
   * bytes (one agent's few large events must not fill the store at network speed either).
   */
  public record Limits(int maxStreams, int maxEventsPerSecond, int maxEventsBurst,
      Duration maxConnectionAge, int maxEventBytesPerSecond) {
    /**
     * 64 MiB/s per agent (bursts twice that): far above what an agent's golden reports (a few
     * KiB) and health samples (~200 bytes) need even while a long-offline agent drains its spool,
     * and below a single agent saturating the collector's network and disk. Lower it for fleets
     * whose agents' events are known to be small.
     */
    public static final int DEFAULT_EVENT_BYTES_PER_SECOND = 64 << 20;
    public static final Limits DEFAULT = new Limits(5_000, 20_000, 40_000, Duration.ofHours(1));

    public Limits(int maxStreams, int maxEventsPerSecond, int maxEventsBurst, Duration maxConnectionAge) {
      this(maxStreams, maxEventsPerSecond, maxEventsBurst, maxConnectionAge, DEFAULT_EVENT_BYTES_PER_SECOND);
    }
  }

  /** What the collector does to the fleet on a P0 incident. */
  public enum StopPolicy { FLEET, WORKFLOW, HOST, OFF }

  /**
   * RocksDB sizing and its space watermarks. {@code syncWrites}: every ingested batch is fsync'd
   * before it is acked. Free space below {@code highFreeBytes} opens a P1 about the collector;
   * below {@code floodFreeBytes} routine events are refused (golden reports, stop acks and
   * operator actions still go in); {@code reserveBytes} is a ballast file released when the disk
   * is full so the store can recover; {@code maxSpaceBytes} caps the store's size (0: the disk).
   */
  public record Storage(boolean syncWrites, long blockCacheBytes, long writeBufferBytes,
      long maxSpaceBytes, long highFreeBytes, long floodFreeBytes, long reserveBytes) {
    public Storage(boolean syncWrites, long blockCacheBytes, long writeBufferBytes) {
      this(syncWrites, blockCacheBytes, writeBufferBytes, 0, 2L << 30, 512L << 20, 256L << 20);
    }
  }

  /** How long each kind of record is kept. Evidence and runs of open incidents are never deleted. */
  public record Retention(
      Duration events, Duration runs, Duration evidence, Duration audit, Duration incidents,
      Duration interval) {
    /** With the default pass interval (1 h). */
    public Retention(Duration events, Duration runs, Duration evidence, Duration audit,
        Duration incidents) {
      this(events, runs, evidence, audit, incidents, Duration.ofHours(1));
    }
  }

  /** Which replicas a run needs: named roles, or (when {@code count > 0}) any {@code count} roles. */
  public record Expectation(List<String> roles, int count) {
    public Expectation {
      roles = List.copyOf(roles);
    }

    public int needed() {
      return count > 0 ? count : roles.size();
    }
  }

  public record Correlation(
      Duration window, Expectation defaults, Map<String, Expectation> workflows) {
    public Correlation {
      workflows = Map.copyOf(workflows);
    }
  }

  /**
   * Evidence pulled from agents for an incident, bounded: per incident, in total (every incident's
   * stored evidence together), and per agent per second.
   */
  public record Evidence(long maxBytesPerIncident, int logTailLines, long maxBytesTotal,
      long maxBytesPerSecondPerAgent) {}

  /** A webhook sink; {@code format} json or slack; {@code secretFile} enables HMAC signing. */
  public record Webhook(URI url, String format, Path secretFile) {}

  public record Alerts(
      List<Webhook> webhooks,
      URI alertmanager,
      Path logFile,
      int failureAttempts,
      Duration failureAfter,
      Duration maxBackoff) {
    public Alerts {
      webhooks = List.copyOf(webhooks);
    }
  }

  public static CollectorConfig defaults(Path dataDir) {
    return new CollectorConfig(
        dataDir,
        "127.0.0.1",
        7443,
        0,
        false,
        new Storage(true, 64L << 20, 64L << 20),
        new Retention(
            Duration.ofDays(7), Duration.ofDays(30), Duration.ofDays(90), Duration.ofDays(365),
            Duration.ofDays(90)),
        new Correlation(
            Duration.ofMinutes(5), new Expectation(List.of("primary", "shadow"), 0), Map.of()),
        StopPolicy.FLEET,
        Duration.ofSeconds(5),
        new Evidence(64L << 20, 200, 4L << 30, 16L << 20),
        new Alerts(List.of(), null, null, 5, Duration.ofMinutes(2), Duration.ofMinutes(1)),
        Duration.ofMinutes(2),
        Tls.NONE,
        Limits.DEFAULT,
        GoldenConfig.DEFAULT,
        Console.OFF);
  }

  /** The alert log file: configured, or {@code alerts.log} in the data dir. */
  public Path alertLogFile() {
    return alerts.logFile() != null ? dataDir.resolve(alerts.logFile()) : dataDir.resolve("alerts.log");
  }

  public Expectation expectationFor(String workflow) {
    return correlation.workflows().getOrDefault(workflow, correlation.defaults());
  }

  public CollectorConfig withDataDir(Path v) {
    return new CollectorConfig(v, listenHost, listenPort, metricsPort, insecure, storage, retention,
        correlation, stopPolicy, stopResendInterval, evidence, alerts, agentStaleAfter, tls, limits, golden, console);
  }

  public CollectorConfig withListen(String host, int port) {
    return new CollectorConfig(dataDir, host, port, metricsPort, insecure, storage, retention,
        correlation, stopPolicy, stopResendInterval, evidence, alerts, agentStaleAfter, tls, limits, golden, console);
  }

  public CollectorConfig withMetricsPort(int v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, v, insecure, storage, retention,
        correlation, stopPolicy, stopResendInterval, evidence, alerts, agentStaleAfter, tls, limits, golden, console);
  }

  public CollectorConfig withInsecure(boolean v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, metricsPort, v, storage, retention,
        correlation, stopPolicy, stopResendInterval, evidence, alerts, agentStaleAfter, tls, limits, golden, console);
  }

  public CollectorConfig withStorage(Storage v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, metricsPort, insecure, v, retention,
        correlation, stopPolicy, stopResendInterval, evidence, alerts, agentStaleAfter, tls, limits, golden, console);
  }

  public CollectorConfig withRetention(Retention v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, metricsPort, insecure, storage, v,
        correlation, stopPolicy, stopResendInterval, evidence, alerts, agentStaleAfter, tls, limits, golden, console);
  }

  public CollectorConfig withCorrelation(Correlation v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, metricsPort, insecure, storage,
        retention, v, stopPolicy, stopResendInterval, evidence, alerts, agentStaleAfter, tls, limits, golden, console);
  }

  public CollectorConfig withCorrelationWindow(Duration v) {
    return withCorrelation(new Correlation(v, correlation.defaults(), correlation.workflows()));
  }

  public CollectorConfig withStopPolicy(StopPolicy v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, metricsPort, insecure, storage,
        retention, correlation, v, stopResendInterval, evidence, alerts, agentStaleAfter, tls, limits, golden, console);
  }

  public CollectorConfig withStopResendInterval(Duration v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, metricsPort, insecure, storage,
        retention, correlation, stopPolicy, v, evidence, alerts, agentStaleAfter, tls, limits, golden, console);
  }

  public CollectorConfig withEvidence(Evidence v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, metricsPort, insecure, storage,
        retention, correlation, stopPolicy, stopResendInterval, v, alerts, agentStaleAfter, tls, limits, golden, console);
  }

  public CollectorConfig withAlerts(Alerts v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, metricsPort, insecure, storage,
        retention, correlation, stopPolicy, stopResendInterval, evidence, v, agentStaleAfter, tls, limits, golden, console);
  }

  public CollectorConfig withWebhook(Webhook w) {
    List<Webhook> hooks = new ArrayList<>(alerts.webhooks());
    hooks.add(w);
    return withAlerts(new Alerts(hooks, alerts.alertmanager(), alerts.logFile(),
        alerts.failureAttempts(), alerts.failureAfter(), alerts.maxBackoff()));
  }

  public CollectorConfig withAlertmanager(URI url) {
    return withAlerts(new Alerts(alerts.webhooks(), url, alerts.logFile(),
        alerts.failureAttempts(), alerts.failureAfter(), alerts.maxBackoff()));
  }

  public CollectorConfig withAgentStaleAfter(Duration v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, metricsPort, insecure, storage,
        retention, correlation, stopPolicy, stopResendInterval, evidence, alerts, v, tls, limits, golden, console);
  }

  public CollectorConfig withTls(Tls v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, metricsPort, insecure, storage,
        retention, correlation, stopPolicy, stopResendInterval, evidence, alerts, agentStaleAfter, v, limits, golden,
        console);
  }

  public CollectorConfig withLimits(Limits v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, metricsPort, insecure, storage,
        retention, correlation, stopPolicy, stopResendInterval, evidence, alerts, agentStaleAfter,
        tls, v, golden, console);
  }

  /**
   * How evidence golden files are parsed and diffed ({@code golden:} limits, volatile, mapping). Must
   * match the agents' {@code golden:} section: agents hash with theirs, the collector diffs with this.
   */
  public CollectorConfig withGolden(GoldenConfig v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, metricsPort, insecure, storage,
        retention, correlation, stopPolicy, stopResendInterval, evidence, alerts, agentStaleAfter,
        tls, limits, v, console);
  }

  /** The web console the collector serves itself ({@code console:}; off by default). */
  public CollectorConfig withConsole(Console v) {
    return new CollectorConfig(dataDir, listenHost, listenPort, metricsPort, insecure, storage,
        retention, correlation, stopPolicy, stopResendInterval, evidence, alerts, agentStaleAfter,
        tls, limits, golden, v);
  }

  /** A configuration error; the message is the one line the operator reads. */
  public static final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
      super(message);
    }
  }

  /**
   * Loads a YAML file. Keys not set keep {@link #defaults}; a relative data_dir is resolved against
   * the file's directory. {@code dataDirFallback} is used when the file names no data_dir.
   */
  public static CollectorConfig load(Path file) throws ConfigException {
    return load(file, System.getenv());
  }

  /** As {@link #load(Path)}, with {@code ${env:NAME}} values taken from {@code env}. */
  public static CollectorConfig load(Path file, Map<String, String> env) throws ConfigException {
    String name = file.getFileName().toString();
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new ConfigException(name + ": cannot read: " + oneLine(e.getMessage()));
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      root = new ObjectMapper().createObjectNode();
    }
    try {
      dev.lockstep.golden.ConfigVariables.expand(root, env);
    } catch (dev.lockstep.golden.ConfigVariables.UnsetVariableException e) {
      throw new ConfigException(name + ": " + e.getMessage());
    }
    return new Reader(name, file.toAbsolutePath().getParent()).read(root);
  }

  /** Parses "host:port" (port 0 allowed). */
  public static String[] parseListen(String text) {
    int colon = text == null ? -1 : text.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("must be HOST:PORT, got '" + text + "'");
    }
    String host = text.substring(0, colon);
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("must be HOST:PORT, got '" + text + "'");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
    }
    return new String[] {host, Integer.toString(port)};
  }

  public static StopPolicy parseStopPolicy(String text) {
    try {
      return StopPolicy.valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "must be one of fleet, workflow, host, off, got '" + text + "'");
    }
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }

  /** Walks the YAML tree, rejecting unknown keys and naming the key in every error. */
  private static final class Reader {
    private final String file;
    private final Path baseDir;

    Reader(String file, Path baseDir) {
      this.file = file;
      this.baseDir = baseDir;
    }

    private ConfigException error(String key, String message) {
      return new ConfigException(file + ": " + key + " " + message);
    }

    private void known(JsonNode node, String prefix, Set<String> keys) throws ConfigException {
      if (!node.isObject()) {
        throw new ConfigException(file + ": " + (prefix.isEmpty() ? "the document" : prefix)
            + " must be a mapping");
      }
      Iterator<String> names = node.fieldNames();
      while (names.hasNext()) {
        String k = names.next();
        if (!keys.contains(k)) {
          throw new ConfigException(file + ": unknown key " + (prefix.isEmpty() ? k : prefix + "." + k));
        }
      }
    }

    private String text(JsonNode node, String key) throws ConfigException {
      if (!node.isValueNode()) throw error(key, "must be a scalar");
      return node.asText();
    }

    private Duration duration(JsonNode node, String key) throws ConfigException {
      try {
        Duration d = Durations.parse(text(node, key));
        if (d.isZero()) throw error(key, "must be greater than 0");
        return d;
      } catch (IllegalArgumentException e) {
        throw error(key, e.getMessage());
      }
    }

    /** A webhook secret file the security module's signer accepts (exists, non-empty, not world-readable). */
    private Path secretFile(JsonNode node, String key) throws ConfigException {
      Path p = baseDir.resolve(text(node, key));
      try {
        dev.lockstep.security.WebhookSigner.fromSecretFile(p);
      } catch (dev.lockstep.security.SecuritySetupException e) {
        throw error(key, "is not usable: " + e.getMessage());
      }
      return p;
    }

    private long integer(JsonNode node, String key, long min, long max) throws ConfigException {
      if (!node.canConvertToLong() || !node.isIntegralNumber()) {
        throw error(key, "must be an integer, got '" + node.asText() + "'");
      }
      long v = node.asLong();
      if (v < min || v > max) {
        throw error(key, "must be between " + min + " and " + max + ", got " + v);
      }
      return v;
    }

    private boolean bool(JsonNode node, String key) throws ConfigException {
      if (!node.isBoolean()) throw error(key, "must be true or false, got '" + node.asText() + "'");
      return node.asBoolean();
    }

    private URI url(JsonNode node, String key) throws ConfigException {
      String s = text(node, key);
      try {
        URI u = URI.create(s);
        if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
            || u.getHost() == null) {
          throw error(key, "must be an http(s) URL, got '" + s + "'");
        }
        return u;
      } catch (IllegalArgumentException e) {
        throw error(key, "must be an http(s) URL, got '" + s + "'");
      }
    }

    private List<String> strings(JsonNode node, String key) throws ConfigException {
      if (!node.isArray()) throw error(key, "must be a list");
      List<String> out = new ArrayList<>();
      for (JsonNode n : node) {
        String s = text(n, key).trim();
        if (s.isEmpty()) throw error(key, "must not contain empty names");
        out.add(s);
      }
      return out;
    }

    private Expectation expectation(JsonNode node, String key, Expectation fallback)
        throws ConfigException {
      known(node, key, Set.of("expected_roles", "expected_replicas"));
      List<String> roles = node.has("expected_roles")
          ? strings(node.get("expected_roles"), key + ".expected_roles") : fallback.roles();
      int count = node.has("expected_replicas")
          ? (int) integer(node.get("expected_replicas"), key + ".expected_replicas", 2, 64)
          : (node.has("expected_roles") ? 0 : fallback.count());
      if (count == 0 && roles.size() < 2) {
        throw error(key + ".expected_roles", "must name at least 2 roles, got " + roles);
      }
      return new Expectation(roles, count);
    }

    CollectorConfig read(JsonNode root) throws ConfigException {
      known(root, "", Set.of("listen", "data_dir", "metrics_port", "insecure", "tls", "store",
          "retention", "correlation", "stop", "evidence", "alerts", "agents", "golden", "console",
          "cluster")); // cluster: read by ClusterConfig.load
      CollectorConfig c = defaults(Path.of("data"));
      if (root.has("data_dir")) {
        c = c.withDataDir(baseDir.resolve(text(root.get("data_dir"), "data_dir")).normalize());
      } else {
        c = c.withDataDir(baseDir.resolve("data").normalize());
      }
      if (root.has("listen")) {
        try {
          String[] hp = parseListen(text(root.get("listen"), "listen"));
          c = c.withListen(hp[0], Integer.parseInt(hp[1]));
        } catch (IllegalArgumentException e) {
          throw error("listen", e.getMessage());
        }
      }
      if (root.has("metrics_port")) {
        c = c.withMetricsPort((int) integer(root.get("metrics_port"), "metrics_port", 0, 65535));
      }
      if (root.has("insecure")) c = c.withInsecure(bool(root.get("insecure"), "insecure"));
      if (root.has("store")) {
        JsonNode s = root.get("store");
        known(s, "store", Set.of("sync_writes", "block_cache_mb", "write_buffer_mb", "max_space_mb",
            "high_watermark_free_mb", "flood_watermark_free_mb", "reserve_mb"));
        Storage st = c.storage();
        boolean sync = s.has("sync_writes") ? bool(s.get("sync_writes"), "store.sync_writes")
            : st.syncWrites();
        long cache = s.has("block_cache_mb")
            ? integer(s.get("block_cache_mb"), "store.block_cache_mb", 1, 65536) << 20
            : st.blockCacheBytes();
        long wb = s.has("write_buffer_mb")
            ? integer(s.get("write_buffer_mb"), "store.write_buffer_mb", 1, 65536) << 20
            : st.writeBufferBytes();
        long cap = s.has("max_space_mb")
            ? integer(s.get("max_space_mb"), "store.max_space_mb", 0, 1L << 30) << 20 : st.maxSpaceBytes();
        long high = s.has("high_watermark_free_mb") ? integer(s.get("high_watermark_free_mb"),
            "store.high_watermark_free_mb", 1, 1L << 30) << 20 : st.highFreeBytes();
        long flood = s.has("flood_watermark_free_mb") ? integer(s.get("flood_watermark_free_mb"),
            "store.flood_watermark_free_mb", 1, 1L << 30) << 20 : st.floodFreeBytes();
        long reserve = s.has("reserve_mb")
            ? integer(s.get("reserve_mb"), "store.reserve_mb", 0, 1L << 20) << 20 : st.reserveBytes();
        if (flood >= high) {
          throw error("store.flood_watermark_free_mb", "must be below store.high_watermark_free_mb ("
              + (high >> 20) + "), got " + (flood >> 20));
        }
        c = c.withStorage(new Storage(sync, cache, wb, cap, high, flood, reserve));
      }
      if (root.has("retention")) {
        JsonNode r = root.get("retention");
        known(r, "retention", Set.of("events", "runs", "evidence", "audit", "incidents", "interval"));
        Retention d = c.retention();
        c = c.withRetention(new Retention(
            r.has("events") ? duration(r.get("events"), "retention.events") : d.events(),
            r.has("runs") ? duration(r.get("runs"), "retention.runs") : d.runs(),
            r.has("evidence") ? duration(r.get("evidence"), "retention.evidence") : d.evidence(),
            r.has("audit") ? duration(r.get("audit"), "retention.audit") : d.audit(),
            r.has("incidents") ? duration(r.get("incidents"), "retention.incidents")
                : d.incidents(),
            r.has("interval") ? duration(r.get("interval"), "retention.interval") : d.interval()));
      }
      if (root.has("correlation")) {
        JsonNode r = root.get("correlation");
        known(r, "correlation", Set.of("window", "expected_roles", "expected_replicas", "workflows"));
        Duration window = r.has("window") ? duration(r.get("window"), "correlation.window")
            : c.correlation().window();
        com.fasterxml.jackson.databind.node.ObjectNode top =
            new ObjectMapper().createObjectNode();
        if (r.has("expected_roles")) top.set("expected_roles", r.get("expected_roles"));
        if (r.has("expected_replicas")) top.set("expected_replicas", r.get("expected_replicas"));
        Expectation defaults = expectation(top, "correlation", c.correlation().defaults());
        Map<String, Expectation> per = new LinkedHashMap<>();
        if (r.has("workflows")) {
          JsonNode w = r.get("workflows");
          if (!w.isObject()) throw error("correlation.workflows", "must be a mapping");
          for (Map.Entry<String, JsonNode> e : w.properties()) {
            per.put(e.getKey(),
                expectation(e.getValue(), "correlation.workflows." + e.getKey(), defaults));
          }
        }
        c = c.withCorrelation(new Correlation(window, defaults, per));
      }
      if (root.has("stop")) {
        JsonNode s = root.get("stop");
        known(s, "stop", Set.of("policy", "resend_interval"));
        if (s.has("policy")) {
          try {
            c = c.withStopPolicy(parseStopPolicy(text(s.get("policy"), "stop.policy")));
          } catch (IllegalArgumentException e) {
            throw error("stop.policy", e.getMessage());
          }
        }
        if (s.has("resend_interval")) {
          c = c.withStopResendInterval(duration(s.get("resend_interval"), "stop.resend_interval"));
        }
      }
      if (root.has("evidence")) {
        JsonNode s = root.get("evidence");
        known(s, "evidence", Set.of("max_bytes_per_incident", "log_tail_lines", "max_bytes_total",
            "max_bytes_per_second_per_agent"));
        Evidence ev = c.evidence();
        c = c.withEvidence(new Evidence(
            s.has("max_bytes_per_incident") ? integer(s.get("max_bytes_per_incident"),
                "evidence.max_bytes_per_incident", 1024, 1L << 34) : ev.maxBytesPerIncident(),
            s.has("log_tail_lines") ? (int) integer(s.get("log_tail_lines"),
                "evidence.log_tail_lines", 0, 100_000) : ev.logTailLines(),
            s.has("max_bytes_total") ? integer(s.get("max_bytes_total"),
                "evidence.max_bytes_total", 1024, 1L << 44) : ev.maxBytesTotal(),
            s.has("max_bytes_per_second_per_agent") ? integer(
                s.get("max_bytes_per_second_per_agent"), "evidence.max_bytes_per_second_per_agent",
                1024, 1L << 34) : ev.maxBytesPerSecondPerAgent()));
      }
      if (root.has("alerts")) {
        JsonNode a = root.get("alerts");
        known(a, "alerts", Set.of("webhooks", "webhook_secret_file", "alertmanager", "log_file",
            "failure_attempts", "failure_after", "max_backoff"));
        Path sharedSecret = a.has("webhook_secret_file")
            ? secretFile(a.get("webhook_secret_file"), "alerts.webhook_secret_file") : null;
        Alerts d = c.alerts();
        List<Webhook> hooks = new ArrayList<>();
        if (a.has("webhooks")) {
          JsonNode w = a.get("webhooks");
          if (!w.isArray()) throw error("alerts.webhooks", "must be a list");
          int i = 0;
          for (JsonNode h : w) {
            String key = "alerts.webhooks[" + i++ + "]";
            known(h, key, Set.of("url", "format", "secret_file"));
            if (!h.has("url")) throw error(key + ".url", "is required");
            String format = h.has("format") ? text(h.get("format"), key + ".format") : "json";
            if (!format.equals("json") && !format.equals("slack")) {
              throw error(key + ".format", "must be json or slack, got '" + format + "'");
            }
            Path secret = h.has("secret_file")
                ? secretFile(h.get("secret_file"), key + ".secret_file") : sharedSecret;
            hooks.add(new Webhook(url(h.get("url"), key + ".url"), format, secret));
          }
        }
        URI am = null;
        if (a.has("alertmanager")) {
          JsonNode n = a.get("alertmanager");
          if (n.isObject()) {
            known(n, "alerts.alertmanager", Set.of("url"));
            if (!n.has("url")) throw error("alerts.alertmanager.url", "is required");
            am = url(n.get("url"), "alerts.alertmanager.url");
          } else {
            am = url(n, "alerts.alertmanager");
          }
        }
        c = c.withAlerts(new Alerts(hooks, am,
            a.has("log_file") ? Path.of(text(a.get("log_file"), "alerts.log_file")) : d.logFile(),
            a.has("failure_attempts") ? (int) integer(a.get("failure_attempts"),
                "alerts.failure_attempts", 1, 1000) : d.failureAttempts(),
            a.has("failure_after") ? duration(a.get("failure_after"), "alerts.failure_after")
                : d.failureAfter(),
            a.has("max_backoff") ? duration(a.get("max_backoff"), "alerts.max_backoff")
                : d.maxBackoff()));
      }
      if (root.has("tls")) {
        JsonNode t = root.get("tls");
        known(t, "tls", Set.of("ca", "cert", "key", "crl"));
        for (String k : List.of("ca", "cert", "key")) {
          if (!t.has(k)) throw error("tls." + k, "is required (tls needs ca, cert and key)");
        }
        // Parsed (and each unusable file named) when the collector starts; they may be
        // provisioned after the config is written.
        Path ca = baseDir.resolve(text(t.get("ca"), "tls.ca"));
        Path cert = baseDir.resolve(text(t.get("cert"), "tls.cert"));
        Path key = baseDir.resolve(text(t.get("key"), "tls.key"));
        Path crl = t.has("crl") ? baseDir.resolve(text(t.get("crl"), "tls.crl")) : null;
        c = c.withTls(new Tls(ca, cert, key, crl));
      }
      if (root.has("agents")) {
        JsonNode s = root.get("agents");
        known(s, "agents", Set.of("stale_after", "max_streams", "max_events_per_second",
            "max_event_mb_per_second", "max_connection_age"));
        if (s.has("stale_after")) {
          c = c.withAgentStaleAfter(duration(s.get("stale_after"), "agents.stale_after"));
        }
        Limits l = c.limits();
        int streams = s.has("max_streams")
            ? (int) integer(s.get("max_streams"), "agents.max_streams", 1, 1_000_000) : l.maxStreams();
        int rate = s.has("max_events_per_second") ? (int) integer(s.get("max_events_per_second"),
            "agents.max_events_per_second", 1, 10_000_000) : l.maxEventsPerSecond();
        Duration age = s.has("max_connection_age")
            ? duration(s.get("max_connection_age"), "agents.max_connection_age")
            : l.maxConnectionAge();
        if (age.compareTo(Duration.ofMinutes(1)) < 0) {
          throw error("agents.max_connection_age", "must be at least 1m, got " + age.toSeconds() + "s");
        }
        int bytes = s.has("max_event_mb_per_second") ? (int) integer(s.get("max_event_mb_per_second"),
            "agents.max_event_mb_per_second", 1, 512) << 20 : l.maxEventBytesPerSecond();
        c = c.withLimits(new Limits(streams, rate, Math.max(rate * 2, 1_000), age, bytes));
      }
      if (root.has("console")) {
        JsonNode s = root.get("console");
        known(s, "console", Set.of("enabled", "listen", "cert", "key"));
        Console d = c.console();
        boolean enabled = s.has("enabled") ? bool(s.get("enabled"), "console.enabled") : d.enabled();
        String host = d.host();
        int port = d.port();
        if (s.has("listen")) {
          try {
            String[] hp = parseListen(text(s.get("listen"), "console.listen"));
            host = hp[0];
            port = Integer.parseInt(hp[1]);
          } catch (IllegalArgumentException e) {
            throw error("console.listen", e.getMessage());
          }
        }
        if (s.has("cert") != s.has("key")) {
          throw error(s.has("cert") ? "console.key" : "console.cert",
              "is required with console." + (s.has("cert") ? "cert" : "key") + " (the certificate browsers see and its key)");
        }
        Path cert = s.has("cert") ? baseDir.resolve(text(s.get("cert"), "console.cert")) : d.cert();
        Path key = s.has("key") ? baseDir.resolve(text(s.get("key"), "console.key")) : d.key();
        c = c.withConsole(new Console(enabled, host, port, cert, key));
      }
      if (c.console().enabled() && c.insecure()) {
        throw error("console.enabled", "needs mTLS (browsers are identified by their client"
            + " certificates), but insecure is true; on a trusted single machine use"
            + " `lockstep console --insecure` instead");
      }
      if (root.has("golden") && !root.get("golden").isNull()) {
        JsonNode g = root.get("golden");
        if (!g.isObject()) throw error("golden", "must be a mapping");
        try {
          @SuppressWarnings("unchecked")
          Map<String, Object> section = new ObjectMapper().convertValue(g, Map.class);
          c = c.withGolden(GoldenConfig.fromMap(section, file + ": golden"));
        } catch (IllegalArgumentException e) {
          throw new ConfigException(e.getMessage());
        }
      }
      return c;
    }
  }
}
