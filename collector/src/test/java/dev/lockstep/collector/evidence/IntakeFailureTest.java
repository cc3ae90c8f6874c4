package dev.lockstep.collector.evidence;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.proto.v1.EvidenceChunk;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A chunk whose handling fails (an exception, or an Error such as running out of memory while an
 * artifact is hashed) is dropped, and the agent's stream still gets its next frame: otherwise
 * the stream's later frames, stop acks among them, would wait for ever behind it.
 */
class IntakeFailureTest {
  @Test
  void aChunkWhoseHandlingThrowsStillLetsTheStreamGoOn() throws Exception {
    ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor();
    CollectorMetrics metrics = new CollectorMetrics();
    boolean[] error = {true};
    EvidenceIntake intake = new EvidenceIntake(null, id -> {
      if (error[0]) throw new OutOfMemoryError("hashing an artifact");
      throw new IllegalStateException("store read failed");
    }, in -> { }, metrics, Clock.systemUTC(), 1 << 20, 1 << 20, worker);
    try {
      EvidenceChunk chunk = EvidenceChunk.newBuilder().setRequestId("REQ-1").build();
      CountDownLatch next = new CountDownLatch(1);
      intake.offer("host-a", chunk, next::countDown);
      assertThat(next.await(10, TimeUnit.SECONDS)).as("next frame after an Error").isTrue();
      worker.submit(() -> error[0] = false).get(10, TimeUnit.SECONDS);
      CountDownLatch next2 = new CountDownLatch(1);
      intake.offer("host-a", chunk, next2::countDown);
      assertThat(next2.await(10, TimeUnit.SECONDS)).as("next frame after an exception").isTrue();
      worker.submit(() -> { }).get(10, TimeUnit.SECONDS);
      assertThat(metrics.internalErrors.labelValues("evidence").get()).isEqualTo(2);
    } finally {
      intake.close();
    }
  }
}
