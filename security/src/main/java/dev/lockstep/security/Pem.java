package dev.lockstep.security;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;

/** Reads and writes PEM certificates and keys; writes atomically, keys with mode 0600. */
final class Pem {
  private Pem() { }

  static byte[] readBytes(Path file, String what) throws SecuritySetupException {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new SecuritySetupException(what + " " + file + ": no such file");
    } catch (IOException e) {
      throw new SecuritySetupException(what + " " + file + ": cannot read: " + e.getMessage(), e);
    }
  }

  static List<X509Certificate> certificates(byte[] pem, Path file, String what)
      throws SecuritySetupException {
    List<X509Certificate> out = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)))) {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      for (PemObject object = parser.readPemObject(); object != null; object = parser.readPemObject()) {
        if (object.getType().equals("CERTIFICATE")) {
          out.add((X509Certificate) factory.generateCertificate(
              new java.io.ByteArrayInputStream(object.getContent())));
        }
      }
    } catch (IOException | CertificateException | RuntimeException e) {
      throw new SecuritySetupException(what + " " + file + ": not a valid PEM certificate file: "
          + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new SecuritySetupException(what + " " + file + ": holds no \"BEGIN CERTIFICATE\" block");
    }
    return out;
  }

  static PrivateKey privateKey(byte[] pem, Path file) throws SecuritySetupException {
    Object object;
    try (PEMParser parser = new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)))) {
      object = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (object instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (object instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
    } catch (IOException | RuntimeException e) {
      throw new SecuritySetupException("key " + file + ": not a valid PEM private key: "
          + e.getMessage(), e);
    }
    if (object instanceof PKCS8EncryptedPrivateKeyInfo || object instanceof PEMEncryptedKeyPair) {
      throw new SecuritySetupException("key " + file + ": is encrypted; Lockstep needs an"
          + " unencrypted key protected by file permissions (0600)");
    }
    throw new SecuritySetupException("key " + file + ": holds no \"BEGIN PRIVATE KEY\" block");
  }

  /** Fails unless {@code key} is the private half of {@code certificate}'s public key. */
  static void checkKeyMatches(PrivateKey key, X509Certificate certificate, Path keyFile,
      Path certFile) throws SecuritySetupException {
    String algorithm = switch (key.getAlgorithm()) {
      case "EC", "ECDSA" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> null;
    };
    if (algorithm == null) {
      return;
    }
    byte[] probe = "lockstep key match probe".getBytes(StandardCharsets.US_ASCII);
    boolean matches;
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      PublicKey publicKey = certificate.getPublicKey();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(probe);
      matches = verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      matches = false;
    }
    if (!matches) {
      throw new SecuritySetupException("key " + keyFile + " does not belong to certificate "
          + certFile + " (" + certificate.getSubjectX500Principal().getName() + ")");
    }
  }

  static String encode(Object... objects) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      for (Object object : objects) {
        writer.writeObject(object instanceof PrivateKey key ? new JcaPKCS8Generator(key, null) : object);
      }
    } catch (IOException e) {
      throw new IllegalStateException("PEM encoding into memory failed", e);
    }
    return out.toString();
  }

  /**
   * Writes {@code content} to {@code target} through a temp file in the same directory, fsync and
   * rename, so a reader (a reloading server) sees the old or the new file, never half of one.
   * A secret file is created with mode 0600 where the file system has POSIX permissions.
   */
  static void writeAtomically(Path target, String content, boolean secret) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    FileAttribute<?>[] attributes = posix
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(secret
            ? Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)
            : PosixFilePermissions.fromString("rw-r--r--"))}
        : new FileAttribute<?>[0];
    Path temp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp", attributes);
    try {
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        channel.write(java.nio.ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII)));
        channel.force(true);
      }
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
