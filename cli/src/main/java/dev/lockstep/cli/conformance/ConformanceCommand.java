package dev.lockstep.cli.conformance;

import dev.lockstep.cli.client.CollectorAddress;
import dev.lockstep.cli.client.Durations;
import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.security.Identity;
import dev.lockstep.security.SecuritySetupException;
import dev.lockstep.security.Tls;
import dev.lockstep.security.TlsFiles;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lockstep conformance}: checks a collector against the wire contract, as an agent. */
@Command(
    name = "conformance",
    mixinStandardHelpOptions = true,
    header = "Check a collector (or, with serve, an agent) against the wire contract.",
    description = {
      "Plays an agent against the collector at --collector and checks every rule of"
          + " docs/protocol.md a collector must keep: health and reflection names, Hello checks"
          + " (first frame, agent-id pattern, certificate identity, order limit, once), the"
          + " Welcome as first frame and the Pins after it, stop states resent until acked and"
          + " acks of another generation not counted, acks only after storage, duplicates acked,"
          + " a skipped seq refused without storing its batch, refused bodies, batch and frame"
          + " limits; with an operator certificate also MATCH, MISMATCH, REPLICA_CONFLICT, the"
          + " stop order and its resume (the kit resumes and resolves what it caused).",
      "",
      "Prints one line per rule (PASS, FAIL or SKIP, the rule id, what was seen) and a summary."
          + " Run it against a collector set up for the test: its reports mismatch, and the stop"
          + " policy stops that fleet until the kit resumes.",
      "",
      "'lockstep conformance serve' is the reverse: it plays the collector for an agent."
    },
    exitCodeListHeading = "%nEXIT STATUS%n",
    exitCodeList = {
      "0:Every rule checked passed.",
      "1:At least one rule failed.",
      "2:Bad usage (missing or unreadable certificate files, malformed address).",
      "3:The collector could not be reached."
    },
    footerHeading = "%nEXAMPLES%n",
    footer = {
      "  lockstep conformance --collector test-collector:7443 --ca ca.pem \\",
      "      --agent-cert conformance.pem --agent-key conformance-key.pem \\",
      "      --operator-cert alice.pem --operator-key alice-key.pem",
      "  lockstep conformance serve --listen 0.0.0.0:7443 --ca ca.pem --cert collector.pem --key collector-key.pem"
    },
    subcommands = ServeCommand.class)
public final class ConformanceCommand implements Callable<Integer> {
  /** grpc logs transport trouble as multi-line WARNINGs; the kit reports each rule in one line. */
  private static final java.util.logging.Logger GRPC_LOG = java.util.logging.Logger.getLogger("io.grpc");

  static {
    GRPC_LOG.setLevel(java.util.logging.Level.OFF);
  }

  @Option(names = "--collector", paramLabel = "HOST:PORT",
      defaultValue = "${env:LOCKSTEP_COLLECTOR:-127.0.0.1:7443}",
      description = "The collector to check (env LOCKSTEP_COLLECTOR; default ${DEFAULT-VALUE}).")
  String collector;

  @Option(names = "--ca", paramLabel = "FILE", description = "PEM CA that signs the collector's certificate.")
  Path ca;

  @Option(names = "--agent-cert", paramLabel = "FILE",
      description = "An agent certificate (OU agent); its CN is the agent id the kit reports as.")
  Path agentCert;

  @Option(names = "--agent-key", paramLabel = "FILE", description = "The key of --agent-cert.")
  Path agentKey;

  @Option(names = "--operator-cert", paramLabel = "FILE",
      description = "An operator certificate: verdicts, incidents and stops are read (and the kit's"
          + " own stop resumed) through the Operator API. Without it those rules are skipped.")
  Path operatorCert;

  @Option(names = "--operator-key", paramLabel = "FILE", description = "The key of --operator-cert.")
  Path operatorKey;

  @Option(names = "--insecure", description = "Plaintext, for a collector started with --insecure.")
  boolean insecure;

  @Option(names = "--agent-id", paramLabel = "ID", defaultValue = "conformance-kit",
      description = "With --insecure: the agent id to report as (default ${DEFAULT-VALUE}).")
  String agentId;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10s",
      converter = PositiveDuration.class,
      description = "How long to wait for each answer (default ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--resend-interval", paramLabel = "DURATION", defaultValue = "5s",
      converter = PositiveDuration.class,
      description = "The collector's stop.resend_interval (default ${DEFAULT-VALUE}).")
  Duration resendInterval;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    CollectorAddress address;
    List<ManagedChannel> channels = new ArrayList<>();
    try {
      address = CollectorAddress.parse(collector);
    } catch (IllegalArgumentException e) {
      err.println("lockstep: --collector: " + e.getMessage());
      return ExitCode.USAGE;
    }
    try {
      CollectorChecks.Target target = target(address, channels);
      Findings findings = new Findings(out);
      String tag = "conformance-" + HexFormat.of().formatHex(
          java.nio.ByteBuffer.allocate(6).putShort((short) ThreadLocalRandom.current().nextInt())
              .putInt((int) (System.currentTimeMillis() / 1000)).array());
      out.println("lockstep conformance: checking the collector at " + address + " as agent "
          + target.agentId() + " (runs " + tag + "-*)");
      out.println();
      boolean reached = new CollectorChecks(target, timeout, resendInterval, findings, tag).run();
      int code = findings.finish("collector " + address);
      if (!reached) {
        err.println("lockstep: cannot reach the collector at " + address);
        return ExitCode.COLLECTOR_ERROR;
      }
      return code;
    } catch (IllegalArgumentException e) {
      err.println("lockstep: " + e.getMessage());
      return ExitCode.USAGE;
    } finally {
      for (ManagedChannel c : channels) {
        c.shutdownNow();
        try {
          c.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      out.flush();
    }
  }

  private CollectorChecks.Target target(CollectorAddress address, List<ManagedChannel> channels) {
    if (insecure) {
      if (ca != null || agentCert != null || operatorCert != null) {
        throw new IllegalArgumentException("--insecure cannot be combined with certificates");
      }
      ManagedChannel plain = channel(address, InsecureChannelCredentials.create(), channels);
      return new CollectorChecks.Target(plain, plain, OperatorGrpc.newBlockingStub(plain), agentId, false);
    }
    require(ca, "--ca");
    require(agentCert, "--agent-cert");
    require(agentKey, "--agent-key");
    if ((operatorCert == null) != (operatorKey == null)) {
      throw new IllegalArgumentException("--operator-cert and --operator-key go together");
    }
    try {
      ManagedChannel agent = channel(address, Tls.channelCredentials(new TlsFiles(ca, agentCert, agentKey)), channels);
      ManagedChannel anonymous = channel(address, TlsChannelCredentials.newBuilder()
          .trustManager(ca.toFile()).build(), channels);
      OperatorGrpc.OperatorBlockingStub operator = null;
      if (operatorCert != null) {
        require(operatorCert, "--operator-cert");
        require(operatorKey, "--operator-key");
        operator = OperatorGrpc.newBlockingStub(channel(address,
            Tls.channelCredentials(new TlsFiles(ca, operatorCert, operatorKey)), channels));
      }
      return new CollectorChecks.Target(agent, anonymous, operator, commonName(agentCert), true);
    } catch (SecuritySetupException | IOException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  private static void require(Path file, String option) {
    if (file == null) throw new IllegalArgumentException(option + " is required (or --insecure)");
    if (!Files.isReadable(file)) throw new IllegalArgumentException(option + ": cannot read " + file);
  }

  private static ManagedChannel channel(CollectorAddress a, ChannelCredentials credentials,
      List<ManagedChannel> channels) {
    ManagedChannel c = NettyChannelBuilder.forAddress(a.host(), a.port(), credentials)
        .overrideAuthority(a.toString()).maxInboundMessageSize(16 << 20).build();
    channels.add(c);
    return c;
  }

  /** The identity (CN) of the first certificate in {@code pem}. */
  static String commonName(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      List<String> problems = new ArrayList<>();
      return Identity.fromCertificate(cert, problems).map(Identity::name).orElseThrow(() ->
          new IllegalArgumentException(pem + ": " + String.join("; ", problems)));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(pem + ": not a PEM certificate: " + e.getMessage(), e);
    }
  }

  /** A positive duration option ({@code 500ms}, {@code 10s}, {@code 2m}). */
  static final class PositiveDuration implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      Duration d = Durations.parse(value);
      if (d.isNegative() || d.isZero()) {
        throw new CommandLine.TypeConversionException("expected a positive duration, got '" + value + "'");
      }
      return d;
    }
  }
}
