package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.Agent;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.AgentGatewayGrpc;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.Hello;
import dev.lockstep.proto.v1.ListAuditRequest;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.StatusRequest;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.stub.StreamObserver;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** mTLS: the client certificate's CN is the caller; an agent may only say Hello as itself. */
class TlsTest {
  @TempDir Path dir;
  KeyPair caKeys;
  X500Name caName = new X500Name("CN=lockstep-test-ca");
  long serial = 1;
  Path ca;
  Collector collector;
  final List<ManagedChannel> channels = new ArrayList<>();

  static KeyPair keys() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    return g.generateKeyPair();
  }

  Path pem(String name, String type, byte[] der) throws Exception {
    Path f = dir.resolve(name);
    Files.writeString(f, "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der) + "\n-----END " + type + "-----\n");
    return f;
  }

  Path[] issue(String cn, boolean server) throws Exception {
    KeyPair k = keys();
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caName, BigInteger.valueOf(++serial),
        Date.from(Instant.now().minus(1, ChronoUnit.HOURS)), Date.from(Instant.now().plus(1, ChronoUnit.DAYS)),
        new X500Name("CN=" + cn), k.getPublic());
    if (server) {
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
          new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
    }
    X509CertificateHolder cert = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate()));
    return new Path[] {pem(cn + ".pem", "CERTIFICATE", cert.getEncoded()),
        pem(cn + ".key", "PRIVATE KEY", k.getPrivate().getEncoded())};
  }

  @BeforeEach
  void start() throws Exception {
    caKeys = keys();
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caName, BigInteger.ONE,
        Date.from(Instant.now().minus(1, ChronoUnit.HOURS)), Date.from(Instant.now().plus(1, ChronoUnit.DAYS)),
        caName, caKeys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    ca = pem("ca.pem", "CERTIFICATE",
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())).getEncoded());
    Path[] server = issue("collector", true);
    collector = Collector.start(CollectorConfig.defaults(dir.resolve("data")).withListen("127.0.0.1", 0)
        .withTls(new CollectorConfig.Tls(server[0], server[1], ca)), Clock.systemUTC(), l -> { });
  }

  @AfterEach
  void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    collector.close();
  }

  ManagedChannel channel(ChannelCredentials creds) {
    ManagedChannel ch = Grpc.newChannelBuilderForAddress("127.0.0.1", collector.port(), creds).build();
    channels.add(ch);
    return ch;
  }

  ManagedChannel as(String cn) throws Exception {
    Path[] client = issue(cn, false);
    return channel(TlsChannelCredentials.newBuilder().trustManager(ca.toFile())
        .keyManager(client[0].toFile(), client[1].toFile()).build());
  }

  static Status hello(ManagedChannel ch, String agentId, List<CollectorFrame> frames) {
    Status[] status = new Status[1];
    StreamObserver<AgentFrame> out = AgentGatewayGrpc.newStub(ch).connect(new StreamObserver<>() {
      public void onNext(CollectorFrame f) { frames.add(f); }
      public void onError(Throwable t) { status[0] = Status.fromThrowable(t); }
      public void onCompleted() { status[0] = Status.OK; }
    });
    out.onNext(AgentFrame.newBuilder().setHello(Hello.newBuilder().setAgentId(agentId)).build());
    Eventually.await(Duration.ofSeconds(10), "answer", () -> status[0] != null || !frames.isEmpty());
    return status[0];
  }

  @Test
  void anAgentCertificateMaySayHelloOnlyAsItself() throws Exception {
    ManagedChannel hostA = as("host-a");
    List<CollectorFrame> frames = new CopyOnWriteArrayList<>();
    assertThat(hello(hostA, "host-a", frames)).isNull();
    assertThat(frames.get(0).hasWelcome()).isTrue();
    Status impostor = hello(as("host-a"), "host-b", new CopyOnWriteArrayList<>());
    assertThat(impostor.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
  }

  @Test
  void operatorCallsAreAuditedUnderTheCertificateName() throws Exception {
    var op = OperatorGrpc.newBlockingStub(as("operator-alice"));
    op.enableStop(EnableStopRequest.newBuilder().setReason("drill").build());
    assertThat(op.listAudit(ListAuditRequest.getDefaultInstance()).getEntriesList())
        .anySatisfy(e -> {
          assertThat(e.getAction()).isEqualTo("EnableStop");
          assertThat(e.getWho()).isEqualTo("operator-alice");
        });
  }

  @Test
  void withRolesOnlyOperatorsChangeTheFleetAndViewersOnlyRead() throws Exception {
    Path[] server = issue("collector-2", true);
    collector.close();
    collector = Collector.start(CollectorConfig.defaults(dir.resolve("data")).withListen("127.0.0.1", 0)
        .withTls(new CollectorConfig.Tls(server[0], server[1], ca, List.of("operator-alice"),
            List.of("viewer-bob"))), Clock.systemUTC(), l -> { });
    var bob = OperatorGrpc.newBlockingStub(as("viewer-bob"));
    assertThat(bob.getStatus(StatusRequest.getDefaultInstance()).getAgentsConnected()).isZero();
    org.assertj.core.api.Assertions.assertThatThrownBy(() ->
            bob.enableStop(EnableStopRequest.newBuilder().setReason("let me").build()))
        .hasMessageContaining("PERMISSION_DENIED").hasMessageContaining("needs the operator role");
    var agentCert = OperatorGrpc.newBlockingStub(as("host-a"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> agentCert.getStatus(StatusRequest.getDefaultInstance()))
        .hasMessageContaining("PERMISSION_DENIED");
    var alice = OperatorGrpc.newBlockingStub(as("operator-alice"));
    assertThat(alice.enableStop(EnableStopRequest.newBuilder().setReason("drill").build()).getState().getEpoch())
        .isEqualTo(1);
    assertThat(alice.listAudit(ListAuditRequest.getDefaultInstance()).getEntriesList())
        .anySatisfy(e -> {
          assertThat(e.getWho()).isEqualTo("viewer-bob");
          assertThat(e.getRole()).isEqualTo("viewer");
          assertThat(e.getResult()).isEqualTo("DENIED");
        })
        .anySatisfy(e -> {
          assertThat(e.getWho()).isEqualTo("operator-alice");
          assertThat(e.getRole()).isEqualTo("operator");
          assertThat(e.getResult()).isEqualTo("OK");
        });
  }

  @Test
  void plaintextAndCertificateLessClientsAreRefused() throws Exception {
    var plain = OperatorGrpc.newBlockingStub(channel(InsecureChannelCredentials.create()))
        .withDeadlineAfter(5, java.util.concurrent.TimeUnit.SECONDS);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> plain.getStatus(StatusRequest.getDefaultInstance()))
        .isInstanceOf(StatusRuntimeException.class);
    var noCert = OperatorGrpc.newBlockingStub(channel(TlsChannelCredentials.newBuilder()
        .trustManager(ca.toFile()).build())).withDeadlineAfter(5, java.util.concurrent.TimeUnit.SECONDS);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> noCert.getStatus(StatusRequest.getDefaultInstance()))
        .isInstanceOf(StatusRuntimeException.class);
  }

  @Test
  void aRealAgentConnectsOverMutualTls() throws Exception {
    Path[] agentCert = issue("w1", false);
    AgentConfig base = AgentConfig.defaults("w1", "127.0.0.1:" + collector.port(), dir.resolve("w1"));
    AgentConfig config = base.withCollector(new AgentConfig.Collector("127.0.0.1:" + collector.port(), false,
        ca, agentCert[0], agentCert[1], Duration.ofMillis(100), Duration.ofMillis(400)));
    try (Agent agent = Agent.start(config, Clock.systemUTC(), l -> { })) {
      Eventually.await(Duration.ofSeconds(10), "agent connected", () -> collector.fleet().connected("w1"));
      assertThat(collector.fleet().session("w1").orElseThrow().identity()).hasValue("w1");
    }
  }
}
