package dev.lockstep.collector;

import com.google.protobuf.Timestamp;
import dev.lockstep.collector.alert.Alerts;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.correlate.Correlator;
import dev.lockstep.collector.correlate.Decision;
import dev.lockstep.collector.correlate.Replica;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.collector.correlate.Verdict;
import dev.lockstep.collector.evidence.EvidenceStore;
import dev.lockstep.collector.fleet.AgentDirectory;
import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.collector.gateway.AgentSession;
import dev.lockstep.collector.gateway.GatewayListener;
import dev.lockstep.collector.incident.Incidents;
import dev.lockstep.collector.incident.Playbook;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.collector.operator.WatchHub;
import dev.lockstep.collector.store.AuditLog;
import dev.lockstep.collector.store.RocksRunStateStore;
import dev.lockstep.collector.store.Store;
import dev.lockstep.collector.stop.StopAuthority;
import dev.lockstep.golden.DiffReport;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenDiff;
import dev.lockstep.golden.GoldenDocument;
import dev.lockstep.golden.GoldenParseException;
import dev.lockstep.golden.RunSummary;
import dev.lockstep.golden.StepSummary;
import dev.lockstep.proto.v1.AgentInfo;
import dev.lockstep.proto.v1.CaptureRequest;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.Difference;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.EvidenceInfo;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.Pins;
import dev.lockstep.proto.v1.Severity;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopCommand;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.WatchEvent;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The collector's view of the fleet and its reflexes: routes what agents report to the correlator,
 * the incident book, the stop authority, evidence and alerts. All of that state changes on ONE
 * core thread (in order, no locks needed between the parts); the gateway's threads only hand work
 * over. Operator calls that change the fleet also run on the core thread.
 */
public final class Fleet implements GatewayListener {
  private static final System.Logger LOG = System.getLogger(Fleet.class.getName());

  private final CollectorConfig config;
  private final Clock clock;
  private final Store store;
  private final RocksRunStateStore runs;
  private final Correlator correlator;
  private final Incidents incidents;
  private final StopAuthority stop;
  private final AgentDirectory agents;
  private final EvidenceStore evidence;
  private final AuditLog audit;
  private final CollectorMetrics metrics;
  private final WatchHub watch;
  private final ScheduledExecutorService core;
  private final java.util.concurrent.Executor diffs;
  private final Consumer<String> progress;
  private volatile AgentGateway gateway;
  private volatile Alerts alerts;
  private static final String PROCESSED = "processed_before_millis";
  private static final long REPLAY_SLACK_MILLIS = 2_000;

  private final Map<String, List<CaptureRequest>> pendingCaptures = new HashMap<>();
  private final java.util.concurrent.ConcurrentSkipListMap<Long, Integer> inFlight =
      new java.util.concurrent.ConcurrentSkipListMap<>();
  private Set<String> lastPins = Set.of();

  Fleet(CollectorConfig config, Clock clock, Store store, RocksRunStateStore runs,
      Correlator correlator, Incidents incidents, StopAuthority stop, AgentDirectory agents,
      EvidenceStore evidence, AuditLog audit, CollectorMetrics metrics, WatchHub watch,
      ScheduledExecutorService core, java.util.concurrent.Executor diffs,
      Consumer<String> progress) {
    this.config = config;
    this.clock = clock;
    this.store = store;
    this.runs = runs;
    this.correlator = correlator;
    this.incidents = incidents;
    this.stop = stop;
    this.agents = agents;
    this.evidence = evidence;
    this.audit = audit;
    this.metrics = metrics;
    this.watch = watch;
    this.core = core;
    this.diffs = diffs;
    this.progress = progress;
    incidents.onChange(this::incidentChanged);
  }

  void attach(AgentGateway gateway, Alerts alerts) {
    this.gateway = gateway;
    this.alerts = alerts;
  }

  // ------------------------------------------------------------------ accessors for operator

  public CollectorConfig config() {
    return config;
  }

  public Incidents incidents() {
    return incidents;
  }

  public RocksRunStateStore runs() {
    return runs;
  }

  public AgentDirectory agents() {
    return agents;
  }

  public EvidenceStore evidence() {
    return evidence;
  }

  public AuditLog audit() {
    return audit;
  }

  public WatchHub watch() {
    return watch;
  }

  public Clock clock() {
    return clock;
  }

  public boolean connected(String agentId) {
    AgentGateway g = gateway;
    return g != null && g.session(agentId).map(AgentSession::isOpen).orElse(false);
  }

  public int connectedCount() {
    AgentGateway g = gateway;
    return g == null ? 0 : g.connected();
  }

  public Optional<AgentSession> session(String agentId) {
    AgentGateway g = gateway;
    return g == null ? Optional.empty() : g.session(agentId);
  }

  public StopStatus stopStatus() {
    return stop.status(agents.targets(), this::connected);
  }

  public StopState stopState() {
    return stop.current();
  }

  /** Runs {@code task} on the core thread and waits for it (operator calls). */
  public <T> T onCore(Callable<T> task) throws Exception {
    try {
      return core.submit(task).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception ex) throw ex;
      throw e;
    } catch (TimeoutException e) {
      throw new IllegalStateException("collector busy: core did not answer within 30 s");
    }
  }

  private void onCoreAsync(String what, Runnable task) {
    try {
      core.execute(() -> {
        try {
          task.run();
        } catch (RuntimeException e) {
          metrics.internalErrors.labelValues("core").inc();
          LOG.log(System.Logger.Level.ERROR, what + ": " + e, e);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shutting down
    }
  }

  // ------------------------------------------------------------------ gateway callbacks

  @Override
  public StopState accepted(AgentSession session) {
    agents.connected(session.hello(), session.remoteAddress(), clock.instant());
    progress.accept("agent " + session.agentId() + " connected from " + session.remoteAddress()
        + " (host " + session.hello().getHost() + ", enacted epoch "
        + session.hello().getEnactedStopEpoch() + ")");
    agents.get(session.agentId()).ifPresent(a -> publish(WatchEvent.newBuilder().setAgent(a)));
    long stored = store.highWaterMark(session.agentId());
    if (session.hello().getLastAckedSeq() > stored) {
      metrics.internalErrors.labelValues("agent_ahead_of_store").inc();
      progress.accept("warning: agent " + session.agentId() + " says seq "
          + session.hello().getLastAckedSeq() + " was acked but the store holds only up to " + stored
          + " (store restored from an older backup?); events in between are lost");
    }
    long enacted = session.hello().getEnactedStopEpoch();
    if (enacted > stop.current().getEpoch()) {
      StopState raised = stop.catchUp(enacted);
      if (raised != null) {
        audit.append("collector", "system", "StopEpochCatchUp", session.agentId(), "", "OK",
            "agent enacted epoch " + enacted + "; current state re-issued as epoch " + raised.getEpoch());
        progress.accept("agent " + session.agentId() + " had enacted epoch " + enacted
            + ", ahead of this collector: current state re-issued as epoch " + raised.getEpoch());
        fanOut();
      }
    }
    return stop.effectiveFor(agents.target(session.agentId()));
  }

  @Override
  public void welcomed(AgentSession session) {
    onCoreAsync("welcome", () -> {
      session.send(CollectorFrame.newBuilder().setPins(pins(session.agentId())).build());
      List<CaptureRequest> waiting = pendingCaptures.remove(session.agentId());
      if (waiting != null) {
        for (CaptureRequest c : waiting) session.send(CollectorFrame.newBuilder().setCapture(c).build());
      }
    });
  }

  @Override
  public void storing(long ingestedAtMillis) {
    inFlight.merge(ingestedAtMillis, 1, Integer::sum);
  }

  @Override
  public void storeFailed(long ingestedAtMillis) {
    inFlight.computeIfPresent(ingestedAtMillis, (k, n) -> n == 1 ? null : n - 1);
  }

  @Override
  public void stored(AgentSession session, List<Event> events, long ingestedAtMillis) {
    String agentId = session.agentId();
    long last = events.get(events.size() - 1).getSeq();
    agents.seen(agentId, last, clock.instant());
    Runnable done = () -> storeFailed(ingestedAtMillis);
    try {
      core.execute(() -> {
        try {
          for (Event e : events) handleEvent(agentId, e);
        } catch (RuntimeException ex) {
          metrics.internalErrors.labelValues("core").inc();
          LOG.log(System.Logger.Level.ERROR, "events of " + agentId + ": " + ex, ex);
        } finally {
          done.run();
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shutting down: leave the batch in flight so the checkpoint keeps it for replay
    }
  }

  /**
   * Persists how far the core has processed stored events: every event ingested before the
   * oldest batch still being written or queued for the core. A restart replays from there (see
   * {@link #replay}).
   */
  void checkpointProcessed() {
    long low = inFlight.isEmpty() ? clock.millis() : inFlight.firstKey();
    store.put(Store.Family.META, PROCESSED, Store.longBytes(low), false);
  }

  @Override
  public void stopAck(AgentSession session, StopAck ack) {
    String agentId = session.agentId();
    onCoreAsync("stop ack", () -> {
      var row = stop.recordAck(agentId, ack);
      if (ack.getEnacted()) agents.enacted(agentId, ack.getEpoch());
      progress.accept("ack from " + agentId + ": epoch " + ack.getEpoch() + " " + ack.getMode()
          + " " + row.getStatus() + (ack.getDetail().isEmpty() ? "" : " (" + firstLine(ack.getDetail()) + ")"));
      publishStopSoon();
    });
  }

  @Override
  public void evidence(AgentSession session, EvidenceChunk chunk) {
    String agentId = session.agentId();
    onCoreAsync("evidence", () -> {
      EvidenceStore.Accepted a = evidence.accept(agentId, chunk);
      if (a.storedBytes() > 0) metrics.evidenceBytes.inc(a.storedBytes());
      if (a.storedBytes() == 0 && !chunk.getData().isEmpty() && a.rejected().isEmpty()) {
        // over evidence.max_bytes_per_incident: dropped, the artifact is marked truncated
        metrics.rejectedFrames.labelValues("evidence_over_limit").inc();
      }
      if (!a.rejected().isEmpty()) {
        metrics.rejectedFrames.labelValues("evidence_name").inc();
        LOG.log(System.Logger.Level.WARNING, "evidence from " + agentId + ": " + a.rejected());
      }
      a.completed().ifPresent(info -> {
        incidents.update(chunk.getIncidentId(), b -> {
          List<EvidenceInfo> list = new ArrayList<>(b.getEvidenceList());
          list.removeIf(x -> x.getAgentId().equals(info.getAgentId()) && x.getName().equals(info.getName()));
          list.add(info);
          return b.clearEvidence().addAllEvidence(list);
        }, null);
        if ("golden".equals(info.getKind())) diffGolden(chunk.getIncidentId());
      });
    });
  }

  @Override
  public void disconnected(AgentSession session) {
    agents.disconnected(session.agentId(), clock.instant());
    progress.accept("agent " + session.agentId() + " disconnected");
    agents.get(session.agentId()).ifPresent(a -> publish(WatchEvent.newBuilder().setAgent(a)));
  }

  // ------------------------------------------------------------------ event handling (core)

  void handleEvent(String agentId, Event e) {
    switch (e.getBodyCase()) {
      case GOLDEN -> golden(agentId, e.getGolden());
      case HEALTH -> {
        agents.probe(agentId, e.getHealth());
        Playbook.fromHealth(agentId, e.getHealth()).ifPresent(r -> {
          Incidents.Outcome o = incidents.raise(r);
          if (o.change() == Incidents.Change.OPENED) {
            if (r.kind() == IncidentKind.PROCESS_DIED) capture(o.incident(), List.of(agentId), List.of(), true, false);
            if (r.kind() == IncidentKind.STALE_LOG) capture(o.incident(), List.of(agentId), List.of(), false, true);
          }
        });
      }
      case LOG_MATCH -> {
        String run = e.getLogMatch().getRunId();
        String linked = run.isEmpty() ? "" : runs.get(run).map(RunState::incidentId).orElse("");
        Playbook.fromLogMatch(agentId, e.getLogMatch(), linked).ifPresent(r -> {
          Incidents.Outcome o = incidents.raise(r);
          mismatchRaised(o, r.hosts(), r.runIds());
          if (o.change() == Incidents.Change.OPENED && !run.isEmpty()) {
            List<String> hosts = runs.get(run).map(s -> s.replicas().stream()
                .map(Replica::agentId).distinct().toList()).orElse(List.of(agentId));
            capture(o.incident(), hosts, List.of(run), true, true);
          }
        });
      }
      case NOTICE -> Playbook.fromNotice(agentId, e.getNotice()).ifPresent(incidents::raise);
      default -> { }
    }
  }

  private void golden(String agentId, GoldenReport r) {
    if (r.hasError()) {
      incidents.raise(Playbook.badGolden(agentId, r));
      return;
    }
    if (r.getRunId().isEmpty()) return;
    if (agents.reportedWorkflow(agentId, r.getWorkflow())) {
      // A workflow-scoped stop may now cover this agent.
      session(agentId).ifPresent(s -> {
        StopState eff = stop.effectiveFor(agents.target(agentId));
        if (eff.getEpoch() > 0 && !stop.acked(agentId)) {
          s.send(CollectorFrame.newBuilder().setStop(StopCommand.newBuilder().setState(eff)).build());
        }
      });
    }
    List<StepSummary> steps = new ArrayList<>();
    for (var s : r.getStepsList()) {
      steps.add(new StepSummary(s.getIndex(), s.getName(), s.getKind(), s.getExternal(),
          s.getCanonicalHash(), s.getEngineHash(), s.getRngHash(), s.getResponseHash()));
    }
    RunSummary summary = new RunSummary(r.getRunId(), r.getWorkflow(), r.getRole(),
        r.getHasSeed() ? r.getSeed() : null, r.getCanonicalHash(), r.getEngineHash(),
        r.getOutputHash(), steps);
    String role = r.getRole().isEmpty() ? "unknown" : r.getRole();
    Replica replica = new Replica(agentId, role, summary, r.getPath(), clock.millis());
    Optional<Decision> d = correlator.offer(replica, clock.millis());
    d.ifPresent(this::decided);
  }

  /** Sweeps the correlation window (MISSING_REPLICA). */
  void sweep() {
    for (Decision d : correlator.sweep(clock.millis())) decided(d);
  }

  void decided(Decision d) {
    metrics.runsDecided.labelValues(d.verdict().name()).inc();
    runs.get(d.runId()).ifPresent(s -> metrics.correlationLagSeconds.observe(
        Math.max(0, clock.millis() - s.firstSeenMillis()) / 1000.0));
    for (String h : d.hosts()) agents.countRun(h, d.blamedHosts().contains(h));
    if (d.verdict() == Verdict.MATCH) return;
    Playbook.fromDecision(d).ifPresent(r -> {
      Incidents.Outcome o = incidents.raise(r);
      runs.get(d.runId()).ifPresent(s -> runs.put(s.withIncident(o.incident().getId())));
      progress.accept("incident " + o.incident().getId() + " " + o.change().name().toLowerCase()
          + ": " + o.incident().getSeverity() + " " + o.incident().getTitle()
          + (d.explanation().isEmpty() ? "" : " — " + d.explanation()));
      mismatchRaised(o, d.hosts(), List.of(d.runId()));
      if (o.change() == Incidents.Change.OPENED && d.verdict() == Verdict.MISMATCH) {
        capture(o.incident(), d.hosts(), List.of(d.runId()), true, true);
      }
    });
  }

  /** Stop per policy on a P0, pins for new run ids. */
  private void mismatchRaised(Incidents.Outcome o, List<String> hosts, List<String> runIds) {
    Incident inc = o.incident();
    if (inc.getSeverity() == Severity.P0 && config.stopPolicy() != CollectorConfig.StopPolicy.OFF) {
      StopScope scope = switch (config.stopPolicy()) {
        case WORKFLOW -> inc.getWorkflow().isEmpty() ? StopScope.newBuilder().setFleet(true).build()
            : StopScope.newBuilder().setWorkflow(inc.getWorkflow()).build();
        case HOST -> StopScope.newBuilder().setHost(!inc.getBlamedHost().isEmpty()
            ? inc.getBlamedHost().split(",")[0] : hosts.isEmpty() ? "" : hosts.get(0)).build();
        default -> StopScope.newBuilder().setFleet(true).build();
      };
      if (!stop.alreadyStopped(scope)) {
        StopState s = issueStop(StopMode.STOPPED, scope, inc.getTitle(), inc.getId(), "collector",
            issued -> incidents.update(inc.getId(), b -> b.setStopEpoch(issued.getEpoch()),
                "stop epoch " + issued.getEpoch() + " issued"));
        audit.append("collector", "system", "AutoStop", inc.getId(), "", "OK",
            "epoch " + s.getEpoch() + " " + describe(scope));
      }
    }
    publishPins();
  }

  /** Persists the next stop state, then pushes each connected agent its effective state. */
  public StopState issueStop(StopMode mode, StopScope scope, String reason, String incidentId,
      String issuedBy) {
    return issueStop(mode, scope, reason, incidentId, issuedBy, s -> { });
  }

  private StopState issueStop(StopMode mode, StopScope scope, String reason, String incidentId,
      String issuedBy, Consumer<StopState> beforeSend) {
    StopState s = stop.issue(mode, scope, reason, incidentId, issuedBy);
    beforeSend.accept(s);
    long started = System.nanoTime();
    int sent = fanOut();
    double seconds = (System.nanoTime() - started) / 1e9;
    metrics.stopFanoutSeconds.observe(seconds);
    progress.accept("stop epoch " + s.getEpoch() + " issued: " + mode + " " + describe(scope)
        + " by " + issuedBy + (incidentId.isEmpty() ? "" : " for " + incidentId)
        + " — sent to " + sent + " connected agents in " + Math.round(seconds * 1000) + " ms (reason: "
        + reason + ")");
    publish(WatchEvent.newBuilder().setStop(stopStatus()));
    return s;
  }

  private int fanOut() {
    AgentGateway g = gateway;
    if (g == null) return 0;
    // Every agent gets one of two frames (in scope or not): build each once, not per agent.
    Map<StopState, CollectorFrame> frames = new HashMap<>();
    return g.broadcast(s -> {
      StopState eff = stop.effectiveFor(agents.target(s.agentId()));
      s.send(frames.computeIfAbsent(eff, e ->
          CollectorFrame.newBuilder().setStop(StopCommand.newBuilder().setState(e)).build()));
    });
  }

  /** Re-sends the current state to connected agents that have not acked it. */
  void resendPending() {
    AgentGateway g = gateway;
    if (g == null || stop.current().getEpoch() == 0) return;
    for (AgentSession s : g.sessions()) {
      if (!stop.acked(s.agentId())) {
        StopState eff = stop.effectiveFor(agents.target(s.agentId()));
        s.send(CollectorFrame.newBuilder().setStop(StopCommand.newBuilder().setState(eff)).build());
      }
    }
  }

  static String describe(StopScope scope) {
    return switch (scope.getTargetCase()) {
      case WORKFLOW -> "workflow " + scope.getWorkflow();
      case HOST -> "host " + scope.getHost();
      default -> "fleet";
    };
  }

  private void capture(Incident inc, List<String> hosts, List<String> runIds, boolean logs,
      boolean snapshot) {
    if (hosts.isEmpty()) return;
    long perAgent = Math.max(64 * 1024, config.evidence().maxBytesPerIncident() / hosts.size());
    for (String h : hosts) {
      CaptureRequest c = CaptureRequest.newBuilder()
          .setRequestId(UUID.randomUUID().toString()).setIncidentId(inc.getId())
          .addAllRunIds(runIds).setIncludeLogs(logs)
          .setLogTailLines(config.evidence().logTailLines()).setIncludeSnapshot(snapshot)
          .setMaxBytes(perAgent).build();
      Optional<AgentSession> s = session(h);
      if (s.isPresent() && s.get().isOpen()) {
        s.get().send(CollectorFrame.newBuilder().setCapture(c).build());
      } else {
        pendingCaptures.computeIfAbsent(h, k -> new ArrayList<>()).add(c);
      }
    }
  }

  /** When two golden documents of the incident's run are in: full golden diff, stored. */
  /**
   * Parsing and diffing golden documents (up to 64 MiB each) runs on its own thread, never on
   * the core thread, so a big diff cannot delay the next stop; the result is applied on the core.
   */
  private void diffGolden(String incidentId) {
    try {
      diffs.execute(() -> {
        try {
          computeDiff(incidentId);
        } catch (RuntimeException e) {
          metrics.internalErrors.labelValues("golden").inc();
          LOG.log(System.Logger.Level.WARNING, "golden diff failed for " + incidentId + ": " + e);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      metrics.internalErrors.labelValues("diff_queue_full").inc();
    }
  }

  private void computeDiff(String incidentId) {
    Optional<Incident> inc = incidents.get(incidentId);
    if (inc.isEmpty() || inc.get().getRunIdsCount() == 0) return;
    String runId = inc.get().getRunIds(0);
    Map<String, GoldenDocument> byRole = new LinkedHashMap<>();
    Map<String, String> agentOfRole = new HashMap<>();
    for (EvidenceInfo info : evidence.list(incidentId)) {
      if (!"golden".equals(info.getKind()) || info.getTruncated()) continue;
      byte[] bytes = evidence.read(incidentId, info.getAgentId(), info.getName());
      try {
        GoldenDocument doc = Golden.parse(bytes, info.getAgentId() + "/" + info.getName(),
            config.golden());
        if (!runId.equals(doc.summary().runId())) continue;
        String role = doc.summary().role() == null ? info.getName() : doc.summary().role();
        byRole.putIfAbsent(role, doc);
        agentOfRole.putIfAbsent(role, info.getAgentId());
      } catch (GoldenParseException e) {
        LOG.log(System.Logger.Level.WARNING, "evidence of " + incidentId + " unparseable: " + e.getMessage());
      } catch (RuntimeException e) {
        metrics.internalErrors.labelValues("golden").inc();
        LOG.log(System.Logger.Level.WARNING, "golden parse failed for " + incidentId + ": " + e);
        return;
      }
    }
    if (byRole.size() < 2) return;
    String aRole = byRole.containsKey("primary") ? "primary" : byRole.keySet().iterator().next();
    String bRole = null;
    String blamed = inc.get().getBlamedHost();
    for (String role : byRole.keySet()) {
      if (role.equals(aRole)) continue;
      if (bRole == null || (!blamed.isEmpty() && blamed.contains(agentOfRole.get(role)))) bRole = role;
    }
    DiffReport report = GoldenDiff.diff(byRole.get(aRole), byRole.get(bRole), config.golden());
    String json = report.toJson();
    String roles = aRole + " vs " + bRole;
    onCoreAsync("apply diff", () -> applyDiff(incidentId, report, json, roles));
  }

  private void applyDiff(String incidentId, DiffReport report, String json, String roles) {
    Optional<Incident> inc = incidents.get(incidentId);
    if (inc.isEmpty()) return;
    evidence.putDiff(incidentId, json);
    List<Difference> rows = new ArrayList<>();
    for (dev.lockstep.golden.Difference d : report.differences()) {
      if (rows.size() >= 50) break;
      rows.add(Difference.newBuilder().setPath(d.path()).setKind(d.kind().name())
          .setA(bound(d.a())).setB(bound(d.b())).setVolatile(d.volatileField()).build());
    }
    // Keep the correlator's vote text ("majority of N replicas blames ...") after the diff's words.
    String previous = inc.get().getExplanation();
    int vote = previous.indexOf("majority of ");
    String explanation = (report.explanation() == null ? "" : report.explanation())
        + (vote >= 0 ? " | " + previous.substring(vote) : "");
    incidents.update(incidentId, b -> {
      if (report.category() != null) b.setCategory(report.category().name());
      if (report.firstDivergentStep() != null) {
        b.setFirstStepIndex(report.firstDivergentStep().index())
            .setFirstStepName(report.firstDivergentStep().name() == null ? ""
                : report.firstDivergentStep().name());
      }
      if (!explanation.isEmpty()) b.setExplanation(explanation);
      return b.clearDifferences().addAllDifferences(rows);
    }, "golden diff of " + roles + ": " + report.differences().size() + " differences");
    progress.accept("incident " + incidentId + ": golden diff stored ("
        + report.differences().size() + " differences, category " + report.category() + ")");
  }


  private static String bound(String s) {
    if (s == null) return "";
    return s.length() > 4096 ? s.substring(0, 4096) + "…" : s;
  }

  // ------------------------------------------------------------------ pins, watch, alerts

  /** Run ids of unresolved incidents, plus the paths of this agent's golden files of those runs. */
  private Pins pinsFor(String agentId, Set<String> runIds) {
    Pins.Builder b = Pins.newBuilder().addAllRunIds(runIds);
    for (String run : runIds) {
      runs.get(run).ifPresent(s -> {
        for (Replica r : s.replicas()) {
          if (r.agentId().equals(agentId) && r.path() != null && !r.path().isEmpty()) b.addPaths(r.path());
        }
      });
    }
    return b.build();
  }

  private Pins pins(String agentId) {
    return pinsFor(agentId, incidents.openRunIds());
  }

  void publishPins() {
    Set<String> now = incidents.openRunIds();
    if (now.equals(lastPins)) return;
    lastPins = now;
    AgentGateway g = gateway;
    if (g == null) return;
    for (AgentSession s : g.sessions()) {
      s.send(CollectorFrame.newBuilder().setPins(pinsFor(s.agentId(), now)).build());
    }
  }

  private void incidentChanged(Incidents.Outcome o) {
    publish(WatchEvent.newBuilder().setIncident(o.incident()));
    Alerts a = alerts;
    String event = switch (o.change()) {
      case OPENED -> "opened";
      case ESCALATED -> "escalated";
      case RESOLVED -> "resolved";
      default -> null;
    };
    if (a != null && event != null) a.enqueue(o.incident(), event);
    if (o.change() == Incidents.Change.RESOLVED) onCoreAsync("pins", this::publishPins);
  }

  /** Keeps Alertmanager's copy of every unresolved incident firing. */
  public void refreshAlerts() {
    Alerts a = alerts;
    if (a == null) return;
    List<Incident> open = new ArrayList<>();
    for (Incident i : incidents.all()) {
      if (i.getState() != dev.lockstep.proto.v1.IncidentState.RESOLVED) open.add(i);
    }
    if (!open.isEmpty()) a.refreshAlertmanager(open);
  }

  /** Raised by the alert worker when a sink keeps failing. */
  void sinkFailing(String sink, String detail) {
    onCoreAsync("webhook failure", () -> {
      Incidents.Outcome o = incidents.raise(Playbook.webhookFailure(sink, detail));
      progress.accept("incident " + o.incident().getId() + " " + o.change().name().toLowerCase()
          + ": P3 " + o.incident().getTitle());
    });
  }

  private boolean stopPublishPending;

  /**
   * Publishes the stop status to watchers at most every 100 ms (core thread only): with a
   * thousand agents acking at once, one status per ack would cost O(agents²).
   */
  private void publishStopSoon() {
    if (watch.subscribers() == 0 || stopPublishPending) return;
    stopPublishPending = true;
    core.schedule(() -> {
      stopPublishPending = false;
      publish(WatchEvent.newBuilder().setStop(stopStatus()));
    }, 100, TimeUnit.MILLISECONDS);
  }

  void publish(WatchEvent.Builder e) {
    Instant now = clock.instant();
    watch.publish(e.setAt(Timestamp.newBuilder().setSeconds(now.getEpochSecond())
        .setNanos(now.getNano())).build());
  }

  // ------------------------------------------------------------------ retention, replay

  void retain() {
    Instant now = clock.instant();
    try {
      store.deleteEventsBefore(now.minus(config.retention().events()).toEpochMilli());
      audit.deleteBefore(now.minus(config.retention().audit()).toEpochMilli());
    } catch (java.io.IOException e) {
      metrics.internalErrors.labelValues("retention").inc();
    }
    Set<String> pinned = incidents.openRunIds();
    long cutoff = now.minus(config.retention().runs()).toEpochMilli();
    List<String> old = new ArrayList<>();
    runs.scan("", s -> {
      if (s.verdict() != Verdict.PENDING && s.decidedAtMillis() < cutoff && !pinned.contains(s.runId())) {
        old.add(s.runId());
      }
      return true;
    });
    old.forEach(runs::delete);
    Instant evidenceCutoff = now.minus(config.retention().evidence());
    for (Incident i : incidents.all()) {
      if (i.getState() == dev.lockstep.proto.v1.IncidentState.RESOLVED
          && i.getLastSeen().getSeconds() < evidenceCutoff.getEpochSecond()) {
        evidence.deleteIncident(i.getId());
      }
    }
    for (String id : incidents.deleteResolvedBefore(now.minus(config.retention().incidents()))) {
      evidence.deleteIncident(id);
    }
  }

  /**
   * Re-processes events stored (and acked) but maybe not yet acted on when the collector last
   * stopped: everything ingested since the persisted processing checkpoint (written every second)
   * minus a little slack, or the last correlation window when there is no checkpoint. Golden
   * reports are idempotent (the correlator ignores a replica it has); a replayed health or log
   * event at worst counts one extra repeat on its incident. Returns the number of events.
   */
  int replay() {
    byte[] mark = store.get(Store.Family.META, PROCESSED);
    long from = mark == null ? clock.millis() - config.correlation().window().toMillis()
        : Store.bytesLong(mark) - REPLAY_SLACK_MILLIS;
    int[] n = {0};
    store.scanEvents(Math.max(0, from), ev -> {
      handleEvent(ev.agentId(), ev.event());
      n[0]++;
      return true;
    });
    checkpointProcessed();
    return n[0];
  }

  /**
   * Runs the mismatch path once on dummy data without side effects (classification, vote, run
   * state encoding, playbook, alert payloads, frame building), so the first real mismatch is not
   * slowed by class loading and one-time initialisation on its way to the stop fan-out.
   */
  void warmUp() {
    List<StepSummary> steps = List.of(new StepSummary(0, "s", "compute", false, "sha256:x", "", "", ""));
    RunSummary a = new RunSummary("warm-up", "warm-up", "primary", 1L, "sha256:a", "", "", steps);
    RunSummary b = new RunSummary("warm-up", "warm-up", "shadow", 1L, "sha256:b", "", "", steps);
    dev.lockstep.golden.Classifier.classify(a, b);
    dev.lockstep.golden.Majority.vote(Map.of("a", a, "b", b, "c", b));
    Replica r = new Replica("warm-up", "primary", a, "/warm-up", 0);
    RocksRunStateStore.warmUp(new RunState("warm-up", "warm-up", 0, 1, List.of(r), Verdict.MISMATCH, 1,
        "DETERMINISM_VIOLATION", "x", "INC-000000"));
    Decision d = new Decision("warm-up", "warm-up", Verdict.MISMATCH, "DETERMINISM_VIOLATION", 0, "s",
        "x", List.of("warm-up"), List.of(), List.of(r), List.of());
    Playbook.fromDecision(d).ifPresent(raise -> {
      Incident sample = Incident.newBuilder().setId("INC-000000").setKind(raise.kind())
          .setSeverity(raise.severity()).setTitle(raise.title()).setSignature(raise.signature()).build();
      Alerts.warmUp(sample);
      WatchEvent.newBuilder().setIncident(sample).build().toByteArray();
    });
    CollectorFrame.newBuilder().setStop(StopCommand.newBuilder().setState(stop.current())).build()
        .toByteArray();
    try {
      dev.lockstep.proto.v1.AgentFrame.parseFrom(dev.lockstep.proto.v1.AgentFrame.newBuilder()
          .setEvents(dev.lockstep.proto.v1.EventBatch.newBuilder().addEvents(Event.newBuilder()
              .setSeq(1).setGolden(GoldenReport.newBuilder().setRunId("warm-up").addSteps(
                  dev.lockstep.proto.v1.StepSummary.newBuilder().setIndex(0))))).build().toByteArray());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  static String firstLine(String s) {
    String l = s.lines().findFirst().orElse("");
    return l.length() > 200 ? l.substring(0, 200) + "…" : l;
  }

  /** Directory rows with their live connection state. */
  public List<AgentInfo> agentRows() {
    List<AgentInfo> out = new ArrayList<>();
    Instant now = clock.instant();
    for (AgentInfo a : agents.all()) {
      String conn;
      if (connected(a.getAgentId())) {
        Instant seen = session(a.getAgentId()).map(AgentSession::lastSeen).orElse(now);
        conn = seen.plus(config.agentStaleAfter()).isBefore(now) ? "STALE" : "CONNECTED";
      } else {
        conn = "OFFLINE";
      }
      out.add(a.toBuilder().setConnection(conn).setAckedSeq(store.highWaterMark(a.getAgentId())).build());
    }
    return out;
  }
}
