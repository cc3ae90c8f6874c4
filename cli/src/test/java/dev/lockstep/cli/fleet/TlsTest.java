package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.proto.v1.FleetStatus;
import io.grpc.TlsServerCredentials;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS flags against an mTLS Operator server (the collector serves plaintext until the
 * security issue lands): a CA to verify the server, a client certificate the server requires.
 */
class TlsTest {
  @TempDir Path dir;
  FakeOperator server;
  Path ca;
  Path otherCa;
  Path clientCert;
  Path clientKey;

  @BeforeEach
  void start() throws Exception {
    Pki pki = new Pki("lockstep-test-ca");
    ca = pem(dir.resolve("ca.pem"), "CERTIFICATE", pki.caCert.getEncoded());
    KeyPair serverKeys = Pki.keys();
    X509CertificateHolder serverCert = pki.issue("collector", serverKeys, KeyPurposeId.id_kp_serverAuth, true);
    Path serverCertFile = pem(dir.resolve("server.pem"), "CERTIFICATE", serverCert.getEncoded());
    Path serverKeyFile = key(dir.resolve("server.key"), serverKeys.getPrivate());
    KeyPair clientKeys = Pki.keys();
    clientCert = pem(dir.resolve("alice.pem"), "CERTIFICATE", pki.issue("operator-alice", clientKeys, KeyPurposeId.id_kp_clientAuth, false).getEncoded());
    clientKey = key(dir.resolve("alice.key"), clientKeys.getPrivate());
    otherCa = pem(dir.resolve("other-ca.pem"), "CERTIFICATE", new Pki("someone-else").caCert.getEncoded());
    server = new FakeOperator(TlsServerCredentials.newBuilder()
        .keyManager(serverCertFile.toFile(), serverKeyFile.toFile())
        .trustManager(ca.toFile())
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
        .build());
    server.status = FleetStatus.newBuilder().setAgentsConnected(7).build();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  @Test
  void mutualTlsWithTheRightCaAndClientCertificateWorks() {
    Cli.Result r = Cli.run("status", "--collector", server.address(), "--ca", ca.toString(),
        "--cert", clientCert.toString(), "--key", clientKey.toString());

    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("7 connected");
  }

  @Test
  void aServerCertificateFromAnotherCaIsRefusedInOneLine() {
    Cli.Result r = Cli.run("status", "--collector", server.address(), "--ca", otherCa.toString(),
        "--cert", clientCert.toString(), "--key", clientKey.toString());

    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.err()).startsWith("lockstep: cannot reach collector at " + server.address() + " (TLS handshake failed")
        .hasLineCount(1);
  }

  @Test
  void withoutAClientCertificateTheServerRefusesTheCall() {
    Cli.Result r = Cli.run("status", "--collector", server.address(), "--ca", ca.toString());

    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.err()).startsWith("lockstep: ").hasLineCount(1);
  }

  @Test
  void aCertificateWithoutItsKeyIsAUsageError() {
    Cli.Result r = Cli.run("status", "--collector", server.address(), "--ca", ca.toString(), "--cert", clientCert.toString());

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("lockstep: --cert and --key must be given together");
  }

  static Path pem(Path file, String type, byte[] der) throws Exception {
    String body = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der);
    Files.writeString(file, "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n");
    return file;
  }

  static Path key(Path file, PrivateKey key) throws Exception {
    return pem(file, "PRIVATE KEY", key.getEncoded()); // PKCS#8
  }

  /** A throwaway CA issuing EC certificates for 127.0.0.1. */
  static final class Pki {
    final KeyPair caKeys = keys();
    final X500Name caName;
    final X509CertificateHolder caCert;
    private long serial = 1;

    Pki(String name) throws Exception {
      caName = new X500Name("CN=" + name);
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caName, BigInteger.valueOf(serial++),
          from(), until(), caName, caKeys.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      caCert = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate()));
    }

    X509CertificateHolder issue(String cn, KeyPair keys, KeyPurposeId purpose, boolean server) throws Exception {
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caName, BigInteger.valueOf(++serial),
          from(), until(), new X500Name("CN=" + cn), keys.getPublic());
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
      if (server) {
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
          new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
      }
      return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate()));
    }

    static KeyPair keys() throws Exception {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(256);
      return g.generateKeyPair();
    }

    private static Date from() {
      return Date.from(Instant.now().minus(1, ChronoUnit.HOURS));
    }

    private static Date until() {
      return Date.from(Instant.now().plus(1, ChronoUnit.DAYS));
    }
  }
}
