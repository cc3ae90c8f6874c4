package dev.lockstep.agent.metrics;

import java.util.concurrent.atomic.AtomicLong;

/** A value that goes up and down (Prometheus gauge), optionally by labels. */
public final class Gauge extends Family {
  Gauge(String name, String help, String... labelNames) {
    super(name, help, "gauge", labelNames);
  }

  /** The series of these label values. */
  public Child labelValues(String... values) {
    return new Child(cell(values));
  }

  public void set(double value) {
    cell().set(Double.doubleToRawLongBits(value));
  }

  /** One labelled series. */
  public static final class Child extends Series {
    Child(AtomicLong cell) {
      super(cell);
    }

    public void set(double value) {
      cell.set(Double.doubleToRawLongBits(value));
    }
  }
}
