package dev.lockstep.cli.conformance;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.AgentGatewayGrpc;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.security.Identity;
import dev.lockstep.security.IdentityInterceptor;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The kit as a collector: a real AgentGateway server (mTLS or plaintext) whose streams are
 * handed, one {@link Connection} each, to the script that checks the agent. It answers nothing by
 * itself; the script decides every frame the agent receives.
 */
final class KitCollector implements AutoCloseable {
  private final Server server;
  private final Clock clock;
  private final BlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();

  /** Listens on {@code host:port}; {@code credentials} null means plaintext. */
  KitCollector(String host, int port, ServerCredentials credentials, Clock clock) throws IOException {
    this.clock = clock;
    MethodDescriptor<byte[], CollectorFrame> method = AgentGatewayGrpc.getConnectMethod()
        .toBuilder(RawStream.BYTES, ProtoUtils.marshaller(CollectorFrame.getDefaultInstance())).build();
    ServerServiceDefinition service = ServerServiceDefinition.builder(ServiceDescriptor
            .newBuilder(AgentGatewayGrpc.SERVICE_NAME).addMethod(method).build())
        .addMethod(method, ServerCalls.asyncBidiStreamingCall(this::connect)).build();
    IdentityInterceptor identities = credentials == null ? IdentityInterceptor.insecure()
        : IdentityInterceptor.mtls(dev.lockstep.security.AuditSink.NONE, clock);
    server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port),
            credentials == null ? io.grpc.InsecureServerCredentials.create() : credentials)
        .maxInboundMessageSize(8 << 20)
        .addService(ServerInterceptors.intercept(service, identities))
        .build().start();
  }

  int port() {
    return server.getPort();
  }

  /** The next agent stream opened within {@code wait}, or null. */
  Connection accept(Duration wait) {
    try {
      return accepted.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private StreamObserver<byte[]> connect(StreamObserver<CollectorFrame> out) {
    Connection c = new Connection((ServerCallStreamObserver<CollectorFrame>) out,
        Identity.current(), clock);
    accepted.add(c);
    return new StreamObserver<>() {
      @Override
      public void onNext(byte[] bytes) {
        c.received(bytes);
      }

      @Override
      public void onError(Throwable t) {
        c.ended(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        c.ended(Status.OK);
      }
    };
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One agent stream: what the agent sent, in order, and the kit's way to answer it. */
  static final class Connection {
    private final ServerCallStreamObserver<CollectorFrame> out;
    private final Identity identity;
    private final Clock clock;
    private final Instant openedAt;
    private final List<AgentFrame> frames = new ArrayList<>();
    private final List<Instant> arrivals = new ArrayList<>();
    private final List<String> garbage = new ArrayList<>();
    private Status ended;

    Connection(ServerCallStreamObserver<CollectorFrame> out, Identity identity, Clock clock) {
      this.out = out;
      this.identity = identity;
      this.clock = clock;
      this.openedAt = clock.instant();
    }

    Identity identity() {
      return identity;
    }

    Instant openedAt() {
      return openedAt;
    }

    private synchronized void received(byte[] bytes) {
      try {
        frames.add(AgentFrame.parseFrom(bytes));
        arrivals.add(clock.instant());
      } catch (InvalidProtocolBufferException e) {
        garbage.add(bytes.length + " bytes: " + e.getMessage());
      }
      notifyAll();
    }

    private synchronized void ended(Status s) {
      if (ended == null) ended = s;
      notifyAll();
    }

    /** Every frame received so far. */
    synchronized List<AgentFrame> frames() {
      return List.copyOf(frames);
    }

    /** When each of {@link #frames()} arrived. */
    synchronized List<Instant> arrivals() {
      return List.copyOf(arrivals);
    }

    /** Frames that did not parse as an AgentFrame. */
    synchronized List<String> garbage() {
      return List.copyOf(garbage);
    }

    /** Waits until {@code done} holds for the frames received, up to {@code wait}; whether it did. */
    synchronized boolean await(Duration wait, Predicate<List<AgentFrame>> done) {
      long until = System.nanoTime() + wait.toNanos();
      while (!done.test(frames)) {
        long left = until - System.nanoTime();
        if (left <= 0 || ended != null) return done.test(frames);
        try {
          TimeUnit.NANOSECONDS.timedWait(this, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return true;
    }

    synchronized Status endedWith() {
      return ended;
    }

    synchronized void send(CollectorFrame f) {
      if (ended != null) return;
      try {
        out.onNext(f);
      } catch (RuntimeException e) {
        ended = Status.CANCELLED.withDescription("send failed: " + e.getMessage());
      }
    }

    synchronized void close(Status status) {
      if (ended != null) return;
      ended = status;
      try {
        if (status.isOk()) {
          out.onCompleted();
        } else {
          out.onError(status.asRuntimeException());
        }
      } catch (RuntimeException e) {
        // the agent is gone already
      }
      notifyAll();
    }
  }
}
