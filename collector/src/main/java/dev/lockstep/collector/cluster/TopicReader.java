package dev.lockstep.collector.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * One thread reading whole topics (every partition, no consumer group) with read_committed, so it
 * sees what the core committed and nothing of an aborted transaction. It starts where {@code start}
 * says (a stored offset, the beginning, or the end), hands every batch of records to its handler
 * on this thread, and knows when it first reached the end offsets it saw at start ({@link
 * #awaitCaughtUp}) and how far behind it is ({@link #lag}). It owns its consumer and closes it.
 */
final class TopicReader implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(TopicReader.class.getName());

  /** Where to start each partition: an offset, or {@link #BEGINNING} / {@link #END}. */
  static final long BEGINNING = -2;
  static final long END = -1;

  /** Takes a batch of records; runs on the reader's thread. */
  interface Handler {
    void records(List<ConsumerRecord<String, byte[]>> records);
  }

  private final String name;
  private final org.apache.kafka.clients.consumer.Consumer<String, byte[]> consumer;
  private final List<String> topics;
  private final Function<TopicPartition, Long> start;
  private final Handler handler;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final Map<TopicPartition, Long> positions = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<TopicPartition, Long> ends = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile boolean running = true;
  private volatile long polls;
  private final java.util.concurrent.atomic.AtomicLong failures = new java.util.concurrent.atomic.AtomicLong();
  private volatile Runnable onFailure = () -> { };
  private long lastFailureLog;
  private Thread thread;

  TopicReader(String name, Properties clientProps, List<String> topics,
      Function<TopicPartition, Long> start, Handler handler) {
    this.name = name;
    this.topics = List.copyOf(topics);
    this.start = start;
    this.handler = handler;
    Properties p = new Properties();
    p.putAll(clientProps);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientProps.getProperty(ConsumerConfig.CLIENT_ID_CONFIG, "lockstep") + "-" + name);
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES));
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50");
    p.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.putAll(p);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, p.getProperty(ConsumerConfig.CLIENT_ID_CONFIG) + "-ends");
    consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
  }

  /** Over {@code consumer} (tests: a MockConsumer); it owns and closes it. */
  TopicReader(String name, org.apache.kafka.clients.consumer.Consumer<String, byte[]> consumer,
      List<String> topics, Function<TopicPartition, Long> start, Handler handler) {
    this.name = name;
    this.topics = List.copyOf(topics);
    this.start = start;
    this.handler = handler;
    this.consumer = consumer;
  }

  /** Assigns every partition of the topics, seeks, and starts the thread. */
  void start() {
    List<TopicPartition> parts = new ArrayList<>();
    for (String t : topics) {
      // a topic created a moment ago may not be in every broker's metadata yet
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      List<org.apache.kafka.common.PartitionInfo> info = consumer.partitionsFor(t, Duration.ofSeconds(30));
      while (info.isEmpty() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(100); // polling the metadata, not waiting for a timeout
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
        info = consumer.partitionsFor(t, Duration.ofSeconds(30));
      }
      if (info.isEmpty()) {
        throw new KafkaException("reader " + name + ": Kafka topic " + t + " does not exist");
      }
      info.forEach(i -> parts.add(new TopicPartition(t, i.partition())));
    }
    consumer.assign(parts);
    Map<TopicPartition, Long> endAtStart = consumer.endOffsets(parts, Duration.ofSeconds(30));
    Map<TopicPartition, Long> begin = consumer.beginningOffsets(parts, Duration.ofSeconds(30));
    for (TopicPartition tp : parts) {
      long s = start.apply(tp);
      if (s == END) {
        consumer.seekToEnd(List.of(tp));
      } else if (s == BEGINNING || s < begin.get(tp)) {
        consumer.seek(tp, begin.get(tp));
      } else {
        consumer.seek(tp, s);
      }
    }
    ends.putAll(endAtStart);
    thread = new Thread(() -> loop(endAtStart), "lockstep-read-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  private void loop(Map<TopicPartition, Long> target) {
    boolean[] done = {false};
    long[] lastEnds = {0};
    try {
      while (running) {
        try {
          step(target, done, lastEnds);
        } catch (WakeupException e) {
          throw e;
        } catch (RuntimeException e) {
          // the thread goes on: a reader that ended here left its collector serving agents from a
          // frozen stop table, looking healthy, with no new stop reaching them
          failed(e, "poll");
          pause();
        }
      }
    } catch (WakeupException e) {
      // closing
    } finally {
      consumer.close(Duration.ofSeconds(2));
    }
  }

  /** One poll: hands its records on, then updates the positions and (every 2 s) the end offsets. */
  private void step(Map<TopicPartition, Long> target, boolean[] done, long[] lastEnds) {
    ConsumerRecords<String, byte[]> batch = consumer.poll(Duration.ofMillis(200));
    polls++;
    if (!batch.isEmpty()) {
      List<ConsumerRecord<String, byte[]>> list = new ArrayList<>(batch.count());
      batch.forEach(list::add);
      handle(list);
    }
    for (TopicPartition tp : consumer.assignment()) positions.put(tp, consumer.position(tp));
    synchronized (this) {
      notifyAll();
    }
    if (!done[0]) {
      done[0] = true;
      for (var e : target.entrySet()) {
        if (positions.getOrDefault(e.getKey(), 0L) < e.getValue()) done[0] = false;
      }
      if (done[0]) caughtUp.countDown();
    }
    if (System.nanoTime() - lastEnds[0] > TimeUnit.SECONDS.toNanos(2)) {
      lastEnds[0] = System.nanoTime();
      try {
        ends.putAll(consumer.endOffsets(consumer.assignment(), Duration.ofSeconds(2)));
      } catch (KafkaException e) {
        // brokers unreachable for a moment: lag stays as last measured
      }
    }
  }

  /**
   * Hands a batch to the handler; when it fails, record by record, so that one bad record costs
   * only itself and not the rest of its batch (the handlers keep the latest value per key or
   * offset, so a record handled twice changes nothing).
   */
  private void handle(List<ConsumerRecord<String, byte[]>> list) {
    try {
      handler.records(list);
    } catch (RuntimeException e) {
      for (ConsumerRecord<String, byte[]> r : list) {
        try {
          handler.records(List.of(r));
        } catch (RuntimeException one) {
          failed(one, "record " + r.topic() + "/" + r.partition() + "@" + r.offset() + " skipped");
        }
      }
    }
  }

  private void failed(RuntimeException e, String what) {
    failures.incrementAndGet();
    onFailure.run();
    long now = System.nanoTime();
    if (now - lastFailureLog > TimeUnit.MINUTES.toNanos(1) || lastFailureLog == 0) {
      lastFailureLog = now;
      LOG.log(System.Logger.Level.ERROR, "reader " + name + ": " + what + ": " + e + " ("
          + failures.get() + " failures so far)", e);
    }
  }

  /** A second before the next poll after a failure (close() wakes the consumer, not this). */
  private void pause() {
    try {
      Thread.sleep(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  /** Failures so far (a poll, a record the handler could not take). */
  long failures() {
    return failures.get();
  }

  /** Called on the reader's thread at each failure (a metric). */
  void onFailure(Runnable r) {
    this.onFailure = r;
  }

  /** Waits until the reader reached the end offsets it saw at start. */
  boolean awaitCaughtUp(Duration limit) throws InterruptedException {
    return caughtUp.await(limit.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Waits until the reader's position reaches {@code target} (per partition), e.g. the end
   * offsets after a reply arrived, so what a caller reads next includes what it just caused.
   */
  boolean awaitPositions(Map<TopicPartition, Long> target, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    synchronized (this) {
      while (true) {
        boolean ok = true;
        for (var e : target.entrySet()) {
          if (positions.getOrDefault(e.getKey(), -1L) < e.getValue()) ok = false;
        }
        if (ok) return true;
        long left = deadline - System.nanoTime();
        if (left <= 0) return false;
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }

  /** The end offsets (last stable offsets) of this reader's partitions now. */
  Map<TopicPartition, Long> endOffsetsNow() {
    synchronized (endsLock) {
      return endsConsumer().endOffsets(List.copyOf(ends.keySet()), Duration.ofSeconds(5));
    }
  }

  /** Records between this reader's position and the latest end offsets it measured. */
  long lag() {
    long lag = 0;
    for (var e : ends.entrySet()) lag += Math.max(0, e.getValue() - positions.getOrDefault(e.getKey(), 0L));
    return lag;
  }

  Map<TopicPartition, Long> positions() {
    return new HashMap<>(positions);
  }

  private final Object endsLock = new Object();
  private KafkaConsumer<String, byte[]> endsConsumer;
  private final Properties props = new Properties();

  /** A second consumer for end-offset queries from other threads (a consumer is single-threaded). */
  private KafkaConsumer<String, byte[]> endsConsumer() {
    if (endsConsumer == null) {
      endsConsumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    }
    return endsConsumer;
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    synchronized (endsLock) {
      if (endsConsumer != null) endsConsumer.close(Duration.ofSeconds(2));
      endsConsumer = null;
    }
    if (thread == null) {
      consumer.close(Duration.ofSeconds(2));
    } else {
      try {
        thread.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
