package dev.lockstep.cli.conformance;

import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.AgentGatewayGrpc;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EventBatch;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One AgentGateway.Connect stream opened by the kit as an agent. Frames go out as raw bytes (so
 * the kit can send what a well-behaved agent never would); what comes back is queued in order,
 * and how the stream ended is kept.
 */
final class RawStream implements AutoCloseable {
  static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
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

  private final StreamObserver<byte[]> out;
  private final BlockingQueue<CollectorFrame> in = new LinkedBlockingQueue<>();
  private final List<CollectorFrame> seen = new CopyOnWriteArrayList<>();
  private final CountDownLatch ended = new CountDownLatch(1);
  private volatile Status status;

  RawStream(Channel channel) {
    MethodDescriptor<byte[], CollectorFrame> method = AgentGatewayGrpc.getConnectMethod()
        .toBuilder(BYTES, ProtoUtils.marshaller(CollectorFrame.getDefaultInstance())).build();
    ClientCall<byte[], CollectorFrame> call = channel.newCall(method, CallOptions.DEFAULT);
    out = ClientCalls.asyncBidiStreamingCall(call, new StreamObserver<>() {
      @Override
      public void onNext(CollectorFrame f) {
        seen.add(f);
        in.add(f);
      }

      @Override
      public void onError(Throwable t) {
        status = Status.fromThrowable(t);
        ended.countDown();
      }

      @Override
      public void onCompleted() {
        status = Status.OK;
        ended.countDown();
      }
    });
  }

  RawStream send(AgentFrame frame) {
    return sendBytes(frame.toByteArray());
  }

  synchronized RawStream sendBytes(byte[] bytes) {
    try {
      out.onNext(bytes);
    } catch (RuntimeException e) {
      // the stream already ended; its status says why
    }
    return this;
  }

  RawStream hello(dev.lockstep.proto.v1.Hello hello) {
    return send(AgentFrame.newBuilder().setHello(hello).build());
  }

  RawStream events(List<Event> events) {
    return send(AgentFrame.newBuilder().setEvents(EventBatch.newBuilder().addAllEvents(events)).build());
  }

  /** The next frame received within {@code wait}, or null. */
  CollectorFrame next(Duration wait) {
    try {
      return in.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** The first frame matching {@code wanted} within {@code wait} (others are skipped), or null. */
  CollectorFrame next(Duration wait, Predicate<CollectorFrame> wanted) {
    long until = System.nanoTime() + wait.toNanos();
    while (true) {
      long left = until - System.nanoTime();
      if (left <= 0) return null;
      CollectorFrame f = next(Duration.ofNanos(left));
      if (f == null) return null;
      if (wanted.test(f)) return f;
    }
  }

  /** How the stream ended, waiting up to {@code wait}; null while it is still open. */
  Status ended(Duration wait) {
    try {
      ended.await(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return status;
  }

  /** Every frame received so far, in order. */
  List<CollectorFrame> seen() {
    return List.copyOf(seen);
  }

  @Override
  public synchronized void close() {
    if (status != null) return;
    try {
      out.onCompleted();
    } catch (RuntimeException e) {
      // already ended
    }
  }
}
