package dev.lockstep.collector.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.core.Change;
import dev.lockstep.collector.core.Core;
import dev.lockstep.collector.core.Effect;
import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.core.Lane;
import dev.lockstep.collector.core.Refusal;
import dev.lockstep.collector.core.Tx;
import dev.lockstep.proto.store.v1.ClusterAlert;
import dev.lockstep.proto.store.v1.ClusterEvents;
import dev.lockstep.proto.store.v1.ClusterInput;
import dev.lockstep.proto.store.v1.ClusterReply;
import dev.lockstep.proto.v1.Incident;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The cluster host's core task: the same {@link Core} the embedded host runs, inside a Kafka
 * Streams processor with exactly-once processing. Each input record (an agent's event batch, a
 * control input) is applied in one {@link Tx}; its changes go to the state store (whose changelog
 * is the copy every collector reads), stop records to the stops topic, audit entries and alerts to
 * their topics, and the answer to the replies topic — all in the Kafka transaction that also
 * commits the input's offset, so a decision, its incident, its order and its audit entry become
 * visible together or not at all, and an input is never applied twice. Effects that only inform
 * (progress lines, metrics, diffs to compute) run on this collector after the changes were written.
 */
final class CoreProcessor implements Processor<String, byte[], String, byte[]> {
  static final String NAME = "core";
  static final String STOPS_OUT = "stops-out";
  static final String REPLIES_OUT = "replies-out";
  static final String AUDIT_OUT = "audit-out";
  static final String ALERTS_OUT = "alerts-out";
  private static final System.Logger LOG = System.getLogger(CoreProcessor.class.getName());

  /** What the collector running the task does around it. Called on the stream thread. */
  interface Host {
    /** Effects of an applied transaction (its changes are in the same Kafka transaction). */
    void effects(List<Effect> effects);

    /** This collector runs the core task now (true), or no longer (false). */
    void running(boolean running);

    void failed(String what, Throwable t);

    /** One transaction applied: how many changes, how long it took. */
    default void applied(int changes, double seconds) {}
  }

  private final Core core;
  private final Topics topics;
  private final Clock clock;
  private final Host host;
  private final Duration sweep;
  private final CollectorConfig.Retention retention;
  private ProcessorContext<String, byte[]> context;
  private StreamsState state;

  CoreProcessor(Core core, Topics topics, Clock clock, Host host, Duration sweep,
      CollectorConfig.Retention retention) {
    this.core = core;
    this.topics = topics;
    this.clock = clock;
    this.host = host;
    this.sweep = sweep;
    this.retention = retention;
  }

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
    KeyValueStore<String, byte[]> store = context.getStateStore(Topics.STORE);
    state = new StreamsState(store);
    context.schedule(sweep, PunctuationType.WALL_CLOCK_TIME, t -> run(new Input.Sweep(), null));
    context.schedule(retention.interval(), PunctuationType.WALL_CLOCK_TIME, t -> retain());
    host.running(true);
  }

  @Override
  public void close() {
    host.running(false);
  }

  @Override
  public void process(Record<String, byte[]> record) {
    String topic = context.recordMetadata().map(RecordMetadata::topic).orElse("");
    try {
      if (topic.equals(topics.events)) {
        ClusterEvents e = ClusterEvents.parseFrom(record.value());
        Tx tx = new Tx(state, clock.millis());
        for (Lane lane : Lane.values()) {
          core.apply(tx, new Input.Events(e.getAgentId(), lane, e.getEventsList(), e.getIngestedAtMs()));
        }
        commit(tx);
      } else {
        ClusterInput c = ClusterInput.parseFrom(record.value());
        Input in = ClusterInputs.decode(c);
        if (in == null) {
          LOG.log(System.Logger.Level.WARNING, "skipping a control input this collector does not know");
          return;
        }
        run(in, c);
      }
    } catch (InvalidProtocolBufferException e) {
      host.failed("core_input", e);
      LOG.log(System.Logger.Level.ERROR, "unreadable record on " + topic + " (key " + record.key()
          + "): " + e.getMessage() + "; skipped");
    }
  }

  /** Applies one control input and answers it when asked to. */
  private void run(Input in, ClusterInput from) {
    Tx tx = new Tx(state, clock.millis());
    int sp = tx.savepoint();
    Object result;
    try {
      result = core.apply(tx, in);
    } catch (Refusal r) {
      tx.rollbackTo(sp);
      result = r;
    } catch (RuntimeException e) {
      tx.rollbackTo(sp);
      host.failed("core", e);
      LOG.log(System.Logger.Level.ERROR, "core failed on " + in.getClass().getSimpleName() + ": " + e, e);
      result = e;
    }
    commit(tx);
    if (from != null && !from.getRequestId().isEmpty()) {
      ClusterReply reply = ClusterInputs.reply(result).setRequestId(from.getRequestId())
          .setCollectorId(from.getCollectorId()).build();
      context.forward(new Record<>(from.getCollectorId(), reply.toByteArray(), now()), REPLIES_OUT);
    }
  }

  private void commit(Tx tx) {
    if (tx.isEmpty() && tx.effects().isEmpty()) return;
    long t0 = System.nanoTime();
    List<Change> changes = tx.changes();
    state.apply(changes, (key, value) -> {
      if (key.startsWith(StateCodec.AGENT) || key.startsWith(StateCodec.ORDER)) {
        context.forward(new Record<>(key, value, now()), STOPS_OUT);
      }
    });
    for (Change c : changes) {
      if (c instanceof Change.Audit a) {
        context.forward(new Record<>(a.entry().getAction(), a.entry().toByteArray(), now()), AUDIT_OUT);
      } else if (c instanceof Change.Alert a) {
        context.forward(new Record<>(a.incident().getId(), ClusterAlert.newBuilder()
            .setIncident(a.incident()).setEvent(a.event()).build().toByteArray(), now()), ALERTS_OUT);
      }
    }
    host.applied(changes.size(), (System.nanoTime() - t0) / 1e9);
    try {
      host.effects(tx.effects());
    } catch (RuntimeException e) {
      host.failed("effects", e);
      LOG.log(System.Logger.Level.ERROR, "effects: " + e, e);
    }
  }

  /**
   * Retention, as the embedded host does it: resolved incidents and resumed-order records past
   * their age are forgotten through the core; decided runs past theirs that no open incident
   * needs are deleted from the store (tombstones in the changelog).
   */
  private void retain() {
    long now = clock.millis();
    long incidentsCutoff = now - retention.incidents().toMillis();
    List<String> forget = new ArrayList<>();
    Set<String> pinned = new HashSet<>();
    for (Incident i : state.openIncidents()) pinned.addAll(i.getRunIdsList());
    forget.addAll(state.resolvedBefore(incidentsCutoff));
    if (!forget.isEmpty()) run(new Input.ForgetIncidents(forget), null);
    run(new Input.ForgetResumedOrders(incidentsCutoff), null);
    long runsCutoff = now - retention.runs().toMillis();
    List<String> old = new ArrayList<>();
    state.decidedRuns(r -> {
      if (r.decidedAtMillis() < runsCutoff && !pinned.contains(r.runId())) old.add(r.runId());
      return old.size() < 100_000;
    });
    old.forEach(state::deleteRun);
  }

  private long now() {
    return clock.millis();
  }

  /** For tests: the state the task committed. */
  StreamsState state() {
    return state;
  }
}
