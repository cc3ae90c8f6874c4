package dev.lockstep.collector;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition until it holds or a deadline passes (tests never sleep for a timeout). */
public final class Eventually {
  private Eventually() {}

  public static void await(Duration timeout, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        if (condition.getAsBoolean()) return;
      } catch (RuntimeException e) {
        if (System.nanoTime() > deadline) throw new AssertionError("gave up waiting for " + what, e);
      }
      if (System.nanoTime() > deadline) throw new AssertionError("gave up waiting for " + what);
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }

  /** Checks that {@code condition} holds throughout {@code period} (after what it guards happened). */
  public static void holdsFor(Duration period, String what, BooleanSupplier condition) {
    long end = System.nanoTime() + period.toNanos();
    while (System.nanoTime() < end) {
      if (!condition.getAsBoolean()) throw new AssertionError("did not hold: " + what);
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted checking " + what);
      }
    }
  }

  public static <T> T value(Duration timeout, String what, Supplier<T> supplier) {
    Object[] box = new Object[1];
    await(timeout, what, () -> {
      box[0] = supplier.get();
      return box[0] != null;
    });
    @SuppressWarnings("unchecked")
    T t = (T) box[0];
    return t;
  }
}
