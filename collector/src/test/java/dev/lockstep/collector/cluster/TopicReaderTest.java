package dev.lockstep.collector.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.Eventually;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * A reader of the cluster's topics (the stop table among them) keeps reading through failures:
 * one that ended on the first failed poll left its collector serving agents a frozen stop table,
 * and a record its handler could not take cost the rest of its batch.
 */
class TopicReaderTest {
  final TopicPartition tp = new TopicPartition("stops", 0);
  final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
  final List<String> handled = new CopyOnWriteArrayList<>();
  final AtomicInteger counted = new AtomicInteger();

  TopicReader reader(TopicReader.Handler handler) {
    consumer.updatePartitions("stops", List.of(new PartitionInfo("stops", 0, null, null, null)));
    consumer.updateBeginningOffsets(Map.of(tp, 0L));
    consumer.updateEndOffsets(Map.of(tp, 0L));
    TopicReader r = new TopicReader("tables", consumer, List.of("stops"), p -> TopicReader.BEGINNING, handler);
    r.onFailure(counted::incrementAndGet);
    return r;
  }

  static ConsumerRecord<String, byte[]> record(long offset, String key) {
    return new ConsumerRecord<>("stops", 0, offset, key, new byte[] {1});
  }

  @Test
  void aFailedPollIsCountedAndReadingGoesOn() throws Exception {
    try (TopicReader r = reader(list -> list.forEach(x -> handled.add(x.key())))) {
      r.start();
      consumer.setPollException(new KafkaException("not authorized to read stops"));
      Eventually.await(Duration.ofSeconds(10), "the failure counted", () -> counted.get() == 1);
      consumer.schedulePollTask(() -> consumer.addRecord(record(0, "ORD-1")));
      Eventually.await(Duration.ofSeconds(10), "a stop record read after the failure",
          () -> handled.contains("ORD-1"));
      assertThat(r.failures()).isEqualTo(1);
    }
  }

  @Test
  void aRecordTheHandlerCannotTakeCostsOnlyItself() throws Exception {
    try (TopicReader r = reader(list -> {
      for (var x : list) {
        if (x.key().equals("bad")) throw new IllegalStateException("unreadable");
      }
      list.forEach(x -> handled.add(x.key()));
    })) {
      consumer.schedulePollTask(() -> {
        consumer.addRecord(record(0, "ORD-1"));
        consumer.addRecord(record(1, "bad"));
        consumer.addRecord(record(2, "ORD-2"));
      });
      r.start();
      Eventually.await(Duration.ofSeconds(10), "the records around the bad one handled",
          () -> handled.containsAll(List.of("ORD-1", "ORD-2")));
      assertThat(handled).doesNotContain("bad");
      assertThat(counted.get()).isEqualTo(1);
    }
  }
}
