package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.CollectorAddress;
import dev.lockstep.cli.client.CollectorConnection;
import dev.lockstep.security.TlsFiles;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The options every online command shares: where the collector is, how to secure the channel,
 * how to print and how long to wait for each call. Also gives each command the man-page
 * section headings ({@link FleetCommands} adds NAME and the default exit-code list).
 */
@Command(
    synopsisHeading = ManPage.SYNOPSIS,
    descriptionHeading = ManPage.DESCRIPTION,
    parameterListHeading = ManPage.PARAMETERS,
    optionListHeading = ManPage.OPTIONS,
    commandListHeading = ManPage.COMMANDS,
    exitCodeListHeading = ManPage.EXIT_STATUS,
    footerHeading = ManPage.EXAMPLES,
    sortOptions = false)
public final class CollectorOptions {
  static final String DEFAULT_COLLECTOR = "127.0.0.1:7443";

  @Option(
      names = "--collector",
      paramLabel = "HOST:PORT",
      defaultValue = "${env:LOCKSTEP_COLLECTOR:-" + DEFAULT_COLLECTOR + "}",
      description = "Collector's gRPC address (env LOCKSTEP_COLLECTOR; default ${DEFAULT-VALUE}).")
  String collector;

  @Option(
      names = {"-o", "--output", "--format"},
      paramLabel = "FORMAT",
      defaultValue = "table",
      converter = OutputFormat.Converter.class,
      completionCandidates = OutputFormat.Names.class,
      description =
          "table (default) or json. JSON is the proto3 JSON mapping of the Operator API message"
              + " named in DESCRIPTION (field names as in operator.proto, enums as names, int64"
              + " as strings, times as RFC 3339 UTC); new fields may be added, none renamed.")
  OutputFormat output;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description = "Deadline of each call to the collector (default ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(
      names = "--ca",
      paramLabel = "FILE",
      defaultValue = "${env:LOCKSTEP_CA}",
      description = "PEM CA bundle that signs the collector's certificate (ca.pem from lockstep certs"
          + " init; env LOCKSTEP_CA).")
  Path ca;

  @Option(
      names = "--cert",
      paramLabel = "FILE",
      defaultValue = "${env:LOCKSTEP_CERT}",
      description = "Your PEM client certificate, OU operator or viewer (env LOCKSTEP_CERT).")
  Path cert;

  @Option(
      names = "--key",
      paramLabel = "FILE",
      defaultValue = "${env:LOCKSTEP_KEY}",
      description = "PEM private key of --cert (env LOCKSTEP_KEY).")
  Path key;

  @Option(
      names = "--insecure",
      defaultValue = "${env:LOCKSTEP_INSECURE:-false}",
      description =
          "Plaintext gRPC without TLS, only for a collector started with --insecure (env"
              + " LOCKSTEP_INSECURE=true); without it --ca, --cert and --key are required."
              + " May not be combined with them.")
  boolean insecure;

  /** @throws IllegalArgumentException (a usage error) naming the bad flag */
  CollectorConnection connect() {
    CollectorAddress address;
    try {
      address = CollectorAddress.parse(collector);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--collector: " + e.getMessage());
    }
    boolean tls = ca != null || cert != null || key != null;
    if (tls && insecure) {
      throw new IllegalArgumentException("--insecure cannot be combined with --ca, --cert or --key");
    }
    if (insecure) {
      return CollectorConnection.open(address, null, timeout);
    }
    List<String> missing = new ArrayList<>();
    if (ca == null) missing.add("--ca");
    if (cert == null) missing.add("--cert");
    if (key == null) missing.add("--key");
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("no TLS configured: missing " + String.join(", ", missing)
          + " (or LOCKSTEP_CA/LOCKSTEP_CERT/LOCKSTEP_KEY; `lockstep certs init` makes them);"
          + " plaintext only with --insecure, for a collector started with --insecure");
    }
    for (Object[] f : new Object[][] {{"--ca", ca}, {"--cert", cert}, {"--key", key}}) {
      if (!Files.isReadable((Path) f[1])) {
        throw new IllegalArgumentException(f[0] + ": cannot read " + f[1]);
      }
    }
    return CollectorConnection.open(address, new TlsFiles(ca, cert, key), timeout);
  }

}
