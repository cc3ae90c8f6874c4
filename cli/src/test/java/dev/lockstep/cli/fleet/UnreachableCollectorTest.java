package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class UnreachableCollectorTest {
  @Test
  void aRefusedConnectionIsOneLineOnStderrAndExitThree() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }

    Cli.Result r = Cli.run("status", "--collector", "127.0.0.1:" + port, "--insecure");

    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("lockstep: cannot reach collector at 127.0.0.1:" + port + " (connection refused)" + System.lineSeparator());
  }

  @Test
  void checkSaysUnknownOnStdoutForMonitoringSystems() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }

    Cli.Result r = Cli.run("check", "--nagios", "--collector", "127.0.0.1:" + port, "--insecure");

    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.out()).startsWith("LOCKSTEP UNKNOWN - cannot reach collector at 127.0.0.1:" + port);
  }

  @Test
  void aCollectorThatDoesNotAnswerWithinTheTimeoutIsExitThree() throws Exception {
    try (FakeOperator silent = new FakeOperator()) {
      silent.silent = true;

      Cli.Result r = Cli.run("status", "--collector", silent.address(), "--timeout", "300ms", "--insecure");

      assertThat(r.exitCode()).isEqualTo(3);
      assertThat(r.err()).isEqualTo("lockstep: collector at " + silent.address() + " did not answer within 300ms" + System.lineSeparator());
    }
  }

  @Test
  void aMalformedCollectorAddressIsAUsageError() {
    Cli.Result r = Cli.run("status", "--collector", "nowhere:http");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("lockstep: --collector: expected HOST:PORT with a numeric port, got 'nowhere:http'");
  }

  @Test
  void insecureWithTlsFlagsIsAUsageError() {
    Cli.Result r = Cli.run("status", "--insecure", "--ca", "/etc/hostname");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("--insecure cannot be combined with --ca");
  }

  @Test
  void neitherTlsFilesNorInsecureIsAOneLineUsageError() {
    Cli.Result r = Cli.run("status", "--collector", "127.0.0.1:1");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("lockstep: no TLS configured: missing --ca, --cert, --key")
        .contains("--insecure");
    assertThat(r.err().strip().lines()).hasSize(1);
  }

  @Test
  void anUnknownStopScopeIsAUsageError() {
    Cli.Result r = Cli.run("stop", "enable", "--reason", "x", "--scope", "zone=eu", "--insecure");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("expected fleet, workflow=NAME or agent=AGENT_ID, got 'zone=eu'");
  }
}
