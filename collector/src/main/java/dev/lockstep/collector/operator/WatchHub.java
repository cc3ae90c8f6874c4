package dev.lockstep.collector.operator;

import dev.lockstep.proto.v1.WatchEvent;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** Fans incident, stop and agent changes out to every Watch stream. Publishing never blocks. */
public final class WatchHub {
  private final List<Consumer<WatchEvent>> subscribers = new CopyOnWriteArrayList<>();

  public Runnable subscribe(Consumer<WatchEvent> subscriber) {
    subscribers.add(subscriber);
    return () -> subscribers.remove(subscriber);
  }

  public void publish(WatchEvent event) {
    for (Consumer<WatchEvent> s : subscribers) {
      try {
        s.accept(event);
      } catch (RuntimeException e) {
        subscribers.remove(s);
      }
    }
  }

  public int subscribers() {
    return subscribers.size();
  }
}
