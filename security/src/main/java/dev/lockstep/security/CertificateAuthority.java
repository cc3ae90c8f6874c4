package dev.lockstep.security;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A small certificate authority for a Lockstep fleet: an EC P-256 CA that issues leaf
 * certificates whose subject is {@code CN=<identity>, OU=<role>, O=Lockstep}. Agents, operators
 * and viewers get clientAuth certificates; the collector gets serverAuth+clientAuth with DNS/IP
 * SANs. Invariant: a leaf never outlives its CA (its notAfter is clamped to the CA's).
 */
public final class CertificateAuthority {
  private static final String SIGNATURE = "SHA256withECDSA";
  /** Accepted clock skew between hosts: certificates are valid from this long before issue. */
  private static final Duration BACKDATE = Duration.ofMinutes(5);

  private final X509Certificate certificate;
  private final PrivateKey privateKey;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  private CertificateAuthority(X509Certificate certificate, PrivateKey privateKey, Clock clock) {
    this.certificate = certificate;
    this.privateKey = privateKey;
    this.clock = clock;
  }

  /** A new self-signed CA named {@code CN=<commonName>, O=Lockstep}. */
  public static CertificateAuthority create(String commonName, Duration validity, Clock clock) {
    KeyPair pair = newKeyPair();
    X500Name name = new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.O, "Lockstep").addRDN(BCStyle.CN, commonName).build();
    Instant now = clock.instant();
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(new SecureRandom()),
          Date.from(now.minus(BACKDATE)), Date.from(now.plus(validity)), name, pair.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true,
              new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature))
          .addExtension(Extension.subjectKeyIdentifier, false,
              extensions.createSubjectKeyIdentifier(pair.getPublic()));
      return new CertificateAuthority(sign(builder, pair.getPrivate()), pair.getPrivate(), clock);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("creating a CA certificate failed", e);
    }
  }

  /** The CA in {@code caCert} (PEM) with its key in {@code caKey} (PEM). */
  public static CertificateAuthority load(Path caCert, Path caKey, Clock clock)
      throws SecuritySetupException {
    X509Certificate certificate =
        Pem.certificates(Pem.readBytes(caCert, "CA file"), caCert, "CA file").get(0);
    PrivateKey key = Pem.privateKey(Pem.readBytes(caKey, "CA key"), caKey);
    Pem.checkKeyMatches(key, certificate, caKey, caCert);
    if (certificate.getBasicConstraints() < 0) {
      throw new SecuritySetupException("CA file " + caCert + ": is not a CA certificate"
          + " (no basicConstraints CA:true)");
    }
    return new CertificateAuthority(certificate, key, clock);
  }

  public X509Certificate certificate() {
    return certificate;
  }

  /**
   * Issues a certificate for {@code name} in {@code role}. For {@link Role#COLLECTOR} the SANs are
   * localhost, 127.0.0.1, ::1 and {@code hosts} (IP literals become IP SANs, others DNS SANs).
   */
  public Issued issue(String name, Role role, List<String> hosts, Duration validity) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(role, "role");
    KeyPair pair = newKeyPair();
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.O, "Lockstep").addRDN(BCStyle.OU, role.label()).addRDN(BCStyle.CN, name)
        .build();
    Instant now = clock.instant();
    Instant notAfter = now.plus(validity);
    if (notAfter.isAfter(certificate.getNotAfter().toInstant())) {
      notAfter = certificate.getNotAfter().toInstant();
    }
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      boolean server = role == Role.COLLECTOR;
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial(random),
          Date.from(now.minus(BACKDATE)), Date.from(notAfter), subject, pair.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, server
              ? new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth})
              : new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth))
          .addExtension(Extension.subjectKeyIdentifier, false,
              extensions.createSubjectKeyIdentifier(pair.getPublic()))
          .addExtension(Extension.authorityKeyIdentifier, false,
              extensions.createAuthorityKeyIdentifier(certificate));
      if (server) {
        builder.addExtension(Extension.subjectAlternativeName, false, subjectAltNames(hosts));
      }
      return new Issued(name, role, sign(builder, privateKey), pair.getPrivate());
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("issuing a certificate for " + name + " failed", e);
    }
  }

  /**
   * A CRL signed by this CA that revokes {@code revoked} (serial number to revocation time), issued
   * now and announcing its next update after {@code nextUpdateIn}.
   */
  public X509CRL revocationList(Map<BigInteger, Instant> revoked, Duration nextUpdateIn) {
    Instant now = clock.instant();
    X509v2CRLBuilder builder = new X509v2CRLBuilder(
        X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()), Date.from(now));
    builder.setNextUpdate(Date.from(now.plus(nextUpdateIn)));
    revoked.forEach((serial, at) ->
        builder.addCRLEntry(serial, Date.from(at), CRLReason.keyCompromise));
    try {
      builder.addExtension(Extension.cRLNumber, false,
          new CRLNumber(BigInteger.valueOf(now.toEpochMilli())));
      builder.addExtension(Extension.authorityKeyIdentifier, false,
          new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(certificate));
      ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE).build(privateKey);
      return new JcaX509CRLConverter().getCRL(builder.build(signer));
    } catch (GeneralSecurityException | CertIOException | OperatorCreationException e) {
      throw new IllegalStateException("signing a CRL failed", e);
    }
  }

  /**
   * The DNS and IP subject alternative names of {@code certificate} that {@link #issue} does not
   * add anyway (localhost and loopback addresses), so a renewal names the same hosts.
   */
  static List<String> hostNames(X509Certificate certificate) {
    List<String> hosts = new ArrayList<>();
    try {
      Collection<List<?>> names = certificate.getSubjectAlternativeNames();
      if (names != null) {
        for (List<?> name : names) {
          int type = (Integer) name.get(0);
          String host = String.valueOf(name.get(1));
          boolean always = type == GeneralName.iPAddress
              ? InetAddress.getByName(host).isLoopbackAddress() : host.equals("localhost");
          if ((type == GeneralName.dNSName || type == GeneralName.iPAddress) && !always) {
            hosts.add(host);
          }
        }
      }
    } catch (java.security.cert.CertificateParsingException | IOException e) {
      throw new IllegalStateException("unreadable subject alternative names in "
          + certificate.getSubjectX500Principal().getName(), e);
    }
    return hosts;
  }

  /** Writes {@code ca.pem} (0644) and {@code ca-key.pem} (0600) atomically. */
  public void write(Path caCert, Path caKey) throws IOException {
    Pem.writeAtomically(caKey, Pem.encode(privateKey), true);
    Pem.writeAtomically(caCert, Pem.encode(certificate), false);
  }

  /** A freshly issued certificate and its private key. */
  public record Issued(String name, Role role, X509Certificate certificate, PrivateKey privateKey) {
    /** Writes the certificate (0644) and the PKCS#8 key (0600), each atomically, key first. */
    public void write(Path certFile, Path keyFile) throws IOException {
      Pem.writeAtomically(keyFile, Pem.encode(privateKey), true);
      Pem.writeAtomically(certFile, Pem.encode(certificate), false);
    }
  }

  private static GeneralNames subjectAltNames(List<String> hosts) {
    List<String> all = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
    for (String host : hosts) {
      if (!all.contains(host)) {
        all.add(host);
      }
    }
    List<GeneralName> names = new ArrayList<>();
    for (String host : all) {
      names.add(isIpLiteral(host)
          ? new GeneralName(GeneralName.iPAddress, host)
          : new GeneralName(GeneralName.dNSName, host));
    }
    return new GeneralNames(names.toArray(new GeneralName[0]));
  }

  static boolean isIpLiteral(String host) {
    if (host.contains(":")) {
      return true;
    }
    if (!host.matches("[0-9.]+")) {
      return false;
    }
    try {
      return InetAddress.getByName(host) != null;
    } catch (IOException e) {
      return false;
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
      throws GeneralSecurityException {
    try {
      ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE).build(key);
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign with " + SIGNATURE, e);
    }
  }

  private static BigInteger serial(SecureRandom random) {
    return new BigInteger(127, random).add(BigInteger.ONE);
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("EC P-256 is part of every Java 17 runtime", e);
    }
  }
}
