package dev.lockstep.security;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * Reads and writes PEM certificates and keys; writes atomically, keys with mode 0600. Only JDK
 * APIs: the agent reads its mTLS files through this class and runs without BouncyCastle on its
 * class path (its jars alone held ~1 MiB of heap in their central directories).
 */
final class Pem {
  private Pem() { }

  /** One "-----BEGIN type-----" block: its type, its RFC 1421 headers (if any), its content. */
  record Block(String type, List<String> headers, byte[] content) { }

  /** The PEM blocks of {@code text}, in order; text outside the blocks is ignored. */
  static List<Block> blocks(String text) {
    List<Block> out = new ArrayList<>();
    String type = null;
    List<String> headers = new ArrayList<>();
    StringBuilder body = new StringBuilder();
    for (String raw : text.split("\r?\n|\r")) {
      String line = raw.strip();
      if (type == null) {
        if (line.startsWith("-----BEGIN ") && line.endsWith("-----") && line.length() > 16) {
          type = line.substring(11, line.length() - 5);
          headers = new ArrayList<>();
          body.setLength(0);
        }
      } else if (line.equals("-----END " + type + "-----")) {
        out.add(new Block(type, List.copyOf(headers), Base64.getMimeDecoder().decode(body.toString())));
        type = null;
      } else if (line.indexOf(':') > 0 && body.length() == 0) {
        headers.add(line);
      } else {
        body.append(line);
      }
    }
    if (type != null) {
      throw new IllegalArgumentException("\"-----BEGIN " + type + "-----\" without its END line");
    }
    return out;
  }

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
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      for (Block block : blocks(new String(pem, StandardCharsets.US_ASCII))) {
        if (block.type().equals("CERTIFICATE")) {
          out.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(block.content())));
        }
      }
    } catch (CertificateException | RuntimeException e) {
      throw new SecuritySetupException(what + " " + file + ": not a valid PEM certificate file: "
          + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new SecuritySetupException(what + " " + file + ": holds no \"BEGIN CERTIFICATE\" block");
    }
    return out;
  }

  /**
   * The first private key in {@code pem}: PKCS#8 ("PRIVATE KEY": RSA, EC, Ed25519/Ed448, RSASSA-PSS,
   * DSA), PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY", with its named curve). Other blocks
   * before it (such as "EC PARAMETERS") are skipped. Encrypted keys are refused.
   */
  static PrivateKey privateKey(byte[] pem, Path file) throws SecuritySetupException {
    List<Block> blocks;
    try {
      blocks = blocks(new String(pem, StandardCharsets.US_ASCII));
    } catch (RuntimeException e) {
      throw new SecuritySetupException("key " + file + ": not a valid PEM private key: " + e.getMessage(), e);
    }
    for (Block block : blocks) {
      if (!block.type().endsWith("PRIVATE KEY")) {
        continue;
      }
      boolean encrypted = block.type().equals("ENCRYPTED PRIVATE KEY")
          || block.headers().stream().anyMatch(h -> h.replace(" ", "").startsWith("Proc-Type:4,ENCRYPTED"));
      if (encrypted) {
        throw new SecuritySetupException("key " + file + ": is encrypted; Lockstep needs an"
            + " unencrypted key protected by file permissions (0600)");
      }
      try {
        return switch (block.type()) {
          case "PRIVATE KEY" -> pkcs8(block.content());
          case "RSA PRIVATE KEY" -> KeyFactory.getInstance("RSA").generatePrivate(
              new PKCS8EncodedKeySpec(Der.pkcs8(Der.RSA_ENCRYPTION, Der.NULL, block.content())));
          case "EC PRIVATE KEY" -> KeyFactory.getInstance("EC").generatePrivate(
              new PKCS8EncodedKeySpec(Der.pkcs8(Der.EC_PUBLIC_KEY, Der.sec1Curve(block.content()), block.content())));
          default -> throw new SecuritySetupException("key " + file + ": \"" + block.type()
              + "\" keys are not supported; use PKCS#8 (\"BEGIN PRIVATE KEY\")");
        };
      } catch (GeneralSecurityException | RuntimeException e) {
        throw new SecuritySetupException("key " + file + ": not a valid PEM private key: " + e.getMessage(), e);
      }
    }
    throw new SecuritySetupException("key " + file + ": holds no \"BEGIN PRIVATE KEY\" block");
  }

  /** A PKCS#8 key of any algorithm the JDK has a key factory for (the key says which). */
  private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    GeneralSecurityException first = null;
    for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS", "DSA"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    throw first;
  }

  /** Just enough DER to turn PKCS#1 and SEC1 keys into PKCS#8. */
  static final class Der {
    /** OID 1.2.840.113549.1.1.1 (rsaEncryption). */
    static final byte[] RSA_ENCRYPTION = {0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01};
    /** OID 1.2.840.10045.2.1 (id-ecPublicKey). */
    static final byte[] EC_PUBLIC_KEY = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};
    static final byte[] NULL = {0x05, 0x00};

    private Der() { }

    /** PrivateKeyInfo { version 0, AlgorithmIdentifier { algorithm, parameters }, OCTET STRING key }. */
    static byte[] pkcs8(byte[] algorithm, byte[] parameters, byte[] key) {
      byte[] version = {0x02, 0x01, 0x00};
      return tlv(0x30, concat(version, tlv(0x30, concat(algorithm, parameters)), tlv(0x04, key)));
    }

    /** The named curve (its whole OID element) of a SEC1 ECPrivateKey: its [0] parameters. */
    static byte[] sec1Curve(byte[] sec1) {
      int[] outer = header(sec1, 0, 0x30);
      int at = outer[0];
      int end = outer[0] + outer[1];
      while (at < end) {
        int tag = sec1[at] & 0xff;
        int[] h = header(sec1, at, tag);
        if (tag == 0xa0) {
          int[] oid = header(sec1, h[0], 0x06);
          return java.util.Arrays.copyOfRange(sec1, h[0], oid[0] + oid[1]);
        }
        at = h[0] + h[1];
      }
      throw new IllegalArgumentException("EC key without its curve parameters");
    }

    /** {content start, content length} of the element at {@code at}, which must have {@code tag}. */
    private static int[] header(byte[] der, int at, int tag) {
      if (at + 2 > der.length || (der[at] & 0xff) != tag) {
        throw new IllegalArgumentException("malformed DER at byte " + at);
      }
      int length = der[at + 1] & 0xff;
      int start = at + 2;
      if (length > 0x80) {
        int n = length & 0x7f;
        if (n > 3 || start + n > der.length) {
          throw new IllegalArgumentException("malformed DER length at byte " + at);
        }
        length = 0;
        for (int i = 0; i < n; i++) {
          length = (length << 8) | (der[start + i] & 0xff);
        }
        start += n;
      } else if (length == 0x80) {
        throw new IllegalArgumentException("indefinite DER length at byte " + at);
      }
      if (start + length > der.length) {
        throw new IllegalArgumentException("DER element at byte " + at + " runs past the end");
      }
      return new int[] {start, length};
    }

    static byte[] tlv(int tag, byte[] content) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
      out.write(tag);
      int n = content.length;
      if (n < 0x80) {
        out.write(n);
      } else if (n < 0x100) {
        out.write(0x81);
        out.write(n);
      } else if (n < 0x10000) {
        out.write(0x82);
        out.write(n >> 8);
        out.write(n);
      } else {
        out.write(0x83);
        out.write(n >> 16);
        out.write(n >> 8);
        out.write(n);
      }
      out.writeBytes(content);
      return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (byte[] p : parts) {
        out.writeBytes(p);
      }
      return out.toByteArray();
    }
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

  /**
   * PEM text of certificates ("CERTIFICATE"), CRLs ("X509 CRL") and private keys (PKCS#8,
   * "PRIVATE KEY"), in order: base64 in lines of 64 characters, as OpenSSL writes them.
   */
  static String encode(Object... objects) {
    StringBuilder out = new StringBuilder();
    for (Object object : objects) {
      String type;
      byte[] der;
      try {
        if (object instanceof X509Certificate certificate) {
          type = "CERTIFICATE";
          der = certificate.getEncoded();
        } else if (object instanceof X509CRL crl) {
          type = "X509 CRL";
          der = crl.getEncoded();
        } else if (object instanceof PrivateKey key && "PKCS#8".equals(key.getFormat())) {
          type = "PRIVATE KEY";
          der = key.getEncoded();
        } else {
          throw new IllegalArgumentException("cannot PEM-encode " + object);
        }
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("PEM encoding into memory failed", e);
      }
      out.append("-----BEGIN ").append(type).append("-----\n");
      String base64 = Base64.getEncoder().encodeToString(der);
      for (int i = 0; i < base64.length(); i += 64) {
        out.append(base64, i, Math.min(base64.length(), i + 64)).append('\n');
      }
      out.append("-----END ").append(type).append("-----\n");
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
