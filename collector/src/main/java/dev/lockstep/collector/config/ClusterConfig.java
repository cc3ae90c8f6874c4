package dev.lockstep.collector.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code cluster:} section of collector.yaml: present, it switches the collector into cluster
 * mode — several collector processes serve one fleet, the core runs in a Kafka Streams topology,
 * agent events, stop states and evidence live on Kafka. Absent, the collector is embedded (one
 * process, RocksDB). Validated at load time with messages that name the key.
 *
 * @param bootstrap Kafka bootstrap servers, {@code host:port,host:port}
 * @param collectorId this collector's name in the cluster (stable across restarts)
 * @param advertise the host:port agents and operators reach this collector on (status only)
 * @param topicPrefix prefix of every topic and of the Streams application id (several fleets may
 *     share one Kafka cluster)
 * @param replicationFactor replication of every topic the collector creates
 * @param minInsyncReplicas {@code min.insync.replicas} of those topics
 * @param standbyReplicas warm copies of the core's state on other collectors
 * @param commitInterval how often the core commits its transaction (a decision is visible to
 *     gateways only after its commit)
 * @param maxCoreBacklog the longest the core may take to work through the events topic's backlog
 *     before gateways hold routine batches with a Backoff (decisive ones still go), so a mismatch
 *     after a burst is compared within about this; zero never holds them
 * @param tls TLS to Kafka (PEM files), or null for plaintext
 * @param properties extra Kafka client properties (SASL, timeouts), applied last
 */
public record ClusterConfig(
    String bootstrap,
    String collectorId,
    String advertise,
    String topicPrefix,
    int replicationFactor,
    int minInsyncReplicas,
    int standbyReplicas,
    Duration commitInterval,
    Duration maxCoreBacklog,
    KafkaTls tls,
    Map<String, String> properties) {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern SERVERS = Pattern.compile("[^\\s,]+:\\d{1,5}(,[^\\s,]+:\\d{1,5})*");

  public ClusterConfig {
    properties = Map.copyOf(properties);
  }

  /** PEM files for TLS to the brokers: the CA, and for mTLS this collector's certificate and key. */
  public record KafkaTls(Path ca, Path cert, Path key) {}

  /** Defaults for a cluster reached at {@code bootstrap}, this collector named {@code id}. */
  public static ClusterConfig of(String bootstrap, String id) {
    return new ClusterConfig(bootstrap, id, "", "lockstep", 3, 2, 1, Duration.ofMillis(50),
        Duration.ofSeconds(1), null, Map.of());
  }

  public ClusterConfig withReplication(int factor, int minInsync) {
    return new ClusterConfig(bootstrap, collectorId, advertise, topicPrefix, factor, minInsync,
        standbyReplicas, commitInterval, maxCoreBacklog, tls, properties);
  }

  public ClusterConfig withAdvertise(String v) {
    return new ClusterConfig(bootstrap, collectorId, v, topicPrefix, replicationFactor,
        minInsyncReplicas, standbyReplicas, commitInterval, maxCoreBacklog, tls, properties);
  }

  public ClusterConfig withBootstrap(String v) {
    return new ClusterConfig(v, collectorId, advertise, topicPrefix, replicationFactor,
        minInsyncReplicas, standbyReplicas, commitInterval, maxCoreBacklog, tls, properties);
  }

  public ClusterConfig withCollectorId(String v) {
    return new ClusterConfig(bootstrap, v, advertise, topicPrefix, replicationFactor,
        minInsyncReplicas, standbyReplicas, commitInterval, maxCoreBacklog, tls, properties);
  }

  public ClusterConfig withTls(KafkaTls v) {
    return new ClusterConfig(bootstrap, collectorId, advertise, topicPrefix, replicationFactor,
        minInsyncReplicas, standbyReplicas, commitInterval, maxCoreBacklog, v, properties);
  }

  public ClusterConfig withMaxCoreBacklog(Duration v) {
    return new ClusterConfig(bootstrap, collectorId, advertise, topicPrefix, replicationFactor,
        minInsyncReplicas, standbyReplicas, commitInterval, v, tls, properties);
  }

  public ClusterConfig withTopicPrefix(String v) {
    return new ClusterConfig(bootstrap, collectorId, advertise, v, replicationFactor,
        minInsyncReplicas, standbyReplicas, commitInterval, maxCoreBacklog, tls, properties);
  }

  /** Problems with the values (each naming its key); empty when the config can be started. */
  public List<String> problems() {
    List<String> p = new java.util.ArrayList<>();
    if (bootstrap == null || !SERVERS.matcher(bootstrap).matches()) {
      p.add("cluster.bootstrap_servers must be HOST:PORT[,HOST:PORT...], got '" + bootstrap + "'");
    }
    if (collectorId == null || !NAME.matcher(collectorId).matches()) {
      p.add("cluster.collector_id must match " + NAME.pattern() + ", got '" + collectorId + "'");
    }
    if (!NAME.matcher(topicPrefix).matches()) {
      p.add("cluster.topic_prefix must match " + NAME.pattern() + ", got '" + topicPrefix + "'");
    }
    if (replicationFactor < 1 || replicationFactor > 16) {
      p.add("cluster.replication_factor must be between 1 and 16, got " + replicationFactor);
    }
    if (minInsyncReplicas < 1 || minInsyncReplicas > replicationFactor) {
      p.add("cluster.min_insync_replicas must be between 1 and cluster.replication_factor ("
          + replicationFactor + "), got " + minInsyncReplicas);
    }
    if (standbyReplicas < 0 || standbyReplicas > 8) {
      p.add("cluster.standby_replicas must be between 0 and 8, got " + standbyReplicas);
    }
    if (commitInterval.toMillis() < 10 || commitInterval.toMillis() > 10_000) {
      p.add("cluster.commit_interval must be between 10ms and 10s, got " + commitInterval.toMillis() + "ms");
    }
    if (maxCoreBacklog.isNegative() || maxCoreBacklog.toMillis() > 600_000) {
      p.add("cluster.max_core_backlog must be between 0s (never hold routine events) and 10m, got "
          + maxCoreBacklog.toMillis() + "ms");
    }
    return p;
  }

  /** The collector id when none is configured: the host name and the gRPC port. */
  public static String defaultId(int listenPort) {
    String host = Optional.ofNullable(System.getenv("HOSTNAME")).filter(h -> !h.isBlank())
        .orElseGet(() -> {
          try {
            return java.net.InetAddress.getLocalHost().getHostName();
          } catch (IOException e) {
            return "collector";
          }
        });
    String id = (host + "-" + listenPort).replaceAll("[^A-Za-z0-9._-]", "-");
    return id.length() > 64 ? id.substring(0, 64) : id;
  }

  /**
   * The {@code cluster:} section of {@code file}, or empty when there is none (embedded mode).
   * {@code listenPort} names the collector when {@code cluster.collector_id} is not set.
   */
  public static Optional<ClusterConfig> load(Path file, Map<String, String> env, int listenPort)
      throws CollectorConfig.ConfigException {
    String name = file.getFileName().toString();
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
      if (root != null) dev.lockstep.golden.ConfigVariables.expand(root, env);
    } catch (IOException e) {
      throw new CollectorConfig.ConfigException(name + ": cannot read: " + e.getMessage());
    } catch (dev.lockstep.golden.ConfigVariables.UnsetVariableException e) {
      throw new CollectorConfig.ConfigException(name + ": " + e.getMessage());
    }
    if (root == null || !root.has("cluster") || root.get("cluster").isNull()) return Optional.empty();
    JsonNode c = root.get("cluster");
    if (!c.isObject()) throw new CollectorConfig.ConfigException(name + ": cluster must be a mapping");
    Set<String> keys = Set.of("bootstrap_servers", "collector_id", "advertise", "topic_prefix",
        "replication_factor", "min_insync_replicas", "standby_replicas", "commit_interval",
        "max_core_backlog", "tls", "properties");
    for (Iterator<String> it = c.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!keys.contains(k)) throw new CollectorConfig.ConfigException(name + ": unknown key cluster." + k);
    }
    if (!c.has("bootstrap_servers")) {
      throw new CollectorConfig.ConfigException(name + ": cluster.bootstrap_servers is required"
          + " (HOST:PORT[,HOST:PORT...] of the Kafka brokers)");
    }
    Path base = file.toAbsolutePath().getParent();
    ClusterConfig d = of(c.get("bootstrap_servers").asText().trim(),
        c.has("collector_id") ? c.get("collector_id").asText().trim() : defaultId(listenPort));
    int rf = c.has("replication_factor") ? integer(name, c, "replication_factor") : d.replicationFactor();
    int isr = c.has("min_insync_replicas") ? integer(name, c, "min_insync_replicas")
        : Math.min(d.minInsyncReplicas(), rf);
    int standby = c.has("standby_replicas") ? integer(name, c, "standby_replicas") : d.standbyReplicas();
    Duration commit = c.has("commit_interval") ? duration(name, c, "commit_interval") : d.commitInterval();
    Duration backlog = c.has("max_core_backlog") ? duration(name, c, "max_core_backlog") : d.maxCoreBacklog();
    KafkaTls tls = null;
    if (c.has("tls")) {
      JsonNode t = c.get("tls");
      if (!t.isObject() || !t.has("ca")) {
        throw new CollectorConfig.ConfigException(name + ": cluster.tls.ca is required (PEM CA of the brokers)");
      }
      if (t.has("cert") != t.has("key")) {
        throw new CollectorConfig.ConfigException(name + ": cluster.tls.cert and cluster.tls.key go together");
      }
      tls = new KafkaTls(base.resolve(t.get("ca").asText()),
          t.has("cert") ? base.resolve(t.get("cert").asText()) : null,
          t.has("key") ? base.resolve(t.get("key").asText()) : null);
    }
    Map<String, String> props = new LinkedHashMap<>();
    if (c.has("properties")) {
      if (!c.get("properties").isObject()) {
        throw new CollectorConfig.ConfigException(name + ": cluster.properties must be a mapping");
      }
      c.get("properties").properties().forEach(e -> props.put(e.getKey(), e.getValue().asText()));
    }
    ClusterConfig out = new ClusterConfig(d.bootstrap(), d.collectorId(),
        c.has("advertise") ? c.get("advertise").asText().trim() : "",
        c.has("topic_prefix") ? c.get("topic_prefix").asText().trim() : d.topicPrefix(), rf, isr,
        standby, commit, backlog, tls, props);
    List<String> problems = out.problems();
    if (!problems.isEmpty()) throw new CollectorConfig.ConfigException(name + ": " + problems.get(0));
    return Optional.of(out);
  }

  private static Duration duration(String file, JsonNode c, String key)
      throws CollectorConfig.ConfigException {
    try {
      return Durations.parse(c.get(key).asText());
    } catch (IllegalArgumentException e) {
      throw new CollectorConfig.ConfigException(file + ": cluster." + key + " " + e.getMessage());
    }
  }

  private static int integer(String file, JsonNode c, String key)
      throws CollectorConfig.ConfigException {
    JsonNode n = c.get(key);
    if (!n.isIntegralNumber()) {
      throw new CollectorConfig.ConfigException(file + ": cluster." + key
          + " must be an integer, got '" + n.asText() + "'");
    }
    return n.asInt();
  }
}
