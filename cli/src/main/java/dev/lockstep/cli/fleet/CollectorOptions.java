package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.CollectorAddress;
import dev.lockstep.cli.client.CollectorConnection;
import dev.lockstep.cli.client.TlsFiles;
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
      description = "PEM CA bundle that signs the collector's certificate; implies TLS (env LOCKSTEP_CA).")
  Path ca;

  @Option(
      names = "--cert",
      paramLabel = "FILE",
      defaultValue = "${env:LOCKSTEP_CERT}",
      description = "PEM client certificate for mTLS (with --key); implies TLS (env LOCKSTEP_CERT).")
  Path cert;

  @Option(
      names = "--key",
      paramLabel = "FILE",
      defaultValue = "${env:LOCKSTEP_KEY}",
      description = "PEM private key (PKCS#8) of --cert (env LOCKSTEP_KEY).")
  Path key;

  @Option(
      names = "--insecure",
      description =
          "Plaintext gRPC, no TLS. The default while the collector serves plaintext; may not be"
              + " combined with --ca/--cert/--key.")
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
    return CollectorConnection.open(address, tls ? new TlsFiles(ca, cert, key) : null, timeout);
  }

}
