package dev.lockstep.collector;

import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.AgentGatewayGrpc;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EventBatch;
import dev.lockstep.proto.v1.Hello;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopState;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A hand-driven agent stream: sends any bytes, records every frame the collector sends. */
public final class RawAgent implements AutoCloseable {
  static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  final String agentId;
  private final ManagedChannel channel;
  private final StreamObserver<byte[]> out;
  final List<CollectorFrame> received = new CopyOnWriteArrayList<>();
  volatile Status closedWith;

  RawAgent(int port, String agentId) {
    this(NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
        .maxInboundMessageSize(8 << 20).build(), agentId);
  }

  /** A stream over {@code channel} (e.g. mTLS); this agent owns and closes the channel. */
  RawAgent(ManagedChannel channel, String agentId) {
    this.agentId = agentId;
    this.channel = channel;
    MethodDescriptor<byte[], CollectorFrame> method = AgentGatewayGrpc.getConnectMethod()
        .toBuilder(RAW, ProtoUtils.marshaller(CollectorFrame.getDefaultInstance())).build();
    ClientCall<byte[], CollectorFrame> call = channel.newCall(method, CallOptions.DEFAULT);
    out = ClientCalls.asyncBidiStreamingCall(call, new StreamObserver<>() {
      @Override
      public void onNext(CollectorFrame f) {
        received.add(f);
      }

      @Override
      public void onError(Throwable t) {
        closedWith = Status.fromThrowable(t);
      }

      @Override
      public void onCompleted() {
        closedWith = Status.OK;
      }
    });
  }

  /** Connects and sends Hello. */
  public static RawAgent connect(int port, String agentId) {
    return new RawAgent(port, agentId).hello();
  }

  /** Sends Hello as {@link #agentId}. */
  RawAgent hello() {
    return hello(StopState.getDefaultInstance());
  }

  /** Sends Hello as {@link #agentId}, claiming to have enacted {@code enacted}. */
  RawAgent hello(StopState enacted) {
    return send(AgentFrame.newBuilder().setHello(Hello.newBuilder().setAgentId(agentId)
        .setHostname(agentId + ".local").setVersion("test").setEnactedStop(enacted)).build());
  }

  /** The last desired state received (Welcome or StopCommand). */
  StopState lastStop() {
    List<StopState> s = stops();
    return s.isEmpty() ? null : s.get(s.size() - 1);
  }

  RawAgent send(AgentFrame f) {
    synchronized (out) {
      out.onNext(f.toByteArray());
    }
    return this;
  }

  RawAgent sendBytes(byte[] b) {
    synchronized (out) {
      out.onNext(b);
    }
    return this;
  }

  RawAgent events(Event... events) {
    return send(AgentFrame.newBuilder().setEvents(EventBatch.newBuilder().addAllEvents(List.of(events))).build());
  }

  private long seq;

  /** Sends golden reports as events with this agent's next seqs. */
  public synchronized RawAgent report(dev.lockstep.proto.v1.GoldenReport... reports) {
    List<Event> events = new ArrayList<>();
    for (var r : reports) events.add(Goldens.golden(++seq, r));
    return events(events.toArray(new Event[0]));
  }

  public synchronized long lastSeq() {
    return seq;
  }

  public synchronized void seq(long s) {
    seq = s;
  }

  RawAgent ack(StopState s, boolean ok) {
    return send(AgentFrame.newBuilder().setStopAck(StopAck.newBuilder().setGeneration(s.getGeneration())
        .setMode(s.getMode()).setEnacted(ok).setVerified(ok).setDetail(ok ? "stopped" : "hook failed")).build());
  }

  public CollectorFrame await(String what, Predicate<CollectorFrame> p) {
    return Eventually.value(Duration.ofSeconds(30), what, () -> {
      for (CollectorFrame f : received) {
        if (p.test(f)) return f;
      }
      return null;
    });
  }

  long ackedUpTo() {
    long max = -1;
    for (CollectorFrame f : received) {
      if (f.hasAck()) max = Math.max(max, f.getAck().getUptoSeq());
    }
    return max;
  }

  List<StopState> stops() {
    List<StopState> out = new ArrayList<>();
    for (CollectorFrame f : received) {
      if (f.hasStop()) out.add(f.getStop().getState());
      if (f.hasWelcome()) out.add(f.getWelcome().getStop());
    }
    return out;
  }

  void complete() {
    synchronized (out) {
      out.onCompleted();
    }
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
