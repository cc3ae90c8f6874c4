package dev.lockstep.security;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Certificates CertificateAuthority would never issue, signed by a real test CA. */
final class TestCertificates {
  private TestCertificates() { }

  static TlsFiles issueWithSubject(CertsInit.Result pki, Path dir, String subject) throws Exception {
    Files.createDirectories(dir);
    X509Certificate ca = Pem.certificates(Files.readAllBytes(pki.caCert()), pki.caCert(), "CA").get(0);
    PrivateKey caKey = Pem.privateKey(Files.readAllBytes(pki.caKey()), pki.caKey());
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair pair = generator.generateKeyPair();
    Instant now = Instant.now();
    X509Certificate leaf = new JcaX509CertificateConverter().getCertificate(
        new JcaX509v3CertificateBuilder(ca, BigInteger.valueOf(now.toEpochMilli()),
            Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(1))),
            new X500Name(subject), pair.getPublic())
            .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth))
            .build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey)));
    Path cert = dir.resolve("leaf.pem");
    Path key = dir.resolve("leaf-key.pem");
    Pem.writeAtomically(cert, Pem.encode(leaf), false);
    Pem.writeAtomically(key, Pem.encode(pair.getPrivate()), true);
    return new TlsFiles(pki.caCert(), cert, key);
  }
}
