package dev.lockstep.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs outgoing webhook bodies so receivers can tell Lockstep's alerts from forgeries.
 *
 * <p>Wire format: the sender adds the header
 * {@code X-Lockstep-Signature: sha256=<lower-case hex of HMAC-SHA256(secret, body)>}, where
 * {@code body} is the exact request body bytes and {@code secret} is the UTF-8 bytes of the
 * secret file's content with surrounding white space trimmed. A receiver recomputes the HMAC over
 * the raw body it received and compares in constant time ({@link #verify}). The signature covers
 * the body only: put a timestamp and an id in the body if receivers must reject replays.
 *
 * <p>The secret file must be non-empty and not readable by others (mode 0600 or 0640).
 * Immutable and thread-safe.
 */
public final class WebhookSigner {
  /** The HTTP header carrying the signature. */
  public static final String HEADER = "X-Lockstep-Signature";
  private static final String PREFIX = "sha256=";
  private static final String ALGORITHM = "HmacSHA256";

  private final SecretKeySpec key;

  private WebhookSigner(byte[] secret) {
    if (secret.length == 0) {
      throw new IllegalArgumentException("webhook secret must not be empty");
    }
    this.key = new SecretKeySpec(secret, ALGORITHM);
  }

  /** A signer for {@code secret} (UTF-8 bytes, used as is). */
  public static WebhookSigner ofSecret(String secret) {
    return new WebhookSigner(secret.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * A signer for the secret in {@code file}: trimmed content, refused if the file is missing,
   * empty, or readable by others, with a message naming the file.
   */
  public static WebhookSigner fromSecretFile(Path file) throws SecuritySetupException {
    String secret = new String(Pem.readBytes(file, "webhook secret file"), StandardCharsets.UTF_8).trim();
    if (secret.isEmpty()) {
      throw new SecuritySetupException("webhook secret file " + file + ": is empty; put a long"
          + " random string in it (e.g. `openssl rand -hex 32 > " + file + "`)");
    }
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      try {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
        if (mode.contains(PosixFilePermission.OTHERS_READ)) {
          throw new SecuritySetupException("webhook secret file " + file + ": is readable by"
              + " everyone (mode " + PosixFilePermissions.toString(mode) + "); run chmod 600 " + file);
        }
      } catch (IOException e) {
        throw new SecuritySetupException("webhook secret file " + file + ": cannot read its"
            + " permissions: " + e.getMessage(), e);
      }
    }
    return ofSecret(secret);
  }

  /** Writes a new random secret (32 bytes, hex) to {@code file} with mode 0600, atomically. */
  public static void writeNewSecretFile(Path file) throws IOException {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    Pem.writeAtomically(file, HexFormat.of().formatHex(secret) + "\n", true);
  }

  /** The {@link #HEADER} value for {@code body}: {@code sha256=<hex>}. */
  public String sign(byte[] body) {
    return PREFIX + HexFormat.of().formatHex(mac(body));
  }

  /**
   * True if {@code headerValue} is {@code sha256=<hex>} of {@code body} under this secret.
   * Compares in constant time; a missing or malformed header is simply false.
   */
  public boolean verify(byte[] body, String headerValue) {
    if (headerValue == null || !headerValue.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      return false;
    }
    byte[] claimed;
    try {
      claimed = HexFormat.of().parseHex(headerValue.substring(PREFIX.length()).trim());
    } catch (IllegalArgumentException e) {
      return false;
    }
    return MessageDigest.isEqual(mac(body), claimed);
  }

  private byte[] mac(byte[] body) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(key);
      return mac.doFinal(body);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
    }
  }
}
