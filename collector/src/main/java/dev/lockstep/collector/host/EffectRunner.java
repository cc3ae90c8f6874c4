package dev.lockstep.collector.host;

import dev.lockstep.collector.core.Effect;
import dev.lockstep.collector.evidence.DiffWorker;
import dev.lockstep.collector.evidence.EvidenceStore;
import dev.lockstep.collector.fleet.AgentDirectory;
import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.collector.gateway.AgentSession;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.StopCommand;
import dev.lockstep.proto.v1.WatchEvent;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Carries out the effects of a committed transaction, on the core thread, without blocking:
 * stop commands and Welcomes are queued on agent streams in the order the core produced them
 * (so an agent always sees its Welcome before a later command), captures likewise; everything
 * slow (pins, diffs, evidence deletes, watch status) is handed to other executors.
 */
public final class EffectRunner implements Consumer<List<Effect>> {
  private static final System.Logger LOG = System.getLogger(EffectRunner.class.getName());

  private final AgentDirectory agents;
  private final CollectorMetrics metrics;
  private final Consumer<WatchEvent.Builder> publish;
  private final Runnable publishStopStatus;
  private final Consumer<String> progress;
  private final Clock clock;
  private final ScheduledExecutorService background;
  private final Executor evidenceWorker;
  private final Map<String, Long> refusalLogged = new ConcurrentHashMap<>();
  private volatile AgentGateway gateway;
  private volatile Pins pins;
  private volatile DiffWorker diffs;
  private volatile EvidenceStore evidence;
  private volatile boolean stopPublishPending;

  public EffectRunner(AgentDirectory agents, CollectorMetrics metrics,
      Consumer<WatchEvent.Builder> publish, Runnable publishStopStatus, Consumer<String> progress,
      Clock clock, ScheduledExecutorService background, Executor evidenceWorker) {
    this.agents = agents;
    this.metrics = metrics;
    this.publish = publish;
    this.publishStopStatus = publishStopStatus;
    this.progress = progress;
    this.clock = clock;
    this.background = background;
    this.evidenceWorker = evidenceWorker;
  }

  public void attach(AgentGateway gateway, Pins pins, DiffWorker diffs, EvidenceStore evidence) {
    this.gateway = gateway;
    this.pins = pins;
    this.diffs = diffs;
    this.evidence = evidence;
  }

  /**
   * Carries out one commit's effects in order. The loop only dispatches: each effect's work is in
   * a method of its own. A stop for the whole fleet is one call with an effect per agent, and the
   * first SendStop a compiled {@code accept} meets sends it back to the interpreter
   * (deoptimisation) for the rest of that call; with the work inlined in the loop, a first
   * 10,000-agent stop was queued by interpreted code (581 ms against 187 ms for the next one),
   * since a loop is recompiled only after tens of thousands of iterations.
   */
  @Override
  public void accept(List<Effect> effects) {
    long fanoutStart = 0;
    int stops = 0;
    // Only the newest sample of each probe matters to the directory: one update per probe.
    Map<ProbeKey, Effect.ProbeSeen> probes = null;
    for (Effect e : effects) {
      if (e instanceof Effect.ProbeSeen p) {
        if (probes == null) probes = new java.util.LinkedHashMap<>();
        probes.put(new ProbeKey(p.agentId(), p.sample().getProbe(), p.sample().getTarget()), p);
        continue;
      }
      if (e instanceof Effect.SendStop && stops++ == 0) fanoutStart = System.nanoTime();
      carryOut(e);
    }
    if (stops > 0) metrics.stopFanoutSeconds.observe((System.nanoTime() - fanoutStart) / 1e9);
    if (probes != null) {
      for (Effect.ProbeSeen p : probes.values()) agents.probe(p.agentId(), p.sample());
    }
  }

  /** One probe of one agent (no string is built per health event to tell them apart). */
  private record ProbeKey(String agentId, HealthSample.Probe probe, String target) {}

  /** One effect; a failure is counted and logged, and the next effects still run. */
  private void carryOut(Effect e) {
    try {
      if (e instanceof Effect.SendStop s) {
        sendStop(s);
      } else {
        run(e);
      }
    } catch (RuntimeException ex) {
      metrics.internalErrors.labelValues("effects").inc();
      LOG.log(System.Logger.Level.ERROR, "effect " + e.getClass().getSimpleName() + ": " + ex, ex);
    }
  }

  private void sendStop(Effect.SendStop s) {
    session(s.agentId()).ifPresent(x -> x.send(CollectorFrame.newBuilder()
        .setStop(StopCommand.newBuilder().setState(s.desired())).build()));
  }

  private void run(Effect e) {
    if (e instanceof Effect.Welcome w) {
      AgentGateway g = gateway;
      if (g != null && g.welcome(w.connectionId(), w.desired())) {
        Pins p = pins;
        if (p != null) p.sendTo(w.agentId());
      }
    } else if (e instanceof Effect.SendCapture c) {
      session(c.agentId()).ifPresent(x -> x.send(CollectorFrame.newBuilder().setCapture(c.request()).build()));
    } else if (e instanceof Effect.PinsChanged) {
      Pins p = pins;
      if (p != null) p.changed();
    } else if (e instanceof Effect.IncidentChanged i) {
      publish.accept(WatchEvent.newBuilder().setIncident(i.incident()));
    } else if (e instanceof Effect.StopChanged) {
      publishStopSoon();
    } else if (e instanceof Effect.DiffWanted d) {
      DiffWorker w = diffs;
      if (w != null) w.submit(d.incidentId());
    } else if (e instanceof Effect.DeleteEvidence d) {
      EvidenceStore ev = evidence;
      if (ev != null) evidenceWorker.execute(() -> ev.deleteIncident(d.incidentId()));
    } else if (e instanceof Effect.RunDecided r) {
      metrics.runsDecided.labelValues(r.verdict()).inc();
      metrics.correlationLagSeconds.observe(r.lagMillis() / 1000.0);
      for (String h : r.hosts()) agents.countRun(h, r.blamed().contains(h));
    } else if (e instanceof Effect.ProbeSeen p) {
      agents.probe(p.agentId(), p.sample());
    } else if (e instanceof Effect.AckRefused a) {
      metrics.stopAcksRefused.inc();
      long now = clock.millis();
      Long last = refusalLogged.get(a.agentId());
      if (last == null || now - last > 10_000) {
        refusalLogged.put(a.agentId(), now);
        progress.accept("refused stop ack from " + a.agentId() + ": " + a.reason()
            + " (the desired state is resent)");
      }
    } else if (e instanceof Effect.Progress p) {
      progress.accept(p.line());
    }
  }

  private Optional<AgentSession> session(String agentId) {
    AgentGateway g = gateway;
    return g == null ? Optional.empty() : g.session(agentId);
  }

  /**
   * Publishes the stop status to watchers at most every 100 ms: with a thousand agents acking at
   * once, one status per ack would cost O(agents²).
   */
  private void publishStopSoon() {
    if (stopPublishPending) return;
    stopPublishPending = true;
    try {
      background.schedule(() -> {
        stopPublishPending = false;
        publishStopStatus.run();
      }, 100, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException ex) {
      stopPublishPending = false;
    }
  }
}
