package dev.lockstep.collector.evidence;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.metrics.CollectorMetrics;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Closing the evidence intake waits for the store write under way: the collector closes its
 * RocksDB right after, and a write into a closed RocksDB crashes the JVM (seen: SIGSEGV in
 * {@code FailIfCfHasTs} when the fleet bench stopped a collector during evidence uploads).
 */
class WorkerShutdownTest {
  @Test
  void closeReturnsOnlyAfterTheTaskUnderWayFinished() throws Exception {
    ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor();
    EvidenceIntake intake = new EvidenceIntake(null, id -> Optional.empty(), in -> { },
        new CollectorMetrics(), Clock.systemUTC(), 1 << 20, 1 << 20, worker);
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean finished = new AtomicBoolean();
    worker.execute(() -> {
      started.countDown();
      // a native store write: not interruptible
      long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
      while (System.nanoTime() < until) {
        Thread.onSpinWait();
      }
      finished.set(true);
    });
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    intake.close();
    assertThat(finished).as("the write under way had finished when close() returned").isTrue();
    assertThat(worker.isTerminated()).isTrue();
  }
}
