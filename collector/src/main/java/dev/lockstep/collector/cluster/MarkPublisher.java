package dev.lockstep.collector.cluster;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Publishes each agent's acked mark on the acked topic from a thread of its own, every
 * {@code every} milliseconds, the newest mark of each agent only (a compacted topic keeps one per
 * agent anyway; a mark lower than the truth is safe, see {@link AckedMarks}).
 *
 * <p>Never from the producer's callback: a send there runs on Kafka's own network thread and can
 * block it (waiting for the topic's metadata, or for buffer space) while only that thread can
 * bring either. Seen in the fleet bench: the first mark of a collector's life held the network
 * thread for max.block.ms (5 s), so no agent's events were acked in cluster mode for the first
 * seconds, and that mark was dropped.
 */
final class MarkPublisher implements AutoCloseable {
  /** Produces one mark; may block (max.block.ms); failures are counted by the caller's producer. */
  interface Sender {
    void send(String agentId, long seq);
  }

  private final Map<String, Long> pending = new ConcurrentHashMap<>();
  private final Sender sender;
  private final Runnable failed;
  private final ScheduledExecutorService thread;

  MarkPublisher(Sender sender, Runnable failed, long everyMillis) {
    this.sender = sender;
    this.failed = failed;
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "lockstep-acked-marks");
      t.setDaemon(true);
      return t;
    });
    thread.scheduleWithFixedDelay(this::drain, everyMillis, everyMillis, TimeUnit.MILLISECONDS);
  }

  /** Never blocks: the mark goes out with the next drain (or a higher one of the same agent). */
  void publish(String agentId, long seq) {
    pending.merge(agentId, seq, Math::max);
  }

  private void drain() {
    for (String agent : pending.keySet()) {
      Long seq = pending.remove(agent);
      if (seq == null) continue;
      try {
        sender.send(agent, seq);
      } catch (RuntimeException e) {
        // the mark stays lower than the truth on the topic: safe, the agent resends and the core
        // drops what it already processed
        failed.run();
      }
    }
  }

  /** Stops the thread, then publishes what is still pending (before the producer closes). */
  @Override
  public void close() throws InterruptedException {
    thread.execute(this::drain);
    thread.shutdown();
    if (!thread.awaitTermination(10, TimeUnit.SECONDS)) thread.shutdownNow();
  }
}
