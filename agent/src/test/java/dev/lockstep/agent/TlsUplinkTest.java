package dev.lockstep.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.proto.lite.v1.Event;
import io.grpc.TlsServerCredentials;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The uplink over mutual TLS: the collector's certificate is verified, the agent presents its own. */
@SuppressWarnings("try")
class TlsUplinkTest {
  @TempDir Path root;

  private record Pem(Path cert, Path key) {}

  private Pem selfSigned(String cn) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    KeyPair kp = g.generateKeyPair();
    X500Name name = new X500Name("CN=" + cn);
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(System.nanoTime()),
        Date.from(Instant.now().minus(Duration.ofDays(1))), Date.from(Instant.now().plus(Duration.ofDays(1))), name,
        kp.getPublic());
    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
        new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    X509Certificate cert = new JcaX509CertificateConverter()
        .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
    Path certFile = root.resolve(cn + ".pem");
    Path keyFile = root.resolve(cn + ".key");
    StringWriter c = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(c)) {
      w.writeObject(cert);
    }
    StringWriter k = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(k)) {
      w.writeObject(new JcaPKCS8Generator(kp.getPrivate(), null));
    }
    Files.writeString(certFile, c.toString());
    Files.writeString(keyFile, k.toString());
    return new Pem(certFile, keyFile);
  }

  /** A collector's credentials: its certificate, and the agent's required and trusted. */
  private static TlsServerCredentials mutualTls(Pem server, Pem agent) throws java.io.IOException {
    return (TlsServerCredentials) TlsServerCredentials.newBuilder()
        .keyManager(server.cert().toFile(), server.key().toFile())
        .trustManager(agent.cert().toFile())
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
        .build();
  }

  @Test
  void agentConnectsOverMutualTlsAndDeliversEvents() throws Exception {
    Pem server = selfSigned("collector");
    Pem agentCert = selfSigned("agent-tls");
    TlsServerCredentials creds = mutualTls(server, agentCert);
    try (TestGateway gateway = new TestGateway(creds)) {
      AgentConfig c = Fixtures.config("agent-tls", gateway, root)
          .withCollector(new AgentConfig.Collector(gateway.target(), false, server.cert(), agentCert.cert(),
              agentCert.key(), Duration.ofMillis(100), Duration.ofMillis(400)));
      try (Agent agent = Agent.start(c, Clock.systemUTC())) {
        GoldenFiles.writeAtomically(root.resolve("golden"), "run-tls", "primary");
        Eventually.await("delivered over TLS", () -> gateway.events("agent-tls", Event.BodyCase.GOLDEN).size() == 1);
        assertThat(agent.isConnected()).isTrue();
      }
    }
  }

  /**
   * The agent's runtime class path has no BouncyCastle (agent/pom.xml; the tests have it, for the
   * certificates above): a real agent process on the test class path without BouncyCastle's jars
   * reads its mTLS files and delivers over TLS.
   */
  @Test
  void anAgentProcessWithoutBouncyCastleOnItsClassPathConnectsOverMutualTls() throws Exception {
    Pem server = selfSigned("collector");
    Pem agentCert = selfSigned("agent-nobc");
    TlsServerCredentials creds = mutualTls(server, agentCert);
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    String withoutBc = java.util.Arrays.stream(cp.split(java.io.File.pathSeparator))
        .filter(e -> !e.contains("bouncycastle") && !e.matches(".*/bc[a-z]+-jdk\\w+-[^/]*\\.jar"))
        .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    assertThat(withoutBc).isNotEqualTo(cp);
    Path golden = Files.createDirectories(root.resolve("golden"));
    try (TestGateway gateway = new TestGateway(creds)) {
      Path config = root.resolve("agent.yaml");
      Files.writeString(config, """
          agent_id: agent-nobc
          state_dir: %s
          collector:
            address: %s
            reconnect_initial: 100ms
            reconnect_max: 400ms
            tls:
              ca_file: %s
              cert_file: %s
              key_file: %s
          golden:
            dirs: [%s]
            settle: 100ms
          metrics:
            port: 0
          """.formatted(root.resolve("state"), gateway.target(), server.cert(), agentCert.cert(), agentCert.key(),
          golden));
      Path out = root.resolve("agent.out");
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process child = new ProcessBuilder(java, "-XX:+UseSerialGC", "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", withoutBc,
          "dev.lockstep.agent.AgentMain", "--config", config.toString())
          .redirectErrorStream(true).redirectOutput(out.toFile()).start();
      try {
        GoldenFiles.writeAtomically(golden, "run-nobc", "primary");
        Eventually.await("delivered over TLS by a process without BouncyCastle: " + out, Duration.ofSeconds(30),
            () -> gateway.events("agent-nobc", Event.BodyCase.GOLDEN).size() == 1);
        assertThat(Files.readString(out)).doesNotContain("NoClassDefFoundError", "bouncycastle");
      } finally {
        child.destroyForcibly().waitFor();
      }
    }
  }

  @Test
  void agentRefusesACollectorWhoseCertificateItDoesNotTrust() throws Exception {
    Pem server = selfSigned("impostor");
    Pem trusted = selfSigned("real-collector");
    Pem agentCert = selfSigned("agent-tls");
    try (TestGateway gateway = new TestGateway(TlsServerCredentials.create(server.cert().toFile(), server.key().toFile()))) {
      AgentConfig c = Fixtures.config("agent-tls", gateway, root)
          .withCollector(new AgentConfig.Collector(gateway.target(), false, trusted.cert(), agentCert.cert(), agentCert.key(),
              Duration.ofMillis(100), Duration.ofMillis(400)));
      try (Agent agent = Agent.start(c, Clock.systemUTC())) {
        GoldenFiles.writeAtomically(root.resolve("golden"), "run-x", "primary");
        Eventually.await("spooled", () -> agent.lastSpooledSeq() >= 1);
        Eventually.holdsFor("never connected", Duration.ofMillis(800), () -> !agent.isConnected());
        assertThat(gateway.hellos()).isEmpty();
      }
    }
  }
}
