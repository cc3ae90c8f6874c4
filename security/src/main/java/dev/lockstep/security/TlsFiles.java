package dev.lockstep.security;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The three PEM files one side of an mTLS connection needs.
 *
 * @param ca the CA certificate(s) that peers' certificates must chain to ({@code ca.pem}); may
 *     hold several concatenated certificates, e.g. an old and a new CA during a rotation
 * @param cert this side's certificate, optionally followed by intermediates ({@code h1.pem})
 * @param key this side's private key, PKCS#8 ({@code BEGIN PRIVATE KEY}) or traditional
 *     ({@code BEGIN EC/RSA PRIVATE KEY}), unencrypted ({@code h1-key.pem})
 */
public record TlsFiles(Path ca, Path cert, Path key) {
  public TlsFiles {
    Objects.requireNonNull(ca, "ca");
    Objects.requireNonNull(cert, "cert");
    Objects.requireNonNull(key, "key");
  }

  /** The files {@link CertsInit} writes for {@code name}: {@code dir/ca.pem, dir/<name>.pem, dir/<name>-key.pem}. */
  public static TlsFiles inDirectory(Path dir, String name) {
    return new TlsFiles(dir.resolve(CertsInit.CA_CERT_FILE), dir.resolve(name + ".pem"),
        dir.resolve(name + "-key.pem"));
  }
}
