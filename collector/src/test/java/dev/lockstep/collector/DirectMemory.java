package dev.lockstep.collector;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/** The JVM's "direct" buffer pool, as tests of frames held off the heap read it. */
public final class DirectMemory {
  private DirectMemory() {}

  /** Bytes of direct buffers not yet freed. */
  public static long used() {
    return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(p -> p.getName().equals("direct")).findFirst().orElseThrow().getMemoryUsed();
  }
}
