package dev.lockstep.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A collector-like mTLS server with a CRL: revoked agents are refused at the handshake and audited. */
class RevocationTest {
  @TempDir Path tmp;
  CertsInit.Result pki;
  final ConcurrentLinkedQueue<AuditEntry> audited = new ConcurrentLinkedQueue<>();
  final List<ManagedChannel> channels = new ArrayList<>();
  ScheduledExecutorService reloader;
  Server server;
  RevocationList crl;

  @BeforeEach
  void startServer() throws Exception {
    pki = CertsInit.run(tmp.resolve("pki"), List.of("h1", "h2"), List.of("alice"), List.of(), List.of(),
        Duration.ofDays(1));
    crl = RevocationList.load(pki.dir().resolve(CertsDirectory.CRL_FILE), pki.caCert());
    reloader = Executors.newSingleThreadScheduledExecutor();
    AuditSink sink = audited::add;
    server = Grpc.newServerBuilderForPort(0, Tls.serverCredentials(pki.tlsFilesFor("collector"), crl,
            reloader, Duration.ofMillis(100), sink, Clock.systemUTC()))
        .addService(new ProbeService(new Authorizer(sink, Clock.systemUTC())).definition())
        .intercept(IdentityInterceptor.mtls(sink, Clock.systemUTC()))
        .build()
        .start();
  }

  @AfterEach
  void stop() throws InterruptedException {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    reloader.shutdownNow();
  }

  String callAs(String name) throws Exception {
    // A new channel per call: revocation applies to new handshakes.
    ManagedChannel channel = Grpc.newChannelBuilderForAddress("localhost", server.getPort(),
        Tls.channelCredentials(pki.tlsFilesFor(name))).build();
    channels.add(channel);
    return ProbeService.call(channel, ProbeService.WHO_AM_I, "");
  }

  static int revoke(Path dir, String... names) {
    List<String> args = new ArrayList<>(List.of("--dir", dir.toString()));
    args.addAll(List.of(names));
    return new CommandLine(new CertsRevokeCommand()).setOut(new PrintWriter(new StringWriter()))
        .execute(args.toArray(new String[0]));
  }

  @Test
  void certsInitWritesAnEmptyCrlThatTheServerAccepts() throws Exception {
    assertThat(crl.revokedCount()).isZero();
    assertThat(callAs("h1")).startsWith("h1|agent|true|");
    assertThat(callAs("h2")).startsWith("h2|agent|true|");
  }

  @Test
  void aRevokedAgentIsRefusedAtTheNextReloadAndEveryAttemptIsAudited() throws Exception {
    assertThat(callAs("h2")).startsWith("h2|agent|true|");

    assertThat(revoke(pki.dir(), "h2")).isZero();
    Eventually.await(Duration.ofSeconds(10), "CRL reloaded", () -> crl.revokedCount() == 1);

    assertThatThrownBy(() -> callAs("h2")).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(callAs("h1")).as("others still get in").startsWith("h1|agent|true|");
    assertThat(audited).filteredOn(a -> a.action().equals("TlsHandshake")).singleElement()
        .satisfies(a -> {
          assertThat(a.outcome()).isEqualTo(AuditEntry.Outcome.REFUSED);
          assertThat(a.who()).contains("CN=h2");
          assertThat(a.detail()).contains("was revoked on", "CRL " + pki.dir().resolve("crl.pem"));
        });
  }

  @Test
  void revokingAgainKeepsEarlierEntriesAndARenewedCertificateIsNotRevoked() throws Exception {
    assertThat(revoke(pki.dir(), "h1")).isZero();
    assertThat(revoke(pki.dir(), "h2")).isZero();
    Eventually.await(Duration.ofSeconds(10), "CRL reloaded", () -> crl.revokedCount() == 2);
    assertThatThrownBy(() -> callAs("h1")).isInstanceOf(StatusRuntimeException.class);

    CertsDirectory.renew(pki.dir(), "h1", Duration.ofDays(30), Clock.systemUTC());
    assertThat(callAs("h1")).as("a new certificate has a new serial").startsWith("h1|agent|true|");
    assertThatThrownBy(() -> callAs("h2")).isInstanceOf(StatusRuntimeException.class);
  }

  @Test
  void aCorruptCrlFileKeepsThePreviousListInForce() throws Exception {
    assertThat(revoke(pki.dir(), "h2")).isZero();
    Eventually.await(Duration.ofSeconds(10), "CRL reloaded", () -> crl.revokedCount() == 1);

    Files.writeString(pki.dir().resolve("crl.pem"), "-----BEGIN X509 CRL-----\nhalf\n");
    assertThatThrownBy(crl::reload).isInstanceOf(SecuritySetupException.class)
        .hasMessageContaining("CRL file " + pki.dir().resolve("crl.pem") + ": not an X.509 CRL");
    assertThat(crl.revokedCount()).isEqualTo(1);
    assertThatThrownBy(() -> callAs("h2")).isInstanceOf(StatusRuntimeException.class);
  }

  @Test
  void aCrlSignedByAnotherCaIsRefusedWithTheFileNamed() throws Exception {
    CertsInit.Result other = CertsInit.run(tmp.resolve("other"), List.of("h1"), List.of(), List.of(),
        List.of(), Duration.ofDays(1));
    assertThatThrownBy(() -> RevocationList.load(other.dir().resolve("crl.pem"), pki.caCert()))
        .isInstanceOf(SecuritySetupException.class)
        .hasMessageContaining("CRL file " + other.dir().resolve("crl.pem") + ": issued by")
        .hasMessageContaining("which is not a CA in " + pki.caCert());
    assertThatThrownBy(() -> RevocationList.load(tmp.resolve("missing.pem"), pki.caCert()))
        .hasMessage("CRL file " + tmp.resolve("missing.pem") + ": no such file");
  }

  @Test
  void revokeNamesWhatIsMissing() {
    StringWriter err = new StringWriter();
    int exit = new CommandLine(new CertsRevokeCommand()).setErr(new PrintWriter(err))
        .execute("--dir", pki.dir().toString(), "nobody");
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString().strip()).isEqualTo("lockstep certs revoke: no certificate for \"nobody\": "
        + pki.dir().resolve("nobody.pem") + " does not exist");
  }
}
