package dev.lockstep.cli.client;

import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.security.SecuritySetupException;
import dev.lockstep.security.Tls;
import dev.lockstep.security.TlsFiles;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
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
  private static final String NETTY_JFR = "io.grpc.netty.shaded.io.netty.jfr.enabled";

  static {
    GRPC_LOG.setLevel(Level.OFF);
    // Netty's JFR buffer events cost ~0.1 s of start-up (JFR metadata) and a CLI never records.
    if (System.getProperty(NETTY_JFR) == null) {
      System.setProperty(NETTY_JFR, "false");
    }
  }

  private final CollectorAddress address;
  private final Duration callTimeout;
  private final ManagedChannel channel;
  private final OperatorGrpc.OperatorBlockingStub operator;

  private final EventLoopGroup loop;
  private final boolean tls;

  private CollectorConnection(
      CollectorAddress address, Duration callTimeout, ManagedChannel channel, EventLoopGroup loop,
      boolean tls) {
    this.loop = loop;
    this.tls = tls;
    this.address = address;
    this.callTimeout = callTimeout;
    this.channel = channel;
    this.operator = OperatorGrpc.newBlockingStub(channel);
  }

  /**
   * Opens a channel (lazily: nothing is sent until the first call). Plaintext when {@code tls} is
   * null ({@code --insecure}), mTLS from the security module otherwise (loaded once: a command is
   * short-lived).
   *
   * @throws IllegalArgumentException naming the file when a PEM file cannot be used
   */
  public static CollectorConnection open(CollectorAddress address, TlsFiles tls, Duration callTimeout) {
    ChannelCredentials credentials;
    try {
      credentials = tls == null ? InsecureChannelCredentials.create() : Tls.channelCredentials(tls);
    } catch (SecuritySetupException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    // Start-up matters for a CLI: NettyChannelBuilder directly (no provider registry), the
    // address resolved once here (no DNS resolver thread pool), and plain NIO with one event
    // loop thread (no native epoll library extracted to /tmp on every run).
    EventLoopGroup loop = new MultiThreadIoEventLoopGroup(
        1, new DefaultThreadFactory("lockstep-cli-io", true), NioIoHandler.newFactory());
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(new InetSocketAddress(address.host(), address.port()), credentials)
            .overrideAuthority(address.toString())
            .channelType(NioSocketChannel.class)
            .eventLoopGroup(loop)
            .maxInboundMessageSize(MAX_INBOUND_BYTES)
            .userAgent("lockstep-cli")
            .build();
    return new CollectorConnection(address, callTimeout, channel, loop, tls != null);
  }

  public CollectorAddress address() {
    return address;
  }

  /** Whether the channel uses TLS. */
  public boolean tls() {
    return tls;
  }

  public Duration callTimeout() {
    return callTimeout;
  }

  /** The Operator stub with a fresh per-call deadline of {@link #callTimeout()}. */
  public OperatorGrpc.OperatorBlockingStub operator() {
    return operator.withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The channel itself (the web console makes its calls on it, each with its own deadline). */
  public io.grpc.Channel channel() {
    return channel;
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
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
