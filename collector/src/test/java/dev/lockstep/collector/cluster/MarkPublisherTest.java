package dev.lockstep.collector.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Acked marks go out from the publisher's own thread, newest per agent, never from the caller's. */
class MarkPublisherTest {
  record Sent(String thread, String agent, long seq) {}

  @Test
  void marksPublishedFromManyThreadsGoOutFromItsOwnThreadNewestPerAgent() throws Exception {
    List<Sent> sent = new CopyOnWriteArrayList<>();
    Map<String, Long> latest = new ConcurrentHashMap<>();
    MarkPublisher p = new MarkPublisher((agent, seq) -> {
      sent.add(new Sent(Thread.currentThread().getName(), agent, seq));
      latest.merge(agent, seq, Math::max);
    }, () -> { }, 5);
    try {
      List<Thread> callers = new java.util.ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int first = t;
        callers.add(new Thread(() -> {
          for (long seq = 1; seq <= 2_000; seq++) p.publish("agent-" + ((seq + first) % 10), seq);
        }, "caller-" + t));
      }
      callers.forEach(Thread::start);
      for (Thread t : callers) t.join();
      dev.lockstep.collector.Eventually.await(Duration.ofSeconds(30), "every agent's newest mark out", () -> {
        for (int a = 0; a < 10; a++) {
          if (latest.getOrDefault("agent-" + a, 0L) < 1_990) return false;
        }
        return true;
      });
    } finally {
      p.close();
    }
    assertThat(sent).isNotEmpty().allMatch(s -> s.thread().equals("lockstep-acked-marks"));
    // newest per agent: 8,000 publishes collapse to far fewer sends
    assertThat(sent.size()).isLessThan(8_000);
  }

  @Test
  void closePublishesWhatIsPendingAndAFailedSendIsCountedNotFatal() throws Exception {
    List<Sent> sent = new CopyOnWriteArrayList<>();
    AtomicInteger failures = new AtomicInteger();
    // no drain before close: only close() publishes
    MarkPublisher p = new MarkPublisher((agent, seq) -> {
      if (agent.equals("bad")) throw new org.apache.kafka.common.errors.TimeoutException("no metadata");
      sent.add(new Sent(Thread.currentThread().getName(), agent, seq));
    }, failures::incrementAndGet, 3_600_000);
    p.publish("a", 3);
    p.publish("a", 7);
    p.publish("a", 5);
    p.publish("bad", 1);
    p.publish("b", 2);
    assertThat(sent).as("nothing sent on the callers' thread").isEmpty();
    p.close();
    assertThat(sent).extracting(Sent::agent, Sent::seq)
        .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("a", 7L), org.assertj.core.groups.Tuple.tuple("b", 2L));
    assertThat(failures.get()).isEqualTo(1);
  }
}
