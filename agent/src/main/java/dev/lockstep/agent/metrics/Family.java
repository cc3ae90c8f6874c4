package dev.lockstep.agent.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One metric family: a name, help, type, label names, and one value per label-value tuple. A
 * family without labels has its single value from the start; a labelled one has a series once
 * its labels were used. Values are doubles held as raw bits in an AtomicLong; thread-safe.
 */
public abstract class Family {
  final String name;
  final String help;
  final String type;
  final String[] labelNames;
  private final Map<List<String>, AtomicLong> series = new ConcurrentHashMap<>();

  Family(String name, String help, String type, String... labelNames) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.labelNames = labelNames.clone();
    if (labelNames.length == 0) {
      series.put(List.of(), new AtomicLong(Double.doubleToRawLongBits(0)));
    }
  }

  final AtomicLong cell(String... labelValues) {
    if (labelValues.length != labelNames.length) {
      throw new IllegalArgumentException(name + " has labels " + Arrays.toString(labelNames) + ", got "
          + Arrays.toString(labelValues));
    }
    List<String> key = List.of(labelValues);
    AtomicLong c = series.get(key);
    return c != null ? c : series.computeIfAbsent(key, k -> new AtomicLong(Double.doubleToRawLongBits(0)));
  }

  static void add(AtomicLong cell, double amount) {
    long prev;
    long next;
    do {
      prev = cell.get();
      next = Double.doubleToRawLongBits(Double.longBitsToDouble(prev) + amount);
    } while (!cell.compareAndSet(prev, next));
  }

  static double get(AtomicLong cell) {
    return Double.longBitsToDouble(cell.get());
  }

  /** The value of the series without labels. */
  public final double get() {
    return get(cell());
  }

  /** One series of a family. */
  public abstract static class Series {
    final AtomicLong cell;

    Series(AtomicLong cell) {
      this.cell = cell;
    }

    public final double get() {
      return Family.get(cell);
    }
  }

  /** The series as (label values, value), sorted by label values. */
  final List<Map.Entry<List<String>, Double>> samples() {
    List<Map.Entry<List<String>, Double>> out = new ArrayList<>();
    series.forEach((k, v) -> out.add(Map.entry(k, get(v))));
    out.sort((a, b) -> String.join("\u0000", a.getKey()).compareTo(String.join("\u0000", b.getKey())));
    return out;
  }
}
