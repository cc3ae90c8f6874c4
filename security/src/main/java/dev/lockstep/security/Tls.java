package dev.lockstep.security;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509TrustManager.Verification;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;

/**
 * gRPC mTLS credentials built from PEM files, for {@code Grpc.newServerBuilderForPort(port,
 * creds)} and {@code Grpc.newChannelBuilder(target, creds)}.
 *
 * <p>Servers require a client certificate chaining to the CA file (any name; roles are then read
 * by {@link IdentityInterceptor}). Clients verify the server's certificate against the CA file
 * and the host name they dial (the collector certificate's SANs). With a reloader, the three
 * files are re-read every {@code reloadEvery} and a changed set is used for new connections, so
 * certificates rotate without a restart; the reload task lives until the reloader executor is
 * shut down by its owner.
 */
public final class Tls {
  private Tls() { }

  /** Server credentials from {@code files}, loaded once. */
  public static ServerCredentials serverCredentials(TlsFiles files) throws SecuritySetupException {
    return server(ReloadingCredentials.load(files, Verification.CERTIFICATE_ONLY_VERIFICATION));
  }

  /** Server credentials from {@code files}, re-read every {@code reloadEvery} on {@code reloader}. */
  public static ServerCredentials serverCredentials(TlsFiles files,
      ScheduledExecutorService reloader, Duration reloadEvery) throws SecuritySetupException {
    ReloadingCredentials credentials =
        ReloadingCredentials.load(files, Verification.CERTIFICATE_ONLY_VERIFICATION);
    credentials.reloadEvery(reloader, reloadEvery);
    return server(credentials);
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
        + " the collector's port can stop the fleet, forge agents' events and read evidence; use --insecure"
        + " only on a trusted single machine";
  }

  static ServerCredentials server(ReloadingCredentials credentials) {
    return TlsServerCredentials.newBuilder()
        .keyManager(credentials.keyManager)
        .trustManager(credentials.trustManager)
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
        .build();
  }

  static ChannelCredentials channel(ReloadingCredentials credentials) {
    return TlsChannelCredentials.newBuilder()
        .keyManager(credentials.keyManager)
        .trustManager(credentials.trustManager)
        .build();
  }
}
