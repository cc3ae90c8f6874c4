package dev.lockstep.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lockstep demo --cluster} with real processes: a KRaft broker, two collectors in cluster
 * mode, three agents; one collector is SIGKILLed right after the divergence, and the stop still
 * reaches, and is confirmed by, every agent. Nothing is left running.
 */
class DemoClusterTest {

  @Test
  void theClusterDemoStopsEveryAgentAfterOneCollectorIsKilled(@TempDir Path tmp) throws Exception {
    Path workspace = tmp.resolve("demo");
    DemoTest.Run run = DemoTest.demo(tmp, workspace, Duration.ofSeconds(240), true);
    Demo.Result result = run.result();
    String printed = run.printed();

    assertThat(result.stopConfirmed()).as(printed).isEqualTo(3);
    assertThat(result.collectorKilled()).isEqualTo("collector-2");
    assertThat(result.incidents()).extracting(i -> i[0] + " " + i[1]).contains("P0 UNSEEDED_RNG");
    assertThat(result.toJson()).contains("\"stop_confirmed\":3", "\"collectors\":2", "\"collector_killed\":\"collector-2\"");
    assertThat(printed).contains("Kafka serving at", "SIGKILL collector-2", "INCIDENT",
        "one Kafka transaction", "fleet resumed");
    assertThat(printed.indexOf("SIGKILL collector-2")).as("killed before the incident was seen")
        .isLessThan(printed.indexOf("INCIDENT"));
    assertThat(Files.readString(workspace.resolve("collector.log"))).contains("cluster mode as collector");
    for (String host : List.of("host-1", "host-2", "host-3")) {
      assertThat(workspace.resolve(host).resolve("workflows.stop")).as("stop file of %s after resume", host).doesNotExist();
    }
    assertThat(Files.readString(workspace.resolve("hooks.log")))
        .contains("host-1 on_stop", "host-2 on_stop", "host-3 on_stop");
    assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).count())
        .as("child processes left behind").isZero();
  }
}
