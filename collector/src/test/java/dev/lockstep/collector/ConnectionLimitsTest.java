package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.WatchEvent;
import dev.lockstep.proto.v1.WatchRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one connection to the agent port may carry: a bounded number of calls, of which only a few
 * agent streams (an agent needs one), while an operator's console still carries all its live
 * views and API calls over its one connection.
 */
class ConnectionLimitsTest {
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113, 6.5.2). */
  static final int MAX_CONCURRENT_STREAMS = 3;
  @TempDir Path dir;
  Collector collector;
  final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    collector = Collector.start(CollectorConfig.defaults(dir).withInsecure(true)
        .withListen("127.0.0.1", 0), Clock.systemUTC(), l -> { });
  }

  @AfterEach
  void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    collector.close();
  }

  ManagedChannel connection() {
    ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", collector.port()).usePlaintext().build();
    channels.add(c);
    return c;
  }

  /** The SETTINGS the collector sends first on a new HTTP/2 connection (plaintext). */
  Map<Integer, Long> serverSettings() throws IOException {
    try (Socket socket = new Socket("127.0.0.1", collector.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // an empty SETTINGS frame
      out.flush();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      while (true) {
        int length = in.readUnsignedByte() << 16 | in.readUnsignedShort();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        in.readInt(); // stream id
        ByteBuffer payload = ByteBuffer.wrap(in.readNBytes(length));
        if (type != 4 || (flags & 1) != 0) continue; // not SETTINGS, or the ack of ours
        Map<Integer, Long> settings = new HashMap<>();
        while (payload.remaining() >= 6) {
          settings.put(payload.getShort() & 0xffff, payload.getInt() & 0xffffffffL);
        }
        return settings;
      }
    }
  }

  @Test
  void theAgentPortBoundsTheCallsOfOneConnection() throws Exception {
    assertThat(serverSettings()).containsEntry(MAX_CONCURRENT_STREAMS,
        (long) Collector.MAX_CALLS_PER_CONNECTION);
  }

  @Test
  void oneConnectionCarriesAtMostFourAgentStreams() {
    ManagedChannel connection = connection();
    List<RawAgent> streams = new ArrayList<>();
    for (int i = 0; i < 5; i++) streams.add(new RawAgent(connection, "host-" + i).hello());
    Eventually.await(Duration.ofSeconds(10), "four welcomed and one refused", () ->
        streams.stream().filter(s -> !s.received.isEmpty()).count() == 4
            && streams.stream().filter(s -> s.closedWith != null).count() == 1);
    RawAgent refused = streams.stream().filter(s -> s.closedWith != null).findFirst().orElseThrow();
    assertThat(refused.closedWith.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(refused.closedWith.getDescription()).contains("already carries 4 agent streams");
    assertThat(refused.received).as("refused before its Hello was read").isEmpty();
    // a stream that ended gives its place on the connection back
    RawAgent leaving = streams.stream().filter(s -> s.closedWith == null).findFirst().orElseThrow();
    leaving.complete();
    Eventually.await(Duration.ofSeconds(10), "stream ended", () -> leaving.closedWith != null);
    new RawAgent(connection, refused.agentId).hello().await("welcome on the freed place", f -> f.hasWelcome());
  }

  @Test
  void anOperatorConsoleCarriesItsLiveViewsAndCallsOverOneConnection() {
    // lockstep console: up to 32 live views and 48 API calls at once, all on one connection
    OperatorGrpc.OperatorStub operator = OperatorGrpc.newStub(connection());
    AtomicInteger answered = new AtomicInteger();
    for (int i = 0; i < 80; i++) {
      operator.watch(WatchRequest.newBuilder().setIncludeCurrent(true).build(), new StreamObserver<>() {
        boolean first = true;

        @Override
        public void onNext(WatchEvent e) {
          if (first) answered.incrementAndGet();
          first = false;
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onCompleted() {
        }
      });
    }
    Eventually.await(Duration.ofSeconds(20), "every call answered", () -> answered.get() == 80);
  }
}
