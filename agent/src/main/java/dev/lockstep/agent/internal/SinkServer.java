package dev.lockstep.agent.internal;

import dev.lockstep.proto.lite.v1.Ack;
import dev.lockstep.proto.lite.v1.AgentFrame;
import dev.lockstep.proto.lite.v1.AgentGatewayGrpc;
import dev.lockstep.proto.lite.v1.CollectorFrame;
import dev.lockstep.proto.lite.v1.StopMode;
import dev.lockstep.proto.lite.v1.StopState;
import dev.lockstep.proto.lite.v1.Welcome;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test and benchmark sink, not a collector: serves AgentGateway on loopback, welcomes every agent
 * with "running, epoch 0" and acks every batch at once, storing nothing. Used by
 * {@code agent/bench-footprint.sh}. Usage: {@code SinkServer [PORT]} (0 or none = any free port);
 * prints {@code sink listening on PORT}, then a count line every 10 s.
 */
public final class SinkServer implements AutoCloseable {
  private final Server server;
  private final AtomicLong events = new AtomicLong();
  private final Map<String, Long> highest = new ConcurrentHashMap<>();

  public SinkServer(int port) throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .permitKeepAliveTime(20, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .maxInboundMessageSize(4 * 1024 * 1024)
        .addService(new AgentGatewayGrpc.AgentGatewayImplBase() {
          @Override
          public StreamObserver<AgentFrame> connect(StreamObserver<CollectorFrame> out) {
            return new StreamObserver<>() {
              String agent = "";

              @Override
              public void onNext(AgentFrame f) {
                switch (f.getFrameCase()) {
                  case HELLO -> {
                    agent = f.getHello().getAgentId();
                    long acked = Math.max(highest.getOrDefault(agent, 0L), f.getHello().getLastAckedSeq());
                    out.onNext(CollectorFrame.newBuilder().setWelcome(Welcome.newBuilder()
                        .setStop(StopState.newBuilder().setGeneration(0).setMode(StopMode.RUNNING))
                        .setAckedSeq(acked).setMaxBatchEvents(500).setMaxFrameBytes(4 * 1024 * 1024)
                        .setCollectorVersion("sink")).build());
                  }
                  case EVENTS -> {
                    int n = f.getEvents().getEventsCount();
                    if (n > 0) {
                      long last = f.getEvents().getEvents(n - 1).getSeq();
                      events.addAndGet(n);
                      highest.merge(agent, last, Math::max);
                      out.onNext(CollectorFrame.newBuilder().setAck(Ack.newBuilder().setUptoSeq(last)).build());
                    }
                  }
                  default -> { }
                }
              }

              @Override
              public void onError(Throwable t) {
                // agent went away
              }

              @Override
              public void onCompleted() {
                out.onCompleted();
              }
            };
          }
        })
        .build()
        .start();
  }

  public int port() {
    return server.getPort();
  }

  public long events() {
    return events.get();
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

  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    SinkServer s = new SinkServer(port);
    System.out.println("sink listening on " + s.port());
    System.out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(s::close));
    while (true) {
      Thread.sleep(10_000);
      System.out.println("sink: " + s.events() + " events acked");
      System.out.flush();
    }
  }
}
