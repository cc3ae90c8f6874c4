package dev.lockstep.agent.metrics;

import java.util.concurrent.atomic.AtomicLong;

/** A monotonically increasing count (Prometheus counter), optionally by labels. */
public final class Counter extends Family {
  Counter(String name, String help, String... labelNames) {
    super(name, help, "counter", labelNames);
  }

  /** The series of these label values. */
  public Child labelValues(String... values) {
    return new Child(cell(values));
  }

  public void inc() {
    add(cell(), 1);
  }

  public void inc(double amount) {
    add(cell(), amount);
  }

  /** One labelled series. */
  public static final class Child extends Series {
    Child(AtomicLong cell) {
      super(cell);
    }

    public void inc() {
      add(cell, 1);
    }

    public void inc(double amount) {
      add(cell, amount);
    }
  }
}
