package dev.lockstep.collector.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.Eventually;
import dev.lockstep.collector.auth.CallerInterceptor;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.AgentGatewayGrpc;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.Hello;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopState;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The identity hook: an authenticated peer may only say Hello as itself. */
class IdentityTest {
  @TempDir Path dir;

  static final class Listener implements GatewayListener {
    final List<String> accepted = new CopyOnWriteArrayList<>();

    public StopState accepted(AgentSession s) {
      accepted.add(s.agentId() + " as " + s.identity().orElse("?"));
      return StopState.getDefaultInstance();
    }

    public void welcomed(AgentSession s) { }

    public void stored(AgentSession s, List<Event> e, long at) { }

    public void stopAck(AgentSession s, StopAck a) { }

    public void evidence(AgentSession s, EvidenceChunk c) { }

    public void disconnected(AgentSession s) { }
  }

  record Outcome(List<CollectorFrame> frames, Status[] status) {}

  static Outcome hello(ManagedChannel ch, String agentId) {
    List<CollectorFrame> frames = new CopyOnWriteArrayList<>();
    Status[] status = new Status[1];
    StreamObserver<AgentFrame> out = AgentGatewayGrpc.newStub(ch).connect(new StreamObserver<>() {
      public void onNext(CollectorFrame f) { frames.add(f); }
      public void onError(Throwable t) { status[0] = Status.fromThrowable(t); }
      public void onCompleted() { status[0] = Status.OK; }
    });
    out.onNext(AgentFrame.newBuilder().setHello(Hello.newBuilder().setAgentId(agentId)).build());
    return new Outcome(frames, status);
  }

  @Test
  void anAuthenticatedPeerCannotClaimAnotherAgentId() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    Listener listener = new Listener();
    try (Store store = Store.open(dir, true, 8 << 20, 8 << 20)) {
      AgentGateway gateway = new AgentGateway(store, listener, pool, new CollectorMetrics(), Clock.systemUTC());
      Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .addService(ServerInterceptors.intercept(gateway.service(),
              new CallerInterceptor(attributes -> Optional.of("host-a"))))
          .build().start();
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
      try {
        Outcome impostor = hello(ch, "host-b");
        Eventually.await(Duration.ofSeconds(5), "refused", () -> impostor.status()[0] != null);
        assertThat(impostor.status()[0].getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(impostor.status()[0].getDescription()).contains("'host-a' may not report as agent 'host-b'");
        Outcome honest = hello(ch, "host-a");
        Eventually.await(Duration.ofSeconds(5), "welcome", () -> honest.frames().stream().anyMatch(CollectorFrame::hasWelcome));
        assertThat(listener.accepted).containsExactly("host-a as host-a");
      } finally {
        ch.shutdownNow();
        server.shutdownNow().awaitTermination();
        pool.shutdownNow();
      }
    }
  }
}
