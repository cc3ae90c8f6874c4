package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import dev.lockstep.proto.v1.ClusterStatus;
import dev.lockstep.proto.v1.CollectorMember;
import dev.lockstep.proto.v1.FleetStatus;
import org.junit.jupiter.api.Test;

/**
 * {@code lockstep status} against a cluster-mode answer: one row per collector and the Kafka lag.
 * The collector side (members, heartbeats, core owner) is checked on real processes by the
 * collector module's cluster tests; here the answer is fixed so every field's rendering is pinned.
 */
class ClusterStatusTest {
  static final Timestamp AT = Timestamp.newBuilder().setSeconds(1_790_000_000L).build();

  @Test
  void statusShowsEveryCollectorOfTheClusterWithItsAgentsAndTheCoreLag() throws Exception {
    try (FakeOperator fake = new FakeOperator()) {
      fake.status = FleetStatus.newBuilder().setNow(AT).setCluster(ClusterStatus.newBuilder()
          .setCollectorId("c2").setBootstrap("k1:9092,k2:9092").setReplicaLag(3)
          .putCoreLag("lockstep.events", 12).putCoreLag("lockstep.control", 0)
          .addCollectors(CollectorMember.newBuilder().setCollectorId("c1").setState("DOWN")
              .setAddress("10.0.0.1:7443").setAgents(0).setHeartbeatAt(AT))
          .addCollectors(CollectorMember.newBuilder().setCollectorId("c2").setState("UP")
              .setAddress("10.0.0.2:7443").setAgents(7).setCore(true).setHeartbeatAt(AT))
          .addCollectors(CollectorMember.newBuilder().setCollectorId("c3").setState("UP")
              .setAddress("10.0.0.3:7443").setAgents(5).setHeartbeatAt(AT)))
          .build();

      Cli.Result table = Cli.run("status", "--collector", fake.address(), "--insecure");
      Cli.Result json = Cli.run("status", "--collector", fake.address(), "--insecure", "-o", "json");

      assertThat(table.exitCode()).as(table.err()).isZero();
      assertThat(table.out())
          .containsPattern("cluster\\s+2 of 3 collectors up \\(Kafka k1:9092,k2:9092; answered by c2\\)")
          .containsPattern("c1  DOWN  10\\.0\\.0\\.1:7443  0 agents  \\(heartbeat ")
          .containsPattern("c2  UP  10\\.0\\.0\\.2:7443  7 agents  runs the core")
          .containsPattern("c3  UP  10\\.0\\.0\\.3:7443  5 agents  \\(heartbeat ")
          .containsPattern("kafka lag\\s+core: lockstep.control 0, lockstep.events 12; this collector's copy: 3 records behind");
      assertThat(json.exitCode()).isZero();
      assertThat(json.out()).contains("\"collector_id\": \"c3\"").contains("\"core_lag\"");
    }
  }

  @Test
  void statusOfAnEmbeddedCollectorHasNoClusterRows() throws Exception {
    try (FakeOperator fake = new FakeOperator()) {
      fake.status = FleetStatus.newBuilder().setNow(AT).build();

      Cli.Result table = Cli.run("status", "--collector", fake.address(), "--insecure");

      assertThat(table.exitCode()).as(table.err()).isZero();
      assertThat(table.out()).doesNotContain("cluster").doesNotContain("kafka lag");
    }
  }
}
