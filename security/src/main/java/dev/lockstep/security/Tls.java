package dev.lockstep.security;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509TrustManager.Verification;
import java.net.ConnectException;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateExpiredException;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * gRPC mTLS credentials built from PEM files, for {@code Grpc.newServerBuilderForPort(port,
 * creds)} and {@code Grpc.newChannelBuilder(target, creds)}, and the messages that go with them.
 *
 * <p>Servers require a client certificate chaining to the CA file (roles are then read by
 * {@link IdentityInterceptor}), or with {@link ClientCertificate#OPTIONAL} accept a handshake
 * without one — a certificate that IS presented is still verified and refused when bad — and leave
 * the refusal to {@link IdentityInterceptor} on every service that needs an identity (so health
 * checks can run without a certificate). Clients verify the server's certificate against the CA file and
 * the host name they dial (the collector certificate's SANs). With a reloader, the three files are
 * re-read every {@code reloadEvery} and a changed, consistent set is used for new connections, so
 * certificates rotate without a restart; the reload task lives until the owner of the reloader
 * executor shuts it down. All factory methods fail at start-up only, with a
 * {@link SecuritySetupException} naming the bad file.
 */
public final class Tls {
  private Tls() { }

  /** Whether a server's TLS handshake demands a client certificate. */
  public enum ClientCertificate { REQUIRED, OPTIONAL }

  /** Server credentials from {@code files}, loaded once. */
  public static ServerCredentials serverCredentials(TlsFiles files) throws SecuritySetupException {
    return server(ReloadingCredentials.load(files, Verification.CERTIFICATE_ONLY_VERIFICATION),
        AuditSink.NONE, Clock.systemUTC());
  }

  /** Server credentials from {@code files}, re-read every {@code reloadEvery} on {@code reloader}. */
  public static ServerCredentials serverCredentials(TlsFiles files,
      ScheduledExecutorService reloader, Duration reloadEvery) throws SecuritySetupException {
    return serverCredentials(files, reloader, reloadEvery, AuditSink.NONE, Clock.systemUTC());
  }

  /**
   * As {@link #serverCredentials(TlsFiles, ScheduledExecutorService, Duration)}, and every client
   * certificate refused during the TLS handshake (unknown CA, expired, not for client auth) is
   * recorded in {@code refusals} as action {@code TlsHandshake}, outcome REFUSED. Such callers
   * never reach a gRPC interceptor, so this is the only trace they leave.
   */
  public static ServerCredentials serverCredentials(TlsFiles files,
      ScheduledExecutorService reloader, Duration reloadEvery, AuditSink refusals, Clock clock)
      throws SecuritySetupException {
    return serverCredentials(files, RevocationList.NONE, reloader, reloadEvery, refusals, clock);
  }

  /**
   * As {@link #serverCredentials(TlsFiles, ScheduledExecutorService, Duration, AuditSink, Clock)},
   * and a client certificate listed in {@code revocations} (reloaded on {@code reloader} too) is
   * refused during the handshake and audited like any other refused certificate.
   */
  public static ServerCredentials serverCredentials(TlsFiles files, RevocationList revocations,
      ScheduledExecutorService reloader, Duration reloadEvery, AuditSink refusals, Clock clock)
      throws SecuritySetupException {
    return serverCredentials(files, revocations, reloader, reloadEvery, refusals, clock,
        ClientCertificate.REQUIRED);
  }

  /**
   * As {@link #serverCredentials(TlsFiles, RevocationList, ScheduledExecutorService, Duration,
   * AuditSink, Clock)}; with {@link ClientCertificate#OPTIONAL} a client without a certificate
   * completes the handshake, and every service it may not reach must be behind
   * {@link IdentityInterceptor#mtls}.
   */
  public static ServerCredentials serverCredentials(TlsFiles files, RevocationList revocations,
      ScheduledExecutorService reloader, Duration reloadEvery, AuditSink refusals, Clock clock,
      ClientCertificate clientCertificate) throws SecuritySetupException {
    ReloadingCredentials credentials =
        ReloadingCredentials.load(files, Verification.CERTIFICATE_ONLY_VERIFICATION);
    credentials.reloadEvery(reloader, reloadEvery);
    revocations.reloadEvery(reloader, reloadEvery);
    return server(credentials, revocations, refusals, clock, clientCertificate);
  }

  /**
   * An SSLContext for an HTTPS server (the collector's web console) with the gRPC server's trust:
   * its certificate and key from {@code files} and client certificates checked against the same
   * CA and {@code revocations}, all re-read every {@code reloadEvery} on {@code reloader}; every
   * client certificate refused in a handshake is audited in {@code refusals} as action
   * {@code TlsHandshake}. Whether a client certificate is asked for is the server's
   * {@code SSLParameters} choice.
   */
  public static SSLContext httpsServerContext(TlsFiles files, RevocationList revocations,
      ScheduledExecutorService reloader, Duration reloadEvery, AuditSink refusals, Clock clock)
      throws SecuritySetupException {
    ReloadingCredentials credentials =
        ReloadingCredentials.load(files, Verification.CERTIFICATE_ONLY_VERIFICATION);
    credentials.reloadEvery(reloader, reloadEvery);
    revocations.reloadEvery(reloader, reloadEvery);
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(new KeyManager[] {credentials.keyManager},
          new TrustManager[] {new RefusalAuditingTrustManager(credentials.trustManager, revocations,
              refusals, clock)}, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new SecuritySetupException("cannot create an HTTPS TLS context: " + e.getMessage(), e);
    }
  }

  /** Client credentials from {@code files}, loaded once (the CLI's short-lived channel). */
  public static ChannelCredentials channelCredentials(TlsFiles files) throws SecuritySetupException {
    return channel(ReloadingCredentials.load(files, Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION));
  }

  /** Client credentials from {@code files}, re-read every {@code reloadEvery} on {@code reloader}. */
  public static ChannelCredentials channelCredentials(TlsFiles files,
      ScheduledExecutorService reloader, Duration reloadEvery) throws SecuritySetupException {
    ReloadingCredentials credentials =
        ReloadingCredentials.load(files, Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION);
    credentials.reloadEvery(reloader, reloadEvery);
    return channel(credentials);
  }

  /**
   * The one-line warning to print (stderr and log) when {@code component} runs in plaintext:
   * {@code WARNING: lockstep-collector is running WITHOUT TLS (--insecure): ...}.
   */
  public static String insecureWarning(String component) {
    return "WARNING: " + component + " is running WITHOUT TLS (--insecure): anyone who can reach"
        + " the collector's port can stop the fleet, forge agents' events and read evidence; use"
        + " --insecure only on a trusted single machine";
  }

  /**
   * A one-line explanation of why a call to {@code target} failed, for the CLI and the agent's
   * log: turns grpc's "io exception" / "ssl exception" / "Network closed for unknown reason"
   * into the TLS cause (plaintext against TLS, unknown CA, host name not in the certificate,
   * missing client certificate, expired certificate, nothing listening). Other statuses are
   * returned as {@code CODE: description}.
   *
   * @param insecure whether this side dialled in plaintext ({@code --insecure})
   */
  public static String explain(Status status, String target, boolean insecure) {
    StringBuilder causes = new StringBuilder();
    boolean expired = false;
    boolean refused = false;
    for (Throwable t = status.getCause(); t != null; t = t.getCause() == t ? null : t.getCause()) {
      causes.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append('\n');
      expired |= t instanceof CertificateExpiredException;
      refused |= t instanceof ConnectException;
    }
    String all = causes.toString();
    String lower = all.toLowerCase(Locale.ROOT);
    String description = status.getDescription() == null ? "" : status.getDescription();
    if (status.getCode() != Status.Code.UNAVAILABLE) {
      return status.getCode() + ": " + description;
    }
    if (refused) {
      return "cannot reach " + target + ": connection refused (nothing listening there?)";
    }
    if (all.contains("NotSslRecordException")) {
      return target + " does not speak TLS (a plaintext server started with --insecure?);"
          + " use TLS on both sides, or --insecure on both sides";
    }
    // a TLS server closes a plaintext connection during set-up; the client sees that as a close
    // or, when its bytes were still unread there, as a reset
    if (insecure && (description.contains("Network closed") || lower.contains("connection reset"))) {
      return target + " closed the plaintext connection during set-up: it most likely requires"
          + " TLS; drop --insecure and pass --ca, --cert and --key";
    }
    if (lower.contains("certificate_required")) {
      return target + " requires a client certificate (mTLS); pass --cert and --key";
    }
    if (expired || lower.contains("certificate_expired") || lower.contains("certificateexpired")
        || lower.contains("validity check failed")) {
      return "a certificate has expired on the way to " + target + "; reissue it (lockstep certs"
          + " init) and let it reload: " + rootCause(all);
    }
    if (lower.contains("subject alternative names") || lower.contains("no name matching")) {
      return "the certificate of " + target + " does not name the host dialled; reissue it with"
          + " --collector-hosts, or dial a name it lists: " + firstMatching(all, "alternative names");
    }
    if (lower.contains("unable to find valid certification path")) {
      return "the certificate of " + target + " is not signed by our --ca (different CA)";
    }
    if (lower.contains("alert_internal_error") || lower.contains("unknown_ca")
        || lower.contains("bad_certificate") || lower.contains("certificate_unknown")) {
      return target + " aborted the TLS handshake: it most likely does not trust our client"
          + " certificate (signed by another CA, expired, or not for client auth); see the"
          + " collector's audit log";
    }
    return "cannot reach " + target + ": " + status.getCode() + ": " + description
        + (all.isEmpty() ? "" : " (" + rootCause(all) + ")");
  }

  private static String rootCause(String causes) {
    String[] lines = causes.split("\n");
    return lines.length == 0 ? "" : lines[lines.length - 1];
  }

  private static String firstMatching(String causes, String needle) {
    for (String line : causes.split("\n")) {
      if (line.contains(needle)) {
        return line.replaceFirst("^[A-Za-z]+: ", "");
      }
    }
    return rootCause(causes);
  }

  static ServerCredentials server(ReloadingCredentials credentials, AuditSink refusals, Clock clock) {
    return server(credentials, RevocationList.NONE, refusals, clock, ClientCertificate.REQUIRED);
  }

  static ServerCredentials server(ReloadingCredentials credentials, RevocationList revocations,
      AuditSink refusals, Clock clock, ClientCertificate clientCertificate) {
    return TlsServerCredentials.newBuilder()
        .keyManager(credentials.keyManager)
        .trustManager(new RefusalAuditingTrustManager(credentials.trustManager, revocations,
            refusals, clock))
        .clientAuth(clientCertificate == ClientCertificate.OPTIONAL
            ? TlsServerCredentials.ClientAuth.OPTIONAL : TlsServerCredentials.ClientAuth.REQUIRE)
        .build();
  }

  static ChannelCredentials channel(ReloadingCredentials credentials) {
    return TlsChannelCredentials.newBuilder()
        .keyManager(credentials.keyManager)
        .trustManager(credentials.trustManager)
        .build();
  }
}
