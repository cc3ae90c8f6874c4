package dev.lockstep.cli.client;

import dev.lockstep.proto.v1.OperatorGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One channel to the collector's Operator service for the life of one command. Owns the channel
 * and closes it. Every unary call gets its own deadline ({@link #operator()}); streams that run
 * until the operator cancels use {@link #operatorWithoutDeadline()}.
 */
public final class CollectorConnection implements AutoCloseable {
  /** Large enough for a page of incidents with their differences; evidence chunks are 256 KiB. */
  private static final int MAX_INBOUND_BYTES = 16 * 1024 * 1024;
  /** grpc logs resolver and transport trouble as multi-line WARNINGs; the CLI reports one line. */
  private static final Logger GRPC_LOG = Logger.getLogger("io.grpc");

  static {
    GRPC_LOG.setLevel(Level.OFF);
  }

  private final CollectorAddress address;
  private final Duration callTimeout;
  private final ManagedChannel channel;
  private final OperatorGrpc.OperatorBlockingStub operator;

  private CollectorConnection(CollectorAddress address, Duration callTimeout, ManagedChannel channel) {
    this.address = address;
    this.callTimeout = callTimeout;
    this.channel = channel;
    this.operator = OperatorGrpc.newBlockingStub(channel);
  }

  /**
   * Opens a channel (lazily: nothing is sent until the first call). Plaintext when {@code tls} is
   * null, TLS/mTLS otherwise.
   *
   * @throws UncheckedIOException when a PEM file cannot be parsed
   */
  public static CollectorConnection open(CollectorAddress address, TlsFiles tls, Duration callTimeout) {
    ChannelCredentials credentials;
    try {
      credentials = tls == null ? InsecureChannelCredentials.create() : tls.credentials();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load TLS files: " + e.getMessage(), e);
    }
    // NettyChannelBuilder directly: skips the provider registry's service loading at start-up.
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(address.host(), address.port(), credentials)
            .maxInboundMessageSize(MAX_INBOUND_BYTES)
            .userAgent("lockstep-cli")
            .build();
    return new CollectorConnection(address, callTimeout, channel);
  }

  public CollectorAddress address() {
    return address;
  }

  public Duration callTimeout() {
    return callTimeout;
  }

  /** The Operator stub with a fresh per-call deadline of {@link #callTimeout()}. */
  public OperatorGrpc.OperatorBlockingStub operator() {
    return operator.withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The Operator stub without deadline, for streams that last until cancelled. */
  public OperatorGrpc.OperatorBlockingStub operatorWithoutDeadline() {
    return operator;
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
