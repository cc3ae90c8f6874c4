package dev.lockstep.security;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Upkeep of a directory that {@link CertsInit} made: {@code lockstep certs renew} re-issues one
 * name's certificate (same CN, role and host names, a new key), {@code lockstep certs revoke}
 * adds names' current certificates to the directory's CRL ({@code crl.pem}), which collectors
 * configured with {@code tls.crl} re-read like their certificates. Invariant: the CRL only ever
 * grows; revoking again re-signs it with every earlier entry kept.
 */
public final class CertsDirectory {
  /** The CRL file of a certificate directory. */
  public static final String CRL_FILE = "crl.pem";
  /** The nextUpdate a written CRL announces; not enforced by Lockstep (RevocationList). */
  static final Duration CRL_NEXT_UPDATE = Duration.ofDays(30);

  private CertsDirectory() { }

  /** One certificate revoked. */
  public record Revoked(String name, BigInteger serial, Instant at) { }

  /**
   * Issues a new certificate and key for {@code name}, replacing {@code dir/name.pem} and
   * {@code dir/name-key.pem} atomically; role and host names are those of the current one.
   */
  public static CertsInit.Issued renew(Path dir, String name, Duration validity, Clock clock)
      throws SecuritySetupException {
    CertificateAuthority ca = authority(dir, clock);
    TlsFiles files = TlsFiles.inDirectory(dir, name);
    X509Certificate current = current(files.cert(), name);
    List<String> problems = new ArrayList<>();
    Optional<Identity> identity = Identity.fromCertificate(current, problems);
    if (identity.isEmpty()) {
      throw new SecuritySetupException("certificate " + files.cert() + ": no Lockstep identity ("
          + String.join("; ", problems) + "); issue it with lockstep certs init");
    }
    if (!identity.get().name().equals(name)) {
      throw new SecuritySetupException("certificate " + files.cert() + " is for CN="
          + identity.get().name() + ", not " + name);
    }
    if (validity.isZero() || validity.isNegative()) {
      throw new SecuritySetupException("validity must be positive, got " + validity);
    }
    CertificateAuthority.Issued issued = ca.issue(name, identity.get().role(),
        CertificateAuthority.hostNames(current), validity);
    try {
      issued.write(files.cert(), files.key());
    } catch (IOException e) {
      throw new SecuritySetupException("cannot write " + files.cert() + ": " + e.getMessage(), e);
    }
    return new CertsInit.Issued(name, identity.get().role(), files.cert(), files.key(),
        issued.certificate().getNotAfter().toInstant());
  }

  /**
   * Adds the certificates now in {@code dir/NAME.pem} for each of {@code names} to
   * {@code dir/crl.pem} (created if absent) and re-signs it with the directory's CA.
   */
  public static List<Revoked> revoke(Path dir, List<String> names, Clock clock)
      throws SecuritySetupException {
    if (names.isEmpty()) {
      throw new SecuritySetupException("name at least one certificate to revoke");
    }
    CertificateAuthority ca = authority(dir, clock);
    Map<BigInteger, Instant> entries = existingEntries(dir, ca);
    List<Revoked> revoked = new ArrayList<>();
    for (String name : names) {
      X509Certificate certificate = current(TlsFiles.inDirectory(dir, name).cert(), name);
      if (!certificate.getIssuerX500Principal().equals(ca.certificate().getSubjectX500Principal())) {
        throw new SecuritySetupException("certificate " + TlsFiles.inDirectory(dir, name).cert()
            + " was not issued by the CA in " + dir);
      }
      Instant at = entries.computeIfAbsent(certificate.getSerialNumber(), s -> clock.instant());
      revoked.add(new Revoked(name, certificate.getSerialNumber(), at));
    }
    write(dir, ca, entries);
    return revoked;
  }

  /** Writes an empty CRL into {@code dir} unless it has one; {@link CertsInit} calls it. */
  static void ensureCrl(Path dir, CertificateAuthority ca) throws IOException {
    if (!Files.exists(dir.resolve(CRL_FILE))) {
      try {
        write(dir, ca, Map.of());
      } catch (SecuritySetupException e) {
        throw new IOException(e.getMessage(), e);
      }
    }
  }

  private static void write(Path dir, CertificateAuthority ca, Map<BigInteger, Instant> entries)
      throws SecuritySetupException {
    X509CRL crl = ca.revocationList(entries, CRL_NEXT_UPDATE);
    try {
      Pem.writeAtomically(dir.resolve(CRL_FILE), Pem.encode(crl), false);
    } catch (IOException e) {
      throw new SecuritySetupException("cannot write " + dir.resolve(CRL_FILE) + ": " + e.getMessage(), e);
    }
  }

  private static Map<BigInteger, Instant> existingEntries(Path dir, CertificateAuthority ca)
      throws SecuritySetupException {
    Map<BigInteger, Instant> entries = new LinkedHashMap<>();
    Path file = dir.resolve(CRL_FILE);
    if (!Files.exists(file)) {
      return entries;
    }
    for (X509CRL crl : RevocationList.parse(Pem.readBytes(file, "CRL file"), file)) {
      if (!crl.getIssuerX500Principal().equals(ca.certificate().getSubjectX500Principal())) {
        throw new SecuritySetupException("CRL file " + file + " holds a CRL of "
            + crl.getIssuerX500Principal().getName() + ", not of the CA in " + dir);
      }
      if (crl.getRevokedCertificates() != null) {
        for (X509CRLEntry entry : crl.getRevokedCertificates()) {
          entries.put(entry.getSerialNumber(), entry.getRevocationDate().toInstant());
        }
      }
    }
    return entries;
  }

  private static CertificateAuthority authority(Path dir, Clock clock) throws SecuritySetupException {
    Path caCert = dir.resolve(CertsInit.CA_CERT_FILE);
    Path caKey = dir.resolve(CertsInit.CA_KEY_FILE);
    if (!Files.exists(caCert) || !Files.exists(caKey)) {
      throw new SecuritySetupException(dir + " has no CA (" + CertsInit.CA_CERT_FILE + " and "
          + CertsInit.CA_KEY_FILE + "); make one with lockstep certs init --dir " + dir);
    }
    return CertificateAuthority.load(caCert, caKey, clock);
  }

  private static X509Certificate current(Path certFile, String name) throws SecuritySetupException {
    if (!Files.exists(certFile)) {
      throw new SecuritySetupException("no certificate for \"" + name + "\": " + certFile
          + " does not exist");
    }
    return Pem.certificates(Pem.readBytes(certFile, "certificate"), certFile, "certificate").get(0);
  }
}
