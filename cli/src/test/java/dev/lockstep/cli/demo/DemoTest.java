package dev.lockstep.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo runs the whole loop with real processes and leaves none behind. */
class DemoTest {
  /** What a demo run printed, and its result. */
  record Run(Demo.Result result, String printed) {}

  /** Runs the demo with 3 agents and 2 clean cycles in {@code workspace}, through a test launcher. */
  static Run demo(Path tmp, Path workspace, Duration timeout, boolean cluster) throws Exception {
    Path launcher = TestLauncher.write(tmp);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Demo.Result result;
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      result = new Demo(List.of(launcher.toString()), workspace, 3, 2, timeout, out, cluster).run();
    }
    return new Run(result, bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void demoStopsTheFleetOnTheInjectedDivergenceAndResumesIt(@TempDir Path tmp) throws Exception {
    Path workspace = tmp.resolve("demo");
    Run run = demo(tmp, workspace, Duration.ofSeconds(120), false);
    Demo.Result result = run.result();
    String printed = run.printed();

    assertThat(result.agents()).isEqualTo(3);
    assertThat(result.stopConfirmed()).as(printed).isEqualTo(3);
    assertThat(result.incidents()).extracting(i -> i[0] + " " + i[1]).contains("P0 UNSEEDED_RNG");
    assertThat(result.toJson()).startsWith("{\"agents\":3,\"incidents\":[{\"severity\":\"P0\",\"category\":\"UNSEEDED_RNG\"}")
        .contains("\"stop_confirmed\":3");
    assertThat(printed).contains("INCIDENT", "CONFIRMED STOPPED (generation", "fleet resumed", "the fleet runs with mTLS");
    assertThat(result.remediation()).as(printed).contains("RESTART DONE of engine", "remaining 24 h", "new pid");
    assertThat(result.toJson()).contains("\"remediated\":true");
    assertThat(printed).contains("host-1's agent: RESTART DONE of engine", "post-incident report: lockstep incident report");
    assertThat(Files.list(workspace).map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".md")).toList())
        .as("the P0's report written").hasSize(1);
    assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine()
        .map(c -> c.contains(Demo.engineMarker(workspace))).orElse(false)).count()).as("engines left running").isZero();
    assertThat(Files.readString(workspace.resolve("collector.log"))).contains("(mTLS").doesNotContain("WITHOUT TLS");
    assertThat(workspace.resolve("certs").resolve("demo-operator.pem")).exists();
    for (String host : List.of("host-1", "host-2", "host-3")) {
      assertThat(workspace.resolve(host).resolve("workflows.stop")).as("stop file of %s after resume", host).doesNotExist();
    }
    assertThat(Files.readString(workspace.resolve("hooks.log")))
        .contains("on_stop: WORKFLOW_EMERGENCY_STOP=true", "on_resume");
    assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).count())
        .as("child processes left behind").isZero();
  }
}
