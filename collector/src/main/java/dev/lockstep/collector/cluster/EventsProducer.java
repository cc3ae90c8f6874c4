package dev.lockstep.collector.cluster;

import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.collector.gateway.AgentSession;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.proto.store.v1.ClusterEvents;
import dev.lockstep.proto.v1.Event;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;

/**
 * The gateway's store in cluster mode: a validated batch becomes one record on the events topic
 * (key: agent id; idempotent producer, acks=all), and the agent's Ack follows Kafka's
 * acknowledgement — never before, so an acked event survives the loss of this collector and of
 * one broker. Events at or below the agent's known acked mark are duplicates (a resend after a
 * reconnect) and are acked without being produced again. When Kafka does not take the batch the
 * agent gets a Backoff and keeps the events in its spool.
 */
final class EventsProducer implements AgentGateway.BatchSink {
  private final ClusterNode node;
  private final CollectorMetrics metrics;
  private final Clock clock;
  private final BiConsumer<String, List<Event>> ingested;

  EventsProducer(ClusterNode node, CollectorMetrics metrics, Clock clock,
      BiConsumer<String, List<Event>> ingested) {
    this.node = node;
    this.metrics = metrics;
    this.clock = clock;
    this.ingested = ingested;
  }

  @Override
  public long ackedSeq(String agentId) {
    return node.marks().get(agentId);
  }

  @Override
  public String holdRoutine() {
    return node.holdRoutine();
  }

  @Override
  public void take(AgentSession session, List<Event> events, AgentGateway.Outcome outcome) {
    String agent = session.agentId();
    long mark = node.marks().get(agent);
    List<Event> fresh = new ArrayList<>(events.size());
    for (Event e : events) {
      if (e.getSeq() > mark) fresh.add(e);
    }
    if (fresh.size() < events.size()) metrics.duplicatesDropped.inc(events.size() - fresh.size());
    if (fresh.isEmpty()) {
      outcome.acked(mark);
      return;
    }
    ClusterEvents record = ClusterEvents.newBuilder().setAgentId(agent).addAllEvents(fresh)
        .setIngestedAtMs(clock.millis()).setCollectorId(node.collectorId()).build();
    long upto = fresh.get(fresh.size() - 1).getSeq();
    long started = System.nanoTime();
    try {
      node.producer().send(new ProducerRecord<>(node.topics().events, agent, record.toByteArray()),
          (md, ex) -> {
            if (ex != null) {
              node.metrics().produceFailures.labelValues("events").inc();
              outcome.backoff("Kafka did not take the batch (" + ex.getMessage() + ")");
              return;
            }
            node.metrics().produceSeconds.observe((System.nanoTime() - started) / 1e9);
            node.marks().advance(agent, upto);
            metrics.eventsIngested.inc(fresh.size());
            node.produced(fresh.size());
            // not produced here: this callback runs on Kafka's network thread (see MarkPublisher)
            node.publishMark(agent, upto);
            outcome.acked(upto);
            ingested.accept(agent, fresh);
          });
    } catch (KafkaException e) {
      node.metrics().produceFailures.labelValues("events").inc();
      outcome.backoff("Kafka did not take the batch (" + e.getMessage() + ")");
    }
  }
}
