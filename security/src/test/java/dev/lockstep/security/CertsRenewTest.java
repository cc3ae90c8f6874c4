package dev.lockstep.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CertsRenewTest {
  @TempDir Path dir;

  static X509Certificate read(Path file) throws Exception {
    return Pem.certificates(Files.readAllBytes(file), file, "certificate").get(0);
  }

  @Test
  void renewKeepsNameRoleAndHostsWithANewKeyAndALaterExpiry() throws Exception {
    Clock then = Clock.fixed(Instant.now().minus(Duration.ofDays(300)), ZoneOffset.UTC);
    CertsInit.run(dir, List.of("worker-01"), List.of(), List.of(), List.of("collector.example", "10.0.0.5"),
        Duration.ofDays(310), then);
    X509Certificate oldAgent = read(dir.resolve("worker-01.pem"));
    String oldKey = Files.readString(dir.resolve("worker-01-key.pem"));

    StringWriter out = new StringWriter();
    int exit = new CommandLine(new CertsRenewCommand()).setOut(new PrintWriter(out))
        .execute("--dir", dir.toString(), "--validity-days", "90", "worker-01", "collector");

    assertThat(exit).isZero();
    assertThat(out.toString()).contains("renewed", "CN=worker-01, OU=agent", "CN=collector, OU=collector");
    X509Certificate agent = read(dir.resolve("worker-01.pem"));
    assertThat(agent.getSubjectX500Principal()).isEqualTo(oldAgent.getSubjectX500Principal());
    assertThat(agent.getSerialNumber()).isNotEqualTo(oldAgent.getSerialNumber());
    assertThat(agent.getNotAfter().toInstant()).isAfter(Instant.now().plus(Duration.ofDays(89)));
    assertThat(Files.readString(dir.resolve("worker-01-key.pem"))).isNotEqualTo(oldKey);
    assertThat(CertificateAuthority.hostNames(read(dir.resolve("collector.pem"))))
        .containsExactly("collector.example", "10.0.0.5");
    // The renewed pair loads as a consistent TLS set.
    ReloadingCredentials.load(TlsFiles.inDirectory(dir, "worker-01"),
        io.grpc.util.AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION);
  }

  @Test
  void renewingAnUnknownNameSaysWhichFileIsMissing() throws Exception {
    CertsInit.run(dir, List.of("worker-01"), List.of(), List.of(), List.of(), Duration.ofDays(1));
    StringWriter err = new StringWriter();
    int exit = new CommandLine(new CertsRenewCommand()).setErr(new PrintWriter(err))
        .execute("--dir", dir.toString(), "worker-02");
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString().strip()).isEqualTo("lockstep certs renew: no certificate for \"worker-02\": "
        + dir.resolve("worker-02.pem") + " does not exist");
  }

  @Test
  void renewWithoutACaSaysHowToMakeOne() {
    StringWriter err = new StringWriter();
    int exit = new CommandLine(new CertsRenewCommand()).setErr(new PrintWriter(err))
        .execute("--dir", dir.toString(), "worker-01");
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString()).contains("has no CA (ca.pem and ca-key.pem); make one with lockstep certs init");
  }
}
