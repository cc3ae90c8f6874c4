package dev.lockstep.collector.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.collector.core.Change;
import dev.lockstep.collector.evidence.EvidenceStore;
import dev.lockstep.collector.host.StoreState;
import dev.lockstep.collector.store.AuditLog;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.store.v1.ClusterEvidence;
import dev.lockstep.proto.store.v1.ResumedOrder;
import dev.lockstep.proto.v1.AuditEntry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * This collector's copy of the cluster's state, for everything it answers operators and agents
 * from: the core's state (the Kafka Streams changelog), the audit log and evidence, applied to
 * the local RocksDB store through the same {@link StoreState} the embedded host commits to. Only
 * committed records are read, so the copy never shows a decision that was rolled back. Where it
 * got to is kept in the store, so a restart reads on from there; the copy can always be thrown
 * away and read again from the topics.
 */
final class Replica implements TopicReader.Handler {
  private static final System.Logger LOG = System.getLogger(Replica.class.getName());
  private static final String OFFSET = "replica_offset/";

  /** What changed in a batch the copy applied (for watchers, pins, capture requests). */
  record Applied(List<Change> changes) {}

  private final Topics topics;
  private final Store store;
  private final StoreState state;
  private final AuditLog audit;
  private final EvidenceStore evidence;
  private final String collectorId;
  private final Clock clock;
  private final Consumer<Applied> listener;

  Replica(Topics topics, Store store, StoreState state, AuditLog audit, EvidenceStore evidence,
      String collectorId, Clock clock, Consumer<Applied> listener) {
    this.topics = topics;
    this.store = store;
    this.state = state;
    this.audit = audit;
    this.evidence = evidence;
    this.collectorId = collectorId;
    this.clock = clock;
    this.listener = listener;
  }

  List<String> topicNames() {
    return List.of(topics.changelog, topics.audit, topics.evidence);
  }

  /** Where to start reading a partition: after what this copy applied last. */
  long start(TopicPartition tp) {
    byte[] v = store.get(Store.Family.META, OFFSET + tp.topic() + "/" + tp.partition());
    return v == null ? TopicReader.BEGINNING : Store.bytesLong(v);
  }

  @Override
  public void records(List<ConsumerRecord<String, byte[]>> records) {
    List<Change> changes = new ArrayList<>();
    java.util.Map<TopicPartition, Long> next = new java.util.HashMap<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      next.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
      try {
        if (r.topic().equals(topics.changelog)) {
          state(r.key(), r.value(), changes);
        } else if (r.topic().equals(topics.audit)) {
          flush(changes);
          if (r.value() != null) audit.replicate(AuditEntry.parseFrom(r.value()), r.offset());
        } else if (r.topic().equals(topics.evidence)) {
          flush(changes);
          ClusterEvidence e = ClusterEvidence.parseFrom(r.value());
          if (!e.getCollectorId().equals(collectorId)) evidence.accept(e.getAgentId(), e.getChunk());
        }
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "cluster copy: skipping unreadable record " + r.topic()
            + "@" + r.offset() + " (" + r.key() + "): " + e);
      }
    }
    flush(changes);
    // the evidence store has a WAL of its own: what was copied is made durable before the
    // offsets that say it was read
    if (next.keySet().stream().anyMatch(tp -> tp.topic().equals(topics.evidence))) evidence.sync();
    try (Store.Batch b = store.batch()) {
      next.forEach((tp, off) -> b.put(Store.Family.META, OFFSET + tp.topic() + "/" + tp.partition(),
          Store.longBytes(off)));
      b.commit(false);
    }
  }

  private void state(String key, byte[] value, List<Change> changes)
      throws InvalidProtocolBufferException {
    if (key == null) return;
    if (value == null && key.startsWith(StateCodec.RUN)) {
      flush(changes);
      state.runs().delete(key.substring(StateCodec.RUN.length()));
      return;
    }
    if (value == null && key.startsWith(StateCodec.ORDER)) {
      // the core writes an order's resume record before deleting it; a copy that starts after
      // the record was forgotten still ends the order
      String id = key.substring(StateCodec.ORDER.length());
      flush(changes);
      state.activeOrder(id).ifPresent(o -> changes.add(new Change.ResumeOrder(
          ResumedOrder.newBuilder().setOrder(o).setReason("resumed (record forgotten)").build())));
      return;
    }
    Change c = StateCodec.change(key, value);
    if (c == null) return;
    changes.add(c);
    if (c instanceof Change.DeleteIncident d) {
      flush(changes);
      evidence.deleteIncident(d.id());
    }
  }

  private void flush(List<Change> changes) {
    if (changes.isEmpty()) return;
    List<Change> batch = List.copyOf(changes);
    changes.clear();
    state.commit(batch, false, clock.instant());
    listener.accept(new Applied(batch));
  }
}
