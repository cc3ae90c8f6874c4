package dev.lockstep.collector;

import dev.lockstep.collector.alert.Alerts;
import dev.lockstep.collector.cluster.ClusterNode;
import dev.lockstep.collector.config.ClusterConfig;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.core.Change;
import dev.lockstep.collector.core.Core;
import dev.lockstep.collector.core.Effect;
import dev.lockstep.collector.core.IncidentRules;
import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.evidence.DiffWorker;
import dev.lockstep.collector.evidence.EvidenceIntake;
import dev.lockstep.collector.evidence.EvidenceStore;
import dev.lockstep.collector.fleet.AgentDirectory;
import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.collector.gateway.AgentSession;
import dev.lockstep.collector.host.EffectRunner;
import dev.lockstep.collector.host.Pins;
import dev.lockstep.collector.host.StoreState;
import dev.lockstep.collector.operator.WatchHub;
import dev.lockstep.collector.store.AuditLog;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A collector in cluster mode: the same gateway, operator API, evidence intake, diffs, pins and
 * alert delivery as embedded mode, around a {@link ClusterNode} instead of the core thread and
 * its RocksDB decisions. The local store holds this collector's copy of the cluster's state (read
 * models for operators, captures and pins for its agents) and its alert outbox.
 */
final class ClusterMode {
  private final Collector c;
  private final ClusterConfig cluster;
  private final CollectorConfig config;
  private final Clock clock;
  private final Consumer<String> progress;

  ClusterMode(Collector c, ClusterConfig cluster, Clock clock, Consumer<String> progress) {
    this.c = c;
    this.cluster = cluster;
    this.config = c.config();
    this.clock = clock;
    this.progress = progress;
  }

  void start(Core core, StoreState state, AuditLog audit, AgentDirectory agents,
      EvidenceStore evidence, WatchHub watch, ScheduledExecutorService background,
      ScheduledExecutorService evidenceWorker, ThreadPoolExecutor diffs) throws IOException {
    Fleet[] fleetRef = new Fleet[1];
    DiffWorker[] diffRef = new DiffWorker[1];
    ClusterNode[] nodeRef = new ClusterNode[1];
    // the copy applies what it reads while the node starts, before the Fleet exists: nobody can
    // be watching yet, so those changes publish nothing
    EffectRunner effects = new EffectRunner(agents, c.metrics, e -> {
      Fleet f = fleetRef[0];
      if (f != null) f.publish(e);
    }, () -> {
      Fleet f = fleetRef[0];
      if (f != null) f.publishStopStatus();
    }, progress, clock, background, evidenceWorker);
    ClusterNode node = ClusterNode.start(cluster, config, new ClusterNode.Parts(core, c.store,
        state, audit, evidence, c.metrics,
        list -> coreEffects(list, effects, nodeRef, diffRef),
        changes -> effects.accept(watchEffects(changes))), clock, progress);
    nodeRef[0] = node;
    c.node = node;
    c.closers.push(node);
    c.fleet = new Fleet(config, clock, node, state, c.store, agents, evidence, audit, watch);
    fleetRef[0] = c.fleet;
    c.fleet.cluster(node);
    Alerts alerts = new Alerts(config, c.store, clock, c.metrics,
        (sink, detail) -> node.submit(new Input.SinkFailing(sink, detail)));
    c.closers.push(alerts);
    c.closers.push(node.deliverAlerts(alerts));
    EvidenceIntake intake = new EvidenceIntake(evidence, state::capture, node::submit, c.metrics,
        clock, config.evidence().maxBytesTotal(), config.evidence().maxBytesPerSecondPerAgent(),
        evidenceWorker);
    c.closers.push(intake);
    DiffWorker diffWorker = new DiffWorker(state.incidents(), evidence, config.golden(),
        node::submit, c.metrics, diffs);
    diffRef[0] = diffWorker;
    c.closers.push(diffWorker);
    var listener = node.agents(agents, intake, state, c.metrics,
        new dev.lockstep.collector.host.AckProgress(progress, background));
    // Producing mostly waits on the brokers' acks: more threads share each round trip.
    int threads = Math.max(8, 2 * Runtime.getRuntime().availableProcessors());
    ThreadPoolExecutor ingest = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(20_000), Collector.routine(Collector.named("lockstep-ingest")));
    c.closers.push(() -> Collector.shutdown(ingest));
    c.gateway = new AgentGateway(c.store, listener, ingest, c.metrics, clock, config.limits());
    c.gateway.urgentPool(Collector.urgentPool(c.closers));
    c.gateway.sink(node.sink());
    Pins pins = new Pins(state.incidents(), state.runs(), c.gateway, background);
    node.attach(c.gateway, pins);
    effects.attach(c.gateway, pins, diffWorker, evidence);
    c.fleet.attach(c.gateway, alerts);
    c.serve(node.auditSink(), clock, progress, diffWorker);
    c.serveMetrics(state, alerts);
    AgentGateway g = c.gateway;
    node.schedule(background, () -> {
      List<String> ids = new ArrayList<>();
      for (AgentSession s : g.sessions()) ids.add(s.agentId());
      return ids;
    }, config.listenHost() + ":" + c.port());
    background.scheduleWithFixedDelay(c.guard(c.fleet::refreshAlerts, "alert refresh"), 1, 1,
        TimeUnit.HOURS);
    progress.accept("listening on " + config.listenHost() + ":" + c.port() + " ("
        + (config.insecure() ? "PLAINTEXT, --insecure" : "mTLS") + ", cluster mode as "
        + cluster.collectorId() + ", Kafka " + cluster.bootstrap() + ", data dir "
        + config.dataDir() + ", stop policy " + config.stopPolicy().name().toLowerCase()
        + (c.metricsServer != null ? ", metrics on :" + c.metricsServer.getPort() : "") + ")");
  }

  /**
   * Effects of the core's transactions, on the collector running the core task. Stop states,
   * Welcomes and capture requests reach agents through the topics every gateway reads (so they
   * are sent only once committed); here only what informs: progress lines, metrics, refused acks,
   * and golden diffs (computed once this collector's copy holds the evidence).
   */
  private static void coreEffects(List<Effect> list, EffectRunner effects, ClusterNode[] node,
      DiffWorker[] diffs) {
    List<Effect> keep = new ArrayList<>();
    for (Effect e : list) {
      if (e instanceof Effect.Progress || e instanceof Effect.RunDecided
          || e instanceof Effect.AckRefused) {
        keep.add(e);
      } else if (e instanceof Effect.DiffWanted d && node[0] != null && diffs[0] != null) {
        DiffWorker w = diffs[0];
        node[0].afterCopy(() -> w.submit(d.incidentId()));
      }
    }
    if (!keep.isEmpty()) effects.accept(keep);
  }

  /** What watchers of this collector see when its copy applied committed changes. */
  private static List<Effect> watchEffects(List<Change> changes) {
    List<Effect> out = new ArrayList<>();
    boolean stop = false;
    for (Change ch : changes) {
      if (ch instanceof Change.PutIncident i) {
        out.add(new Effect.IncidentChanged(i.incident(), IncidentRules.Change.UPDATED));
      } else if (ch instanceof Change.PutAgentStop || ch instanceof Change.PutOrder
          || ch instanceof Change.ResumeOrder) {
        stop = true;
      }
    }
    if (stop) out.add(new Effect.StopChanged());
    return out;
  }
}
