package dev.lockstep.security;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CRLReason;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateRevokedException;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The certificate revocation lists (X.509 CRLs, PEM or DER, several in one file) a server checks
 * client certificates against, re-read like the certificates. {@code lockstep certs revoke}
 * writes one.
 *
 * <p>Invariant: only CRLs signed by a CA of the trust file are ever in force, and a file that does
 * not parse or verify (a half-written copy, a CRL from another CA) is logged once and skipped: the
 * previous lists stay in force, so a bad file never un-revokes anyone. A CRL's nextUpdate is not
 * enforced: a stale list still revokes what it lists.
 */
public final class RevocationList {
  private static final System.Logger LOG = System.getLogger(RevocationList.class.getName());

  /** No revocation checking (no CRL configured). */
  public static final RevocationList NONE = new RevocationList(null, null);

  private final Path file;
  private final Path caFile;
  private volatile List<X509CRL> crls = List.of();
  private byte[] appliedDigest = new byte[0];
  private String reportedFailure;

  private RevocationList(Path file, Path caFile) {
    this.file = file;
    this.caFile = caFile;
  }

  /**
   * Loads {@code crlFile}, whose CRLs must each be signed by a CA in {@code caFile}; fails with a
   * message naming the file when it cannot be read, parsed or verified.
   */
  public static RevocationList load(Path crlFile, Path caFile) throws SecuritySetupException {
    RevocationList list = new RevocationList(crlFile, caFile);
    list.reload();
    return list;
  }

  /** The CRL file, or null for {@link #NONE}. */
  public Path file() {
    return file;
  }

  /** Re-reads the file every {@code every} on {@code executor}; the task never throws. */
  public void reloadEvery(ScheduledExecutorService executor, Duration every) {
    if (file == null) {
      return;
    }
    long millis = Math.max(1, every.toMillis());
    executor.scheduleWithFixedDelay(this::reloadQuietly, millis, millis, TimeUnit.MILLISECONDS);
  }

  /** Re-reads the file; true if a changed, valid set of CRLs was applied. */
  synchronized boolean reload() throws SecuritySetupException {
    byte[] bytes = Pem.readBytes(file, "CRL file");
    byte[] caBytes = Pem.readBytes(caFile, "CA file");
    byte[] digest = digest(bytes, caBytes);
    if (MessageDigest.isEqual(digest, appliedDigest)) {
      return false;
    }
    List<X509CRL> parsed = parse(bytes, file);
    List<X509Certificate> cas = Pem.certificates(caBytes, caFile, "CA file");
    for (X509CRL crl : parsed) {
      verify(crl, cas);
    }
    crls = List.copyOf(parsed);
    appliedDigest = digest;
    return true;
  }

  private void reloadQuietly() {
    try {
      if (reload()) {
        LOG.log(System.Logger.Level.INFO, "CRL reloaded from " + file + " (" + revokedCount()
            + " revoked certificates)");
      }
      reportedFailure = null;
    } catch (SecuritySetupException | RuntimeException e) {
      String message = String.valueOf(e.getMessage());
      if (!message.equals(reportedFailure)) {
        reportedFailure = message;
        LOG.log(System.Logger.Level.WARNING, "CRL not reloaded, the previous lists stay in force: "
            + message);
      }
    }
  }

  /** How many certificates the lists in force revoke. */
  public int revokedCount() {
    int n = 0;
    for (X509CRL crl : crls) {
      Collection<? extends X509CRLEntry> entries = crl.getRevokedCertificates();
      n += entries == null ? 0 : entries.size();
    }
    return n;
  }

  /** Throws if {@code certificate} is on a list in force (its issuer's CRL names its serial). */
  public void check(X509Certificate certificate) throws CertificateRevokedException {
    for (X509CRL crl : crls) {
      if (!crl.getIssuerX500Principal().equals(certificate.getIssuerX500Principal())) {
        continue;
      }
      X509CRLEntry entry = crl.getRevokedCertificate(certificate.getSerialNumber());
      if (entry != null) {
        CRLReason reason = entry.getRevocationReason() == null
            ? CRLReason.UNSPECIFIED : entry.getRevocationReason();
        throw new CertificateRevokedException(entry.getRevocationDate(), reason,
            crl.getIssuerX500Principal(), Map.of()) {
          @Override
          public String getMessage() {
            return "certificate " + certificate.getSubjectX500Principal().getName() + " (serial "
                + certificate.getSerialNumber().toString(16) + ") was revoked on "
                + entry.getRevocationDate().toInstant() + " (" + reason + ", CRL " + file + ")";
          }
        };
      }
    }
  }

  static List<X509CRL> parse(byte[] bytes, Path file) throws SecuritySetupException {
    List<X509CRL> out = new ArrayList<>();
    try {
      for (java.security.cert.CRL crl
          : CertificateFactory.getInstance("X.509").generateCRLs(new ByteArrayInputStream(bytes))) {
        out.add((X509CRL) crl);
      }
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new SecuritySetupException("CRL file " + file + ": not an X.509 CRL (PEM or DER): "
          + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new SecuritySetupException("CRL file " + file + ": holds no CRL (expected BEGIN X509 CRL)");
    }
    return out;
  }

  private void verify(X509CRL crl, List<X509Certificate> cas) throws SecuritySetupException {
    for (X509Certificate ca : cas) {
      if (ca.getSubjectX500Principal().equals(crl.getIssuerX500Principal())) {
        try {
          crl.verify(ca.getPublicKey());
          return;
        } catch (GeneralSecurityException e) {
          throw new SecuritySetupException("CRL file " + file + ": the CRL of "
              + crl.getIssuerX500Principal().getName() + " is not signed by that CA's key in "
              + caFile + ": " + e.getMessage(), e);
        }
      }
    }
    throw new SecuritySetupException("CRL file " + file + ": issued by "
        + crl.getIssuerX500Principal().getName() + ", which is not a CA in " + caFile);
  }

  private static byte[] digest(byte[] crl, byte[] ca) {
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      sha256.update(crl);
      sha256.update((byte) 0);
      sha256.update(ca);
      return sha256.digest();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
