package dev.lockstep.cli.conformance;

import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Lists a server's services through gRPC server reflection, v1 or v1alpha. */
final class Reflection {
  private Reflection() {}

  /** The services {@code version} ("v1" or "v1alpha") reflection lists. */
  static List<String> listServices(Channel channel, String version, Duration timeout) {
    CompletableFuture<List<String>> names = new CompletableFuture<>();
    if (version.equals("v1")) {
      var req = io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel)
          .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .serverReflectionInfo(observer(names, r -> {
            List<String> out = new ArrayList<>();
            r.getListServicesResponse().getServiceList().forEach(s -> out.add(s.getName()));
            return out;
          }));
      req.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
      req.onCompleted();
    } else {
      var req = io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(channel)
          .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .serverReflectionInfo(observer(names, r -> {
            List<String> out = new ArrayList<>();
            r.getListServicesResponse().getServiceList().forEach(s -> out.add(s.getName()));
            return out;
          }));
      req.onNext(io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder().setListServices("").build());
      req.onCompleted();
    }
    try {
      return names.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw io.grpc.Status.fromThrowable(e.getCause()).asRuntimeException();
    } catch (TimeoutException e) {
      throw io.grpc.Status.DEADLINE_EXCEEDED.withDescription("no reflection answer").asRuntimeException();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw io.grpc.Status.CANCELLED.asRuntimeException();
    }
  }

  private static <R> StreamObserver<R> observer(CompletableFuture<List<String>> names,
      java.util.function.Function<R, List<String>> read) {
    return new StreamObserver<>() {
      @Override
      public void onNext(R r) {
        names.complete(read.apply(r));
      }

      @Override
      public void onError(Throwable t) {
        names.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        names.complete(List.of());
      }
    };
  }
}
