package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.config.CollectorConfig;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The core thread ending on an Error (out of memory, a stack overflow) must not leave a collector
 * that looks healthy and stores and acks events while nothing is decided: health turns
 * NOT_SERVING, the failure is reported, inputs are refused at once, and the fatal action (the
 * command line's exit, for the service manager to restart it) runs.
 */
class CoreDeathTest {
  @TempDir Path dir;

  @Test
  void anErrorOnTheCoreThreadTurnsHealthNotServingAndRunsTheFatalAction() throws Exception {
    List<String> lines = new CopyOnWriteArrayList<>();
    CollectorConfig config = CollectorConfig.defaults(dir).withInsecure(true).withListen("127.0.0.1", 0);
    try (Collector c = Collector.start(config, Clock.systemUTC(), lines::add)) {
      CompletableFuture<Throwable> fatal = new CompletableFuture<>();
      c.onFatal(fatal::complete);
      ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", c.port()).usePlaintext().build();
      try {
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
        assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
            .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        c.coreHost.runOnCore(() -> {
          throw new StackOverflowError("injected");
        });
        Throwable t = fatal.get(30, TimeUnit.SECONDS);
        assertThat(t).isInstanceOf(StackOverflowError.class).hasMessage("injected");
        assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
            .isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING);
        assertThat(lines).anyMatch(l -> l.startsWith("FATAL: the core thread died"));
        assertThat(c.coreHost.dead()).isTrue();
        CompletableFuture<Object> after = c.coreHost.runOnCore(() -> { });
        assertThat(after).as("refused at once, not after an operator's timeout").isCompletedExceptionally();
        try {
          after.get();
        } catch (ExecutionException e) {
          assertThat(e.getCause()).hasMessageContaining("core thread died");
        }
      } finally {
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
