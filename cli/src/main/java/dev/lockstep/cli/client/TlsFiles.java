package dev.lockstep.cli.client;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The PEM files for a TLS (or mTLS) connection to the collector. {@code ca} verifies the
 * collector's certificate (null: the JDK's trust store); {@code cert} and {@code key} are the
 * operator's client certificate and key, given together or not at all.
 */
public record TlsFiles(Path ca, Path cert, Path key) {

  /** @throws IllegalArgumentException naming the flag when a file is missing or half a pair is */
  public TlsFiles {
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException("--cert and --key must be given together");
    }
    requireReadable("--ca", ca);
    requireReadable("--cert", cert);
    requireReadable("--key", key);
  }

  private static void requireReadable(String flag, Path file) {
    if (file != null && !Files.isReadable(file)) {
      throw new IllegalArgumentException(flag + ": cannot read " + file);
    }
  }

  /** @throws IOException when a PEM file cannot be parsed */
  ChannelCredentials credentials() throws IOException {
    TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
    if (ca != null) {
      builder.trustManager(ca.toFile());
    }
    if (cert != null) {
      builder.keyManager(cert.toFile(), key.toFile());
    }
    return builder.build();
  }
}
