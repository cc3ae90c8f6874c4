package dev.lockstep.collector.gateway;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The collector-wide budget for frames read ahead of the one a stream is handling: the bytes of
 * every frame delivered and not yet finished, across all streams. A stream asks for one more
 * frame while earlier ones wait only while it holds fewer than {@link #MAX_FRAMES} frames and
 * under {@link #maxBytesPerStream} bytes, and the total is under {@link #maxBytes}; a stream
 * always gets the frame after the one it finished, as without read-ahead. The check is made
 * before the frame's size is known, and a stream has at most one request outstanding, so a
 * stream holds at most {@code maxBytesPerStream} plus one frame (up to
 * {@link AgentGateway#TRANSPORT_MAX_BYTES}), and the collector at most {@code maxBytes} plus one
 * frame per stream. Frames read ahead are only held: each is handled after the one before it is
 * finished (see {@link SerialExecutor#open()}).
 */
final class ReadAhead {
  /** Frames a stream may hold delivered and not handled: an agent's window of batches, plus one. */
  static final int MAX_FRAMES = 9;
  private final long maxBytes;
  private final long maxBytesPerStream;
  private final AtomicLong held = new AtomicLong();

  ReadAhead(long maxBytes, long maxBytesPerStream) {
    this.maxBytes = maxBytes;
    this.maxBytesPerStream = maxBytesPerStream;
  }

  /** The default budget: 1/16 of the heap, at most 256 MiB; 2 MiB per stream. */
  static ReadAhead forHeap() {
    return new ReadAhead(Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 16), 2L << 20);
  }

  void add(long bytes) {
    held.addAndGet(bytes);
  }

  void release(long bytes) {
    held.addAndGet(-bytes);
  }

  /** Whether a stream holding {@code streamBytes} in {@code streamFrames} frames may ask for one more. */
  boolean allows(int streamFrames, long streamBytes) {
    return streamFrames < MAX_FRAMES && streamBytes < maxBytesPerStream && held.get() < maxBytes;
  }

  /** Bytes held now (tests, metrics). */
  long held() {
    return held.get();
  }
}
