package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.Collector;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.security.CertsInit;
import dev.lockstep.security.TlsFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI against the real collector under mTLS, with certificates from {@code lockstep certs
 * init}: roles from the certificates, refusals audited and shown by {@code lockstep audit}, and
 * one-line errors (exit 3) for every TLS mismatch.
 */
class TlsTest {
  @TempDir Path dir;
  Path certs;
  Collector collector;
  String address;

  @BeforeEach
  void start() throws Exception {
    certs = dir.resolve("certs");
    Cli.Result init = Cli.run("certs", "init", "--dir", certs.toString(), "--agents", "host-a",
        "--operators", "alice", "--viewers", "bob");
    assertThat(init.exitCode()).as(init.err()).isZero();
    TlsFiles server = TlsFiles.inDirectory(certs, "collector");
    collector = Collector.start(CollectorConfig.defaults(dir.resolve("collector"))
        .withListen("127.0.0.1", 0)
        .withTls(new CollectorConfig.Tls(server.ca(), server.cert(), server.key())),
        Clock.systemUTC(), line -> { });
    address = "localhost:" + collector.port();
  }

  @AfterEach
  void stop() {
    collector.close();
  }

  /** {@code lockstep ARGS} as certificate {@code name} (its files from certs init). */
  Cli.Result as(String name, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--collector", address, "--ca", certs.resolve("ca.pem").toString(),
        "--cert", certs.resolve(name + ".pem").toString(),
        "--key", certs.resolve(name + "-key.pem").toString()));
    return Cli.run(all.toArray(String[]::new));
  }

  @Test
  void certsInitWritesACaAndOneCertificatePerName() {
    for (String f : List.of("ca.pem", "ca-key.pem", "collector.pem", "collector-key.pem", "host-a.pem",
        "alice.pem", "alice-key.pem", "bob.pem")) {
      assertThat(certs.resolve(f)).exists();
    }
  }

  @Test
  void anOperatorStopsTheFleetAndTheAuditNamesHerCertificate() {
    Cli.Result stop = as("alice", "stop", "enable", "--reason", "tls drill");
    Cli.Result audit = as("alice", "audit", "--since", "1h");

    assertThat(stop.exitCode()).as(stop.err()).isZero();
    assertThat(stop.out()).containsPattern("ORD-000001-\\S+ fleet by alice");
    assertThat(audit.out()).containsPattern("alice\\s+operator\\s+EnableStop\\s+ORD-000001-\\S+\\s+127\\.0\\.0\\.1:\\d+\\s+OK");
  }

  @Test
  void aViewerReadsButCannotResumeAndTheRefusalIsAudited() {
    assertThat(as("alice", "stop", "enable", "--reason", "drill").exitCode()).isZero();

    Cli.Result status = as("bob", "stop", "status");
    Cli.Result resume = as("bob", "stop", "disable", "--yes", "--reason", "let me");
    Cli.Result audit = as("bob", "audit");

    assertThat(status.out()).contains("1 active order");
    assertThat(resume.exitCode()).isEqualTo(3);
    assertThat(resume.err()).isEqualTo("lockstep: collector at " + address + " refused the call"
        + " (PERMISSION_DENIED): operator role required for ResumeStop; caller bob is viewer"
        + System.lineSeparator());
    assertThat(collector.fleet().orders()).hasSize(1);
    assertThat(audit.out()).containsPattern("bob\\s+viewer\\s+ResumeStop\\s+all of ORD-\\S+\\s+\\S+\\s+DENIED");
  }

  @Test
  void anAgentCertificateCannotStopTheFleet() {
    Cli.Result r = as("host-a", "stop", "enable", "--reason", "mine now");

    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.err()).contains("PERMISSION_DENIED").contains("caller host-a is agent");
    assertThat(collector.fleet().orders()).isEmpty();
  }

  @Test
  void plaintextToTheTlsCollectorFailsInOneLine() {
    Cli.Result r = Cli.run("status", "--collector", address, "--insecure", "--timeout", "5s");

    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.err()).isEqualTo("lockstep: " + address + " closed the plaintext connection during"
        + " set-up: it most likely requires TLS; drop --insecure and pass --ca, --cert and --key"
        + System.lineSeparator());
  }

  @Test
  void aCollectorCertificateFromAnotherCaIsRefusedInOneLine() throws Exception {
    Path other = dir.resolve("other");
    assertThat(Cli.run("certs", "init", "--dir", other.toString()).exitCode()).isZero();

    Cli.Result r = Cli.run("status", "--collector", address, "--ca", other.resolve("ca.pem").toString(),
        "--cert", certs.resolve("alice.pem").toString(), "--key", certs.resolve("alice-key.pem").toString());

    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.err()).isEqualTo("lockstep: the certificate of " + address
        + " is not signed by our --ca (different CA)" + System.lineSeparator());
  }

  @Test
  void aClientCertificateFromAnUnknownCaIsRefusedAndAudited() throws Exception {
    Path other = dir.resolve("other");
    assertThat(Cli.run("certs", "init", "--dir", other.toString(), "--operators", "mallory").exitCode()).isZero();

    Cli.Result r = Cli.run("stop", "enable", "--reason", "x", "--collector", address,
        "--ca", certs.resolve("ca.pem").toString(), "--cert", other.resolve("mallory.pem").toString(),
        "--key", other.resolve("mallory-key.pem").toString());
    Cli.Result audit = as("alice", "audit");

    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).startsWith("lockstep: " + address + " aborted the TLS handshake");
    assertThat(collector.fleet().orders()).isEmpty();
    assertThat(audit.out()).contains("TlsHandshake").contains("mallory").contains("DENIED");
  }

  @Test
  void aCertificateWithoutItsKeyIsAUsageError() {
    Cli.Result r = Cli.run("status", "--collector", address, "--ca", certs.resolve("ca.pem").toString(),
        "--cert", certs.resolve("alice.pem").toString());

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("lockstep: no TLS configured: missing --key");
  }

  @Test
  void anUnreadableKeyFileIsAUsageErrorNamingIt() throws Exception {
    Path broken = dir.resolve("broken-key.pem");
    Files.writeString(broken, "not a key");
    Cli.Result r = Cli.run("status", "--collector", address, "--ca", certs.resolve("ca.pem").toString(),
        "--cert", certs.resolve("alice.pem").toString(), "--key", broken.toString());

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("broken-key.pem");
    assertThat(r.err().strip().lines()).hasSize(1);
  }
}
