package dev.lockstep.collector.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterConfigTest {
  @TempDir Path dir;

  Path write(String yaml) throws Exception {
    Path f = dir.resolve("collector.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  @Test
  void theDocumentedClusterExampleLoadsAsBothConfigs() throws Exception {
    Path example = Path.of("..", "deploy", "config", "collector-cluster.yaml");
    ClusterConfig c = ClusterConfig.load(example, Map.of(), 7443).orElseThrow();
    assertThat(c.bootstrap()).isEqualTo("kafka-1:9092,kafka-2:9092,kafka-3:9092");
    assertThat(c.collectorId()).isEqualTo("collector-1");
    assertThat(c.advertise()).isEqualTo("collector-1.example:7443");
    assertThat(c.topicPrefix()).isEqualTo("lockstep");
    assertThat(c.replicationFactor()).isEqualTo(3);
    assertThat(c.minInsyncReplicas()).isEqualTo(2);
    assertThat(c.standbyReplicas()).isEqualTo(1);
    assertThat(c.commitInterval()).isEqualTo(Duration.ofMillis(50));
    assertThat(c.maxCoreBacklog()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.tls()).isNull();
    assertThat(c.properties()).isEmpty();
    ClusterConfig fromEnv = ClusterConfig.load(example,
        Map.of("LOCKSTEP_KAFKA", "k:9093", "LOCKSTEP_COLLECTOR_ID", "c7"), 7443).orElseThrow();
    assertThat(fromEnv.bootstrap()).isEqualTo("k:9093");
    assertThat(fromEnv.collectorId()).isEqualTo("c7");
    CollectorConfig rest = CollectorConfig.load(example, Map.of());
    assertThat(rest.listenPort()).isEqualTo(7443);
    assertThat(rest.tls().complete()).isTrue();
  }

  @Test
  void withoutAClusterSectionTheCollectorIsEmbedded() throws Exception {
    assertThat(ClusterConfig.load(write("listen: 127.0.0.1:7443\n"), Map.of(), 7443)).isEmpty();
    assertThat(ClusterConfig.load(Path.of("..", "deploy", "config", "collector.yaml"), Map.of(), 7443))
        .as("the shipped collector.yaml stays embedded").isEmpty();
  }

  @Test
  void defaultsAreReplicationThreeAndANameFromHostAndPort() throws Exception {
    ClusterConfig c = ClusterConfig.load(write("cluster:\n  bootstrap_servers: k:9092\n"), Map.of(), 7443)
        .orElseThrow();
    assertThat(c.replicationFactor()).isEqualTo(3);
    assertThat(c.minInsyncReplicas()).isEqualTo(2);
    assertThat(c.collectorId()).endsWith("-7443").matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    ClusterConfig one = ClusterConfig.load(
        write("cluster:\n  bootstrap_servers: k:9092\n  replication_factor: 1\n"), Map.of(), 7443).orElseThrow();
    assertThat(one.minInsyncReplicas()).as("min ISR never above the replication").isEqualTo(1);
    assertThat(c.maxCoreBacklog()).isEqualTo(Duration.ofSeconds(1));
    ClusterConfig never = ClusterConfig.load(
        write("cluster:\n  bootstrap_servers: k:9092\n  max_core_backlog: 0s\n"), Map.of(), 7443).orElseThrow();
    assertThat(never.maxCoreBacklog()).isZero();
  }

  @Test
  void errorsNameTheFileAndTheKey() throws Exception {
    for (List<String> bad : List.of(
        List.of("cluster: yes\n", "collector.yaml: cluster must be a mapping"),
        List.of("cluster:\n  collector_id: c1\n", "collector.yaml: cluster.bootstrap_servers is required"),
        List.of("cluster:\n  bootstrap_servers: k:9092\n  replicas: 3\n", "collector.yaml: unknown key cluster.replicas"),
        List.of("cluster:\n  bootstrap_servers: kafka\n", "collector.yaml: cluster.bootstrap_servers must be HOST:PORT"),
        List.of("cluster:\n  bootstrap_servers: k:9092\n  collector_id: 'a b'\n", "collector.yaml: cluster.collector_id must match"),
        List.of("cluster:\n  bootstrap_servers: k:9092\n  replication_factor: three\n",
            "collector.yaml: cluster.replication_factor must be an integer, got 'three'"),
        List.of("cluster:\n  bootstrap_servers: k:9092\n  replication_factor: 3\n  min_insync_replicas: 4\n",
            "collector.yaml: cluster.min_insync_replicas must be between 1 and cluster.replication_factor (3), got 4"),
        List.of("cluster:\n  bootstrap_servers: k:9092\n  commit_interval: 1h\n",
            "collector.yaml: cluster.commit_interval must be between 10ms and 10s"),
        List.of("cluster:\n  bootstrap_servers: k:9092\n  max_core_backlog: soon\n",
            "collector.yaml: cluster.max_core_backlog must be a duration like 500ms"),
        List.of("cluster:\n  bootstrap_servers: k:9092\n  max_core_backlog: 1h\n",
            "collector.yaml: cluster.max_core_backlog must be between 0s (never hold routine events) and 10m"),
        List.of("cluster:\n  bootstrap_servers: k:9092\n  tls: {cert: c.pem}\n", "collector.yaml: cluster.tls.ca is required"),
        List.of("cluster:\n  bootstrap_servers: k:9092\n  tls: {ca: ca.pem, cert: c.pem}\n",
            "collector.yaml: cluster.tls.cert and cluster.tls.key go together"))) {
      Path f = write(bad.get(0));
      assertThatThrownBy(() -> ClusterConfig.load(f, Map.of(), 7443))
          .isInstanceOf(CollectorConfig.ConfigException.class)
          .hasMessageStartingWith(bad.get(1));
    }
  }
}
