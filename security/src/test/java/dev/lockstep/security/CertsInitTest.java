package dev.lockstep.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CertsInitTest {
  @TempDir
  Path dir;

  static X509Certificate certificate(Path file) throws Exception {
    return Pem.certificates(Files.readAllBytes(file), file, "cert").get(0);
  }

  static List<String> sans(X509Certificate certificate) throws Exception {
    List<String> out = new ArrayList<>();
    Collection<List<?>> names = certificate.getSubjectAlternativeNames();
    if (names != null) {
      names.forEach(name -> out.add(String.valueOf(name.get(1))));
    }
    return out;
  }

  @Test
  void writesACaAndOneCertificatePerNameWithItsRole() throws Exception {
    CertsInit.Result result = CertsInit.run(dir, List.of("h1", "h2"), List.of("alice"),
        List.of("bob"), List.of("collector.example", "10.0.0.5"), Duration.ofDays(30));

    assertThat(result.caCreated()).isTrue();
    assertThat(result.issued()).extracting(CertsInit.Issued::name)
        .containsExactly("collector", "h1", "h2", "alice", "bob");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(
          "ca.pem", "ca-key.pem", "collector.pem", "collector-key.pem", "h1.pem", "h1-key.pem",
          "h2.pem", "h2-key.pem", "alice.pem", "alice-key.pem", "bob.pem", "bob-key.pem", "crl.pem");
    }
    X509Certificate ca = certificate(result.caCert());
    for (CertsInit.Issued issued : result.issued()) {
      X509Certificate leaf = certificate(issued.cert());
      leaf.verify(ca.getPublicKey());
      List<String> problems = new ArrayList<>();
      assertThat(Identity.fromCertificate(leaf, problems))
          .contains(Identity.of(issued.name(), issued.role()));
      assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    }
    assertThat(certificate(result.tlsFilesFor("h1").cert()).getExtendedKeyUsage())
        .containsExactly("1.3.6.1.5.5.7.3.2");
    X509Certificate collector = certificate(result.tlsFilesFor("collector").cert());
    assertThat(collector.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1");
    assertThat(sans(collector)).contains("localhost", "127.0.0.1", "collector.example", "10.0.0.5");
    assertThat(ca.getBasicConstraints()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void privateKeysArePkcs8AndReadableOnlyByTheOwner() throws Exception {
    CertsInit.Result result = CertsInit.run(dir, List.of("h1"), List.of(), List.of(), List.of(), Duration.ofDays(1));

    for (Path key : List.of(result.caKey(), result.tlsFilesFor("h1").key(), result.tlsFilesFor("collector").key())) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
      assertThat(Files.readString(key)).startsWith("-----BEGIN PRIVATE KEY-----");
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(result.caCert()))).isEqualTo("rw-r--r--");
  }

  @Test
  void runningAgainReusesTheCaAndAddsCertificates() throws Exception {
    CertsInit.Result first = CertsInit.run(dir, List.of("h1"), List.of(), List.of(), List.of(), Duration.ofDays(1));
    String ca = Files.readString(first.caCert());

    CertsInit.Result second = CertsInit.run(dir, List.of("h3"), List.of(), List.of(), List.of(), Duration.ofDays(1));

    assertThat(second.caCreated()).isFalse();
    assertThat(Files.readString(second.caCert())).isEqualTo(ca);
    certificate(second.tlsFilesFor("h3").cert()).verify(certificate(first.caCert()).getPublicKey());
    assertThat(second.describe().get(0)).startsWith("reused CA");
  }

  @Test
  void leavesNeverOutliveTheCa() throws Exception {
    Clock now = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    CertsInit.Result result = CertsInit.run(dir, List.of("h1"), List.of(), List.of(), List.of(),
        Duration.ofDays(20000), now);

    X509Certificate ca = certificate(result.caCert());
    X509Certificate leaf = certificate(result.tlsFilesFor("h1").cert());
    assertThat(leaf.getNotAfter()).isBeforeOrEqualTo(ca.getNotAfter());
    assertThat(leaf.getNotBefore().toInstant()).isEqualTo(Instant.parse("2025-12-31T23:55:00Z"));
  }

  @Test
  void badNamesAreRefusedWithTheOptionNamed() {
    assertThatThrownBy(() -> CertsInit.run(dir, List.of("../etc"), List.of(), List.of(), List.of(), Duration.ofDays(1)))
        .isInstanceOf(SecuritySetupException.class).hasMessageStartingWith("--agents: \"../etc\" is not a valid name");
    assertThatThrownBy(() -> CertsInit.run(dir, List.of("h1"), List.of("h1"), List.of(), List.of(), Duration.ofDays(1)))
        .isInstanceOf(SecuritySetupException.class).hasMessageStartingWith("--operators: \"h1\" is given twice");
    assertThatThrownBy(() -> CertsInit.run(dir, List.of(), List.of(), List.of("ca"), List.of(), Duration.ofDays(1)))
        .isInstanceOf(SecuritySetupException.class).hasMessageStartingWith("--viewers: \"ca\" is reserved");
    assertThatThrownBy(() -> CertsInit.run(dir, List.of("h1-key"), List.of(), List.of(), List.of(), Duration.ofDays(1)))
        .isInstanceOf(SecuritySetupException.class).hasMessageContaining("reserved");
    assertThatThrownBy(() -> CertsInit.run(dir, List.of(), List.of(), List.of(), List.of("a b"), Duration.ofDays(1)))
        .isInstanceOf(SecuritySetupException.class).hasMessageStartingWith("--collector-hosts: \"a b\"");
  }

  @Test
  void aLoneCaKeyIsNotSilentlyReplaced() throws Exception {
    Files.writeString(dir.resolve("ca-key.pem"), "precious");
    assertThatThrownBy(() -> CertsInit.run(dir, List.of("h1"), List.of(), List.of(), List.of(), Duration.ofDays(1)))
        .isInstanceOf(SecuritySetupException.class).hasMessageContaining("holds only one of ca.pem and ca-key.pem");
    assertThat(Files.readString(dir.resolve("ca-key.pem"))).isEqualTo("precious");
  }

  @Test
  void theCommandPrintsWhatItWroteAndExitsZero() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine command = new CommandLine(new CertsInitCommand())
        .setOut(new PrintWriter(out)).setErr(new PrintWriter(err));

    int exit = command.execute("--dir", dir.toString(), "--agents", "h1,h2", "--operators", "alice",
        "--viewers", "bob");

    assertThat(exit).isZero();
    assertThat(out.toString()).contains("created CA", "CN=h2, OU=agent", "CN=alice, OU=operator",
        "CN=bob, OU=viewer", "CN=collector, OU=collector");
    assertThat(Files.exists(dir.resolve("bob-key.pem"))).isTrue();
  }

  @Test
  void theCommandReportsABadNameOnOneLineAndExitsOne() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = new CommandLine(new CertsInitCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
        .execute("--dir", dir.toString(), "--agents", "h 1");

    assertThat(exit).isEqualTo(1);
    assertThat(err.toString().strip()).isEqualTo("lockstep certs init: --agents: \"h 1\" is not a valid name"
        + " (letters, digits, . _ @ -, starting with a letter or digit, at most 128)");
  }
}
