package dev.lockstep.agent.evidence;

import dev.lockstep.proto.lite.v1.AgentFrame;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Produces a frame sequence (an evidence answer) on another thread, a couple of frames ahead, so
 * that the uplink thread, which also takes the collector's stop commands, never reads a file: a
 * file that blocks (a FIFO, a hung network file system) holds up only the evidence thread. The
 * consumer asks {@link #ready()} before it pulls; {@code onReady} is called (on the producing
 * thread) whenever a frame became available or the sequence ended. {@link #close()} (a broken
 * stream) stops the producer.
 */
public final class Prefetch implements Iterator<AgentFrame>, AutoCloseable {
  private final BlockingQueue<AgentFrame> queue = new ArrayBlockingQueue<>(2);
  private volatile boolean finished;
  private volatile boolean closed;

  public Prefetch(ExecutorService executor, Supplier<Iterator<AgentFrame>> source, Runnable onReady) {
    try {
      executor.execute(() -> produce(source, onReady));
    } catch (RejectedExecutionException e) {
      finished = true; // shutting down
    }
  }

  private void produce(Supplier<Iterator<AgentFrame>> source, Runnable onReady) {
    try {
      Iterator<AgentFrame> it = source.get();
      while (!closed && it.hasNext()) {
        AgentFrame f = it.next();
        while (!closed && !queue.offer(f, 1, TimeUnit.SECONDS)) {
          // the uplink has not taken the frames ahead yet
        }
        onReady.run();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      System.getLogger(Prefetch.class.getName()).log(System.Logger.Level.ERROR, "evidence: capture failed: " + e);
    } finally {
      finished = true;
      onReady.run();
    }
  }

  /** Whether {@link #hasNext()} and {@link #next()} answer without waiting. */
  public boolean ready() {
    return !queue.isEmpty() || finished;
  }

  @Override
  public boolean hasNext() {
    return !queue.isEmpty() || !finished;
  }

  @Override
  public AgentFrame next() {
    AgentFrame f = queue.poll();
    if (f == null) {
      throw new NoSuchElementException();
    }
    return f;
  }

  @Override
  public void close() {
    closed = true;
    queue.clear();
  }
}
