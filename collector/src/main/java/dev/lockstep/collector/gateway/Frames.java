package dev.lockstep.collector.gateway;

import io.grpc.KnownLength;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;

/**
 * Agent frames as they wait to be handled, off the Java heap. A stream's frames are read ahead of
 * their handling (up to its read-ahead budget) and wait for the ingest threads; at 1,000 agents
 * that was ~110 MB of byte arrays (plus ~40 MB of evidence chunks) that every young collection
 * copied: G1 pauses of 100–330 ms, of which "Object Copy" was 100–145 ms, during the fleet
 * bench's loaded phase. In direct buffers the collector copies nothing.
 *
 * <p>Each frame has ONE owner: the task that parses it frees it right after parsing (the parse
 * copies every field), or the gateway frees it after parsing it on arrival. A frame nobody frees
 * (its task was refused) is freed by its cleaner after a collection, as any direct buffer.
 */
final class Frames {
  private static final sun.misc.Unsafe UNSAFE = unsafe();
  /**
   * Bytes of frames read and not yet freed by {@link #free} (all gateways of this JVM; a frame
   * left to its cleaner stays counted).
   */
  private static final java.util.concurrent.atomic.AtomicLong LIVE = new java.util.concurrent.atomic.AtomicLong();

  private Frames() {}

  /** Reads one whole frame from gRPC's message stream into a direct buffer. */
  static ByteBuffer read(InputStream stream) throws IOException {
    if (stream instanceof KnownLength) {
      int n = stream.available();
      ByteBuffer b = direct(n);
      ReadableByteChannel in = Channels.newChannel(stream);
      while (b.hasRemaining() && in.read(b) >= 0) {
        // reads until the frame is whole
      }
      if (!b.hasRemaining() && stream.read() < 0) return b.flip();
      free(b);
      throw new IOException("frame stream of " + n + " bytes did not match its length");
    }
    byte[] all = stream.readAllBytes();
    return direct(all.length).put(all).flip();
  }

  private static ByteBuffer direct(int n) {
    ByteBuffer b = ByteBuffer.allocateDirect(n);
    LIVE.addAndGet(n);
    return b;
  }

  /**
   * Bytes of frames read and not freed yet. The JVM's direct pool also holds other users' buffers
   * (gRPC's, the JDK's per-thread I/O buffers), so only this says whether frames were freed.
   */
  static long liveBytes() {
    return LIVE.get();
  }

  /** Releases {@code frame}'s memory now. Call once, after the last read of it. */
  static void free(ByteBuffer frame) {
    if (UNSAFE != null && frame.isDirect()) {
      int n = frame.capacity();
      UNSAFE.invokeCleaner(frame);
      LIVE.addAndGet(-n);
    }
  }

  private static sun.misc.Unsafe unsafe() {
    try {
      Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      return (sun.misc.Unsafe) f.get(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // frames are then freed by their cleaners after a collection
      return null;
    }
  }
}
