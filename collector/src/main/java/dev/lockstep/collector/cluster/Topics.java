package dev.lockstep.collector.cluster;

import dev.lockstep.collector.config.ClusterConfig;
import dev.lockstep.collector.config.CollectorConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Cluster mode's topics (all named {@code <prefix>.<name>}) and their settings. The core reads
 * events and control inputs from single-partition topics: its decisions read the whole fleet's
 * state (orders cover agents across workflows, incident ids and dedupe signatures are global), so
 * the core is ONE Kafka Streams task whose state fails over to a standby on another collector.
 *
 * <pre>
 *   events    agent event batches (key agent_id)              gateways -> core
 *   control   Hellos, stop acks, operator actions (key agent)  gateways, operator API -> core
 *   replies   answers to control inputs (key collector_id)     core -> the collector that asked
 *   stops     desired stop state per agent, active orders      core -> every gateway (compacted)
 *   acked     highest acked seq per agent                      gateways -> gateways (compacted)
 *   audit     audit entries                                    core, collectors -> every collector
 *   alerts    alerts the core queued                           core -> one deliverer
 *   evidence  accepted evidence chunks                         gateway -> every collector
 *   members   collector heartbeats                             collectors -> collectors (compacted)
 *   agents    each agent's directory row                       gateways -> every collector (compacted)
 *   &lt;prefix&gt;-core-state-changelog   the core's state (Kafka Streams; created here, compacted)
 *                                      core -> every collector's copy
 * </pre>
 */
final class Topics {
  /** Frames are at most 4 MiB; records carry one frame's events plus a little. */
  static final int MAX_RECORD_BYTES = 8 << 20;
  static final String STORE = "state";

  final String prefix;
  final String events;
  final String control;
  final String replies;
  final String stops;
  final String acked;
  final String audit;
  final String alerts;
  final String evidence;
  final String members;
  final String agents;
  final String applicationId;
  final String changelog;

  Topics(String prefix) {
    this.prefix = prefix;
    events = prefix + ".events";
    control = prefix + ".control";
    replies = prefix + ".replies";
    stops = prefix + ".stops";
    acked = prefix + ".acked";
    audit = prefix + ".audit";
    alerts = prefix + ".alerts";
    evidence = prefix + ".evidence";
    members = prefix + ".members";
    agents = prefix + ".agents";
    applicationId = prefix + "-core";
    changelog = applicationId + "-" + STORE + "-changelog";
  }

  /**
   * Creates the topics that do not exist yet, the core's changelog included: every collector's
   * copy reads it from start-up, before any Kafka Streams client created it (Streams takes an
   * existing changelog whose partition count matches: one).
   */
  void create(Admin admin, ClusterConfig c, CollectorConfig.Retention retention)
      throws java.io.IOException {
    short rf = (short) c.replicationFactor();
    String isr = Integer.toString(c.minInsyncReplicas());
    List<NewTopic> all = new ArrayList<>();
    all.add(log(events, rf, isr, retention.events()));
    all.add(log(control, rf, isr, retention.events()));
    all.add(log(replies, rf, isr, Duration.ofHours(1)));
    all.add(compacted(stops, rf, isr));
    all.add(compacted(acked, rf, isr));
    all.add(log(audit, rf, isr, retention.audit()));
    all.add(log(alerts, rf, isr, retention.events()));
    all.add(log(evidence, rf, isr, retention.evidence()));
    all.add(compacted(members, rf, isr));
    all.add(compacted(agents, rf, isr));
    all.add(compacted(changelog, rf, isr));
    for (NewTopic t : all) {
      try {
        admin.createTopics(List.of(t)).all().get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof TopicExistsException) continue;
        throw new java.io.IOException("cannot create Kafka topic " + t.name() + " (replication "
            + rf + "): " + e.getCause().getMessage(), e.getCause());
      } catch (TimeoutException e) {
        throw new java.io.IOException("Kafka at " + c.bootstrap() + " did not answer within 30 s"
            + " while creating topic " + t.name());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.IOException("interrupted");
      }
    }
  }

  private static NewTopic log(String name, short rf, String isr, Duration retention) {
    return new NewTopic(name, 1, rf).configs(Map.of("cleanup.policy", "delete",
        "retention.ms", Long.toString(retention.toMillis()), "min.insync.replicas", isr,
        "max.message.bytes", Integer.toString(MAX_RECORD_BYTES)));
  }

  private static NewTopic compacted(String name, short rf, String isr) {
    return new NewTopic(name, 1, rf).configs(Map.of("cleanup.policy", "compact",
        "min.insync.replicas", isr, "delete.retention.ms", Long.toString(Duration.ofDays(7).toMillis()),
        "max.message.bytes", Integer.toString(MAX_RECORD_BYTES)));
  }
}
