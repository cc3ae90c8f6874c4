package dev.lockstep.security;

import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A key manager and a trust manager fed from one {@link TlsFiles}, re-read on a schedule. New
 * files take effect for new handshakes; established connections keep what they negotiated.
 *
 * <p>Invariant: the managers only ever hold a complete, consistent set (certificate chain, the
 * key that belongs to it, at least one CA). A set that fails to parse or match (a half-finished
 * rotation) is logged once and skipped; the previous set stays in use, and the next tick retries.
 *
 * <p>grpc-util's own file reloading enforces a one-minute minimum period and compares file mtimes;
 * this class compares content digests and accepts any period, so rotation is testable in
 * milliseconds.
 */
final class ReloadingCredentials {
  private static final System.Logger LOG = System.getLogger(ReloadingCredentials.class.getName());

  final AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
  final AdvancedTlsX509TrustManager trustManager;
  private final TlsFiles files;
  private byte[] appliedDigest = new byte[0];
  private byte[] reportedDigest = new byte[0];

  private ReloadingCredentials(TlsFiles files, AdvancedTlsX509TrustManager.Verification verification)
      throws CertificateException {
    this.files = files;
    this.trustManager = AdvancedTlsX509TrustManager.newBuilder().setVerification(verification).build();
  }

  /** Loads {@code files} now; fails with a message naming the bad file. */
  static ReloadingCredentials load(TlsFiles files, AdvancedTlsX509TrustManager.Verification verification)
      throws SecuritySetupException {
    ReloadingCredentials credentials;
    try {
      credentials = new ReloadingCredentials(files, verification);
    } catch (CertificateException e) {
      throw new SecuritySetupException("cannot create a TLS trust manager: " + e.getMessage(), e);
    }
    credentials.apply(credentials.read());
    return credentials;
  }

  /**
   * Re-reads the files every {@code every} on {@code executor} until the executor shuts down.
   * The task never throws (a thrown exception would cancel the schedule).
   */
  void reloadEvery(ScheduledExecutorService executor, Duration every) {
    if (every.isZero() || every.isNegative()) {
      throw new IllegalArgumentException("reload period must be positive, got " + every);
    }
    long millis = Math.max(1, every.toMillis());
    executor.scheduleWithFixedDelay(this::reloadQuietly, millis, millis, TimeUnit.MILLISECONDS);
  }

  /** Re-reads the files; true if a new set was applied. */
  synchronized boolean reload() throws SecuritySetupException {
    Snapshot snapshot = read();
    if (Arrays.equals(snapshot.digest, appliedDigest)) {
      return false;
    }
    apply(snapshot);
    return true;
  }

  private void reloadQuietly() {
    Snapshot snapshot = null;
    try {
      snapshot = read();
      synchronized (this) {
        if (!Arrays.equals(snapshot.digest, appliedDigest)) {
          String subject = apply(snapshot);
          LOG.log(System.Logger.Level.INFO, "TLS credentials reloaded from " + files.cert()
              + " (" + subject + ")");
        }
      }
    } catch (SecuritySetupException e) {
      byte[] digest = snapshot == null ? new byte[] {1} : snapshot.digest;
      synchronized (this) {
        if (!Arrays.equals(digest, reportedDigest)) {
          reportedDigest = digest;
          LOG.log(System.Logger.Level.WARNING, "TLS credentials not reloaded, keeping the previous"
              + " ones: " + e.getMessage());
        }
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "TLS credentials not reloaded, keeping the previous ones", e);
    }
  }

  private record Snapshot(byte[][] bytes, byte[] digest) { }

  private Snapshot read() throws SecuritySetupException {
    byte[][] bytes = {
      Pem.readBytes(files.ca(), "CA file"),
      Pem.readBytes(files.cert(), "certificate"),
      Pem.readBytes(files.key(), "key"),
    };
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
    for (byte[] part : bytes) {
      sha256.update(Integer.toString(part.length).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      sha256.update((byte) ':');
      sha256.update(part);
    }
    return new Snapshot(bytes, sha256.digest());
  }

  /** Installs the snapshot; returns the new certificate's subject. */
  private String apply(Snapshot snapshot) throws SecuritySetupException {
    List<X509Certificate> trusted = Pem.certificates(snapshot.bytes[0], files.ca(), "CA file");
    List<X509Certificate> chain = Pem.certificates(snapshot.bytes[1], files.cert(), "certificate");
    PrivateKey key = Pem.privateKey(snapshot.bytes[2], files.key());
    Pem.checkKeyMatches(key, chain.get(0), files.key(), files.cert());
    try {
      trustManager.updateTrustCredentials(trusted.toArray(new X509Certificate[0]));
    } catch (IOException | GeneralSecurityException e) {
      throw new SecuritySetupException("CA file " + files.ca() + ": cannot be used as trust roots: "
          + e.getMessage(), e);
    }
    keyManager.updateIdentityCredentials(chain.toArray(new X509Certificate[0]), key);
    appliedDigest = snapshot.digest;
    reportedDigest = snapshot.digest;
    return chain.get(0).getSubjectX500Principal().getName();
  }
}
