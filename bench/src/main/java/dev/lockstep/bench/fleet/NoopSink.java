package dev.lockstep.bench.fleet;

import dev.lockstep.proto.v1.Ack;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.AgentGatewayGrpc;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.Welcome;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** A gRPC AgentGateway that acks every batch at once and stores nothing: the transport's ceiling. */
final class NoopSink extends AgentGatewayGrpc.AgentGatewayImplBase implements AutoCloseable {
  private final Server server;

  NoopSink() throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(this).maxInboundMessageSize(4 << 20).build().start();
  }

  int port() {
    return server.getPort();
  }

  @Override
  public StreamObserver<AgentFrame> connect(StreamObserver<CollectorFrame> responses) {
    return new StreamObserver<>() {
      @Override
      public void onNext(AgentFrame frame) {
        synchronized (responses) {
          switch (frame.getFrameCase()) {
            case HELLO -> responses.onNext(CollectorFrame.newBuilder().setWelcome(Welcome.newBuilder()
                .setAckedSeq(frame.getHello().getLastAckedSeq()).setMaxBatchEvents(500)).build());
            case EVENTS -> {
              int n = frame.getEvents().getEventsCount();
              if (n > 0) {
                long last = frame.getEvents().getEvents(n - 1).getSeq();
                responses.onNext(CollectorFrame.newBuilder().setAck(Ack.newBuilder().setUptoSeq(last)).build());
              }
            }
            default -> { }
          }
        }
      }

      @Override
      public void onError(Throwable t) { }

      @Override
      public void onCompleted() {
        synchronized (responses) {
          responses.onCompleted();
        }
      }
    };
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
