package dev.lockstep.collector.cluster;

import dev.lockstep.collector.alert.Alerts;
import dev.lockstep.proto.store.v1.ClusterAlert;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Delivers the alerts the core queued: the collectors share one consumer group on the alerts
 * topic, so exactly one of them holds it at a time. It moves each alert into its own durable
 * outbox ({@link Alerts}: alert log, retries, P3 on failure) and only then commits the record's
 * offset — an alert is never dropped, and is delivered twice at most when a collector dies between
 * the two. Owns its consumer and thread.
 */
final class AlertsReader implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AlertsReader.class.getName());

  private final KafkaConsumer<String, byte[]> consumer;
  private final Alerts alerts;
  private final String topic;
  private final Thread thread;
  private volatile boolean running = true;

  AlertsReader(Properties client, Topics topics, Alerts alerts) {
    Properties p = new Properties();
    p.putAll(client);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, topics.prefix + "-alerts");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, p.getProperty(ConsumerConfig.CLIENT_ID_CONFIG) + "-alerts");
    this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    this.alerts = alerts;
    this.topic = topics.alerts;
    this.thread = new Thread(this::loop, "lockstep-alerts-reader");
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  private void loop() {
    try {
      consumer.subscribe(List.of(topic));
      while (running) {
        var batch = consumer.poll(Duration.ofMillis(500));
        for (ConsumerRecord<String, byte[]> r : batch) {
          try {
            ClusterAlert a = ClusterAlert.parseFrom(r.value());
            alerts.enqueue(a.getIncident(), a.getEvent());
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            LOG.log(System.Logger.Level.WARNING, "unreadable alert record: " + e.getMessage());
          }
        }
        if (!batch.isEmpty()) consumer.commitSync(Duration.ofSeconds(10));
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "alert reader stopped: " + e, e);
    } finally {
      consumer.close(Duration.ofSeconds(2));
    }
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    if (thread.isAlive()) {
      try {
        thread.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } else {
      consumer.close(Duration.ofSeconds(2));
    }
  }
}
