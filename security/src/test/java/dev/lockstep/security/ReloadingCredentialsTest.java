package dev.lockstep.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.util.AdvancedTlsX509TrustManager.Verification;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Certificates and CAs rotate on disk and new connections use them, without a restart. */
class ReloadingCredentialsTest {
  @TempDir
  Path tmp;

  final ScheduledExecutorService reloader = Executors.newSingleThreadScheduledExecutor();
  final List<Server> servers = new ArrayList<>();
  final List<ManagedChannel> channels = new ArrayList<>();
  final ProbeService probe = new ProbeService(new Authorizer(AuditSink.NONE, Clock.systemUTC()));

  @AfterEach
  void closeAll() throws InterruptedException {
    for (ManagedChannel channel : channels) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (Server server : servers) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    reloader.shutdownNow();
  }

  Server start(io.grpc.ServerCredentials credentials) throws Exception {
    Server server = Grpc.newServerBuilderForPort(0, credentials)
        .addService(probe.definition())
        .intercept(IdentityInterceptor.mtls(AuditSink.NONE, Clock.systemUTC()))
        .build()
        .start();
    servers.add(server);
    return server;
  }

  /** Calls WhoAmI over a fresh connection; returns the server certificate it presented. */
  X509Certificate serverCertificateSeenBy(TlsFiles client, Server server) throws Exception {
    ProbeService.ServerCertificateRecorder recorder = new ProbeService.ServerCertificateRecorder();
    ManagedChannel channel = Grpc.newChannelBuilderForAddress("localhost", server.getPort(),
        Tls.channelCredentials(client)).intercept(recorder).build();
    channels.add(channel);
    ProbeService.call(channel, ProbeService.WHO_AM_I, "");
    return recorder.seen.get();
  }

  static BigInteger serialOf(Path certFile) throws Exception {
    return Pem.certificates(Files.readAllBytes(certFile), certFile, "cert").get(0).getSerialNumber();
  }

  @Test
  void aRotatedServerCertificateIsPresentedOnNewConnections() throws Exception {
    Path dir = tmp.resolve("pki");
    CertsInit.Result pki = CertsInit.run(dir, List.of(), List.of("alice"), List.of(), List.of(), Duration.ofDays(1));
    Server server = start(Tls.serverCredentials(pki.tlsFilesFor("collector"), reloader, Duration.ofMillis(50)));
    BigInteger before = serialOf(pki.tlsFilesFor("collector").cert());
    assertThat(serverCertificateSeenBy(pki.tlsFilesFor("alice"), server).getSerialNumber()).isEqualTo(before);

    CertsInit.run(dir, List.of(), List.of(), List.of(), List.of("collector.example"), Duration.ofDays(2));
    BigInteger after = serialOf(pki.tlsFilesFor("collector").cert());
    assertThat(after).isNotEqualTo(before);

    Eventually.await(Duration.ofSeconds(10), "new connections see the rotated certificate", () -> {
      try {
        return serverCertificateSeenBy(pki.tlsFilesFor("alice"), server).getSerialNumber().equals(after);
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
  }

  @Test
  void aCaAddedToTheServersCaFileIsTrustedWithoutRestart() throws Exception {
    CertsInit.Result pki = CertsInit.run(tmp.resolve("pki"), List.of(), List.of(), List.of(), List.of(), Duration.ofDays(1));
    CertsInit.Result newPki = CertsInit.run(tmp.resolve("new-pki"), List.of("h9"), List.of(), List.of(), List.of(), Duration.ofDays(1));
    Path serverCa = tmp.resolve("server-ca.pem");
    Files.copy(pki.caCert(), serverCa);
    TlsFiles serverFiles = new TlsFiles(serverCa, pki.tlsFilesFor("collector").cert(), pki.tlsFilesFor("collector").key());
    Server server = start(Tls.serverCredentials(serverFiles, reloader, Duration.ofMillis(50)));
    TlsFiles newAgent = new TlsFiles(pki.caCert(), newPki.tlsFilesFor("h9").cert(), newPki.tlsFilesFor("h9").key());
    assertThatThrownBy(() -> serverCertificateSeenBy(newAgent, server)).isInstanceOf(StatusRuntimeException.class);

    Pem.writeAtomically(serverCa, Files.readString(pki.caCert()) + Files.readString(newPki.caCert()), false);

    Eventually.await(Duration.ofSeconds(10), "the new CA's agent is let in", () -> {
      try {
        serverCertificateSeenBy(newAgent, server);
        return true;
      } catch (StatusRuntimeException e) {
        return false;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
  }

  @Test
  void aBrokenOrMismatchedSetOnDiskKeepsThePreviousCredentials() throws Exception {
    CertsInit.Result pki = CertsInit.run(tmp.resolve("pki"), List.of("h1", "h2"), List.of("alice"), List.of(), List.of(), Duration.ofDays(1));
    TlsFiles collector = pki.tlsFilesFor("collector");
    ReloadingCredentials credentials = ReloadingCredentials.load(collector, Verification.CERTIFICATE_ONLY_VERIFICATION);
    Server server = start(Tls.server(credentials, AuditSink.NONE, Clock.systemUTC()));
    BigInteger original = serialOf(collector.cert());
    String goodCert = Files.readString(collector.cert());

    Files.writeString(collector.cert(), "-----BEGIN CERTIFICATE-----\nnot base64 at all\n");
    assertThatThrownBy(credentials::reload)
        .isInstanceOf(SecuritySetupException.class)
        .hasMessageStartingWith("certificate " + collector.cert() + ": not a valid PEM certificate file");
    assertThat(serverCertificateSeenBy(pki.tlsFilesFor("alice"), server).getSerialNumber()).isEqualTo(original);

    Files.writeString(collector.cert(), Files.readString(pki.tlsFilesFor("h1").cert()));
    assertThatThrownBy(credentials::reload)
        .isInstanceOf(SecuritySetupException.class)
        .hasMessageContaining("does not belong to certificate");
    assertThat(serverCertificateSeenBy(pki.tlsFilesFor("alice"), server).getSerialNumber()).isEqualTo(original);

    Files.writeString(collector.cert(), goodCert);
    assertThat(credentials.reload()).as("same content as applied: nothing to do").isFalse();
  }

  @Test
  void anAgentsRotatedClientCertificateIsUsedForItsNextConnection() throws Exception {
    Path dir = tmp.resolve("pki");
    CertsInit.Result pki = CertsInit.run(dir, List.of("h1"), List.of(), List.of(), List.of(), Duration.ofDays(1));
    Server server = start(Tls.serverCredentials(pki.tlsFilesFor("collector")));
    io.grpc.ChannelCredentials agent = Tls.channelCredentials(pki.tlsFilesFor("h1"), reloader, Duration.ofMillis(50));
    // A certificate with a different name makes the rotation visible to the server.
    CertsInit.Result again = CertsInit.run(dir, List.of("h1-b"), List.of(), List.of(), List.of(), Duration.ofDays(1));
    String newCert = Files.readString(again.tlsFilesFor("h1-b").cert());
    String newKey = Files.readString(again.tlsFilesFor("h1-b").key());

    ManagedChannel first = Grpc.newChannelBuilderForAddress("localhost", server.getPort(), agent).build();
    channels.add(first);
    assertThat(ProbeService.call(first, ProbeService.WHO_AM_I, "")).startsWith("h1|agent|");

    Pem.writeAtomically(pki.tlsFilesFor("h1").key(), newKey, true);
    Pem.writeAtomically(pki.tlsFilesFor("h1").cert(), newCert, false);

    Eventually.await(Duration.ofSeconds(10), "a new connection presents the rotated certificate", () -> {
      ManagedChannel next = Grpc.newChannelBuilderForAddress("localhost", server.getPort(), agent).build();
      channels.add(next);
      return ProbeService.call(next, ProbeService.WHO_AM_I, "").startsWith("h1-b|agent|");
    });
  }
}
