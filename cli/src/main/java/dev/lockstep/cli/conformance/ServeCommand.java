package dev.lockstep.cli.conformance;

import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.security.SecuritySetupException;
import dev.lockstep.security.Tls;
import dev.lockstep.security.TlsFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lockstep conformance serve}: checks an agent against the wire contract, as a collector. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    header = "Play the collector for an agent and check it against the wire contract.",
    description = {
      "Listens like a collector; point the agent under test at it (its collector address and"
          + " CA) and let its engine write a golden file while the kit runs. The kit lets the"
          + " agent connect three times and checks the rules of docs/protocol.md an agent must"
          + " keep: Hello first (agent id pattern and certificate CN, hostname, version, enacted"
          + " stop), nothing before the Welcome, an ack for every desired stop state and every"
          + " resend, STOPPED enacted and reported in the next Hello, RUNNING enacted only when it"
          + " releases every held order, batches within the Welcome's limits, increasing seqs,"
          + " well-formed events (hashes in wire form), unacked events resent unchanged after a"
          + " reconnect and acked ones not, a Backoff honoured (a pause, then everything after"
          + " resend_after_seq again, echoing its id), evidence for a capture request, reconnect"
          + " backoff.",
      "",
      "The stop is real for the agent: its on_stop and on_resume hooks run."
    },
    exitCodeListHeading = "%nEXIT STATUS%n",
    exitCodeList = {
      "0:Every rule checked passed.",
      "1:At least one rule failed (or no agent connected).",
      "2:Bad usage (certificate files, address), or the port cannot be bound."
    },
    footerHeading = "%nEXAMPLES%n",
    footer = {
      "  lockstep conformance serve --listen 0.0.0.0:7443 --ca ca.pem --cert collector.pem --key collector-key.pem",
      "  lockstep conformance serve --listen 127.0.0.1:0 --port-file /tmp/port --insecure"
    })
final class ServeCommand implements Callable<Integer> {
  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7443",
      description = "Where to listen (port 0: any free port; default ${DEFAULT-VALUE}).")
  String listen;

  @Option(names = "--port-file", paramLabel = "FILE",
      description = "Write the bound port there (atomically) once listening.")
  Path portFile;

  @Option(names = "--ca", paramLabel = "FILE", description = "PEM CA that signs agent certificates.")
  Path ca;

  @Option(names = "--cert", paramLabel = "FILE", description = "The collector certificate to present.")
  Path cert;

  @Option(names = "--key", paramLabel = "FILE", description = "The key of --cert.")
  Path key;

  @Option(names = "--insecure", description = "Plaintext, for an agent started with --insecure.")
  boolean insecure;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s",
      converter = ConformanceCommand.PositiveDuration.class,
      description = "How long to wait for each thing the agent should do (default ${DEFAULT-VALUE}).")
  Duration timeout;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String host;
    int port;
    int colon = listen.lastIndexOf(':');
    try {
      host = listen.substring(0, Math.max(0, colon)).replace("[", "").replace("]", "");
      port = Integer.parseInt(listen.substring(colon + 1));
      if (colon <= 0 || port < 0 || port > 65535) throw new NumberFormatException();
    } catch (NumberFormatException e) {
      err.println("lockstep: --listen: expected HOST:PORT with a port 0..65535, got '" + listen + "'");
      return ExitCode.USAGE;
    }
    io.grpc.ServerCredentials credentials = null;
    if (!insecure) {
      if (ca == null || cert == null || key == null) {
        err.println("lockstep: --ca, --cert and --key are required (or --insecure)");
        return ExitCode.USAGE;
      }
      try {
        credentials = Tls.serverCredentials(new TlsFiles(ca, cert, key));
      } catch (SecuritySetupException e) {
        err.println("lockstep: " + e.getMessage());
        return ExitCode.USAGE;
      }
    } else if (ca != null || cert != null || key != null) {
      err.println("lockstep: --insecure cannot be combined with certificates");
      return ExitCode.USAGE;
    }
    Clock clock = Clock.systemUTC();
    try (KitCollector kit = new KitCollector(host, port, credentials, clock)) {
      if (portFile != null) writePort(kit.port());
      out.println("lockstep conformance serve: playing the collector on " + host + ":"
          + kit.port() + (insecure ? " (PLAINTEXT)" : " (mTLS)"));
      Findings findings = new Findings(out);
      String tag = HexFormat.of().formatHex(java.nio.ByteBuffer.allocate(4)
          .putInt(ThreadLocalRandom.current().nextInt()).array());
      new AgentChecks(kit, timeout, findings, clock, tag).run();
      return findings.finish("agent");
    } catch (IOException e) {
      err.println("lockstep: cannot listen on " + listen + ": " + e.getMessage());
      return ExitCode.USAGE;
    } finally {
      out.flush();
    }
  }

  private void writePort(int port) throws IOException {
    Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
    Files.writeString(tmp, Integer.toString(port), StandardCharsets.US_ASCII);
    Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
