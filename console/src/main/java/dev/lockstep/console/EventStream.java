package dev.lockstep.console;

import com.sun.net.httpserver.HttpExchange;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.WatchEvent;
import dev.lockstep.proto.v1.WatchRequest;
import dev.lockstep.security.Caller;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * {@code GET /api/watch}: the Operator API's Watch stream as server-sent events, one
 * {@code data:} line per WatchEvent in proto3 JSON (the current open incidents and stop state first),
 * a comment every {@link #HEARTBEAT} so a dead connection is noticed, and {@code event: end} with
 * the reason when the watch ends (the browser's EventSource reconnects by itself). One thread per
 * stream, owned by the console's stream executor; the watch is cancelled when the browser goes.
 */
final class EventStream {
  static final Duration HEARTBEAT = Duration.ofSeconds(15);
  /** More queued than this and the browser is not reading: the stream ends. */
  private static final int QUEUE = 2000;
  private static final Object END = new Object();

  private final Backend backend;

  EventStream(Backend backend) {
    this.backend = backend;
  }

  /** Runs until the browser goes, the watch ends or {@code closing} says the console stops. */
  void run(HttpExchange ex, Caller caller, BooleanSupplier closing) throws IOException {
    BlockingQueue<Object> queue = new ArrayBlockingQueue<>(QUEUE + 1);
    ClientCallStreamObserver<WatchRequest>[] call = new ClientCallStreamObserver[1];
    ClientResponseObserver<WatchRequest, WatchEvent> observer = new ClientResponseObserver<>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<WatchRequest> requestStream) {
        call[0] = requestStream;
      }

      @Override
      public void onNext(WatchEvent e) {
        if (!queue.offer(e)) {
          call[0].cancel("browser not reading", null);
        }
      }

      @Override
      public void onError(Throwable t) {
        queue.clear();
        queue.offer(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        queue.offer(END);
      }
    };
    ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ex.getResponseHeaders().set("X-Accel-Buffering", "no");
    ex.sendResponseHeaders(200, 0);
    OperatorGrpc.newStub(backend.channel(caller))
        .watch(WatchRequest.newBuilder().setIncludeCurrent(true).build(), observer);
    try (OutputStream out = ex.getResponseBody()) {
      write(out, "retry: 2000\n\n");
      while (!closing.getAsBoolean()) {
        Object next = queue.poll(HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
        if (next == null) {
          write(out, ": still here\n\n");
        } else if (next instanceof WatchEvent e) {
          write(out, "data: " + Api.print(e) + "\n\n");
        } else if (next instanceof Status s) {
          write(out, "event: end\ndata: " + Http.quote(backend.explain(s)) + "\n\n");
          return;
        } else {
          write(out, "event: end\ndata: \"the collector ended the watch\"\n\n");
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (call[0] != null) {
        call[0].cancel("browser left", null);
      }
    }
  }

  private static void write(OutputStream out, String s) throws IOException {
    out.write(s.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }
}
