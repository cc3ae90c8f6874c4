package dev.lockstep.collector.operator;

import com.google.protobuf.Timestamp;
import dev.lockstep.collector.Fleet;
import dev.lockstep.security.AuditEntry.Outcome;
import dev.lockstep.security.Authorizer;
import dev.lockstep.security.Caller;
import dev.lockstep.security.Role;
import dev.lockstep.collector.correlate.Replica;
import dev.lockstep.collector.evidence.DiffWorker;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.golden.Classification;
import dev.lockstep.golden.Classifier;
import dev.lockstep.golden.DiffReport;
import dev.lockstep.proto.v1.AgentInfo;
import dev.lockstep.proto.v1.AgentList;
import dev.lockstep.proto.v1.AuditList;
import dev.lockstep.proto.v1.DiffRequest;
import dev.lockstep.proto.v1.DiffResponse;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.EvidenceFile;
import dev.lockstep.proto.v1.ExportEvidenceRequest;
import dev.lockstep.proto.v1.FleetStatus;
import dev.lockstep.proto.v1.GetIncidentRequest;
import dev.lockstep.proto.v1.GetRunRequest;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentActionRequest;
import dev.lockstep.proto.v1.IncidentList;
import dev.lockstep.proto.v1.IncidentState;
import dev.lockstep.proto.v1.ListAgentsRequest;
import dev.lockstep.proto.v1.ListAuditRequest;
import dev.lockstep.proto.v1.ListIncidentsRequest;
import dev.lockstep.proto.v1.ListRunsRequest;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.Run;
import dev.lockstep.proto.v1.RunList;
import dev.lockstep.proto.v1.Severity;
import dev.lockstep.proto.v1.StatusRequest;
import dev.lockstep.proto.v1.StepSummary;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.StopStatusRequest;
import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.collector.core.IncidentRules;
import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.core.Refusal;
import dev.lockstep.collector.core.StopRules;
import dev.lockstep.collector.host.HostStatus;
import dev.lockstep.proto.v1.WatchEvent;
import dev.lockstep.proto.v1.WatchRequest;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The Operator gRPC service the CLI talks to. Roles come from the caller's certificate
 * ({@link Authorizer}): changes (stop, resume, ack, resolve) need OPERATOR, reads OPERATOR or
 * VIEWER, agents get PERMISSION_DENIED. Every change that ran and every refused attempt is audited
 * with the caller's identity ("anonymous" with --insecure), role and remote address. Streams
 * (ExportEvidence, Watch) respect flow control.
 */
public final class OperatorService extends OperatorGrpc.OperatorImplBase {
  private static final int DEFAULT_PAGE = 50;
  private static final int MAX_PAGE = 500;
  private static final int WATCH_QUEUE = 1000;

  private final Fleet fleet;
  private final CollectorMetrics metrics;
  private final Authorizer authorizer;
  private final DiffWorker diffs;

  public OperatorService(Fleet fleet, CollectorMetrics metrics, Authorizer authorizer, DiffWorker diffs) {
    this.fleet = fleet;
    this.metrics = metrics;
    this.authorizer = authorizer;
    this.diffs = diffs;
  }

  private static Timestamp now(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  private static <T> void fail(StreamObserver<T> o, Status s) {
    o.onError(s.asRuntimeException());
  }

  private void audit(String action, String target, Outcome outcome, String detail) {
    authorizer.audit(action, target, outcome, detail);
  }

  /**
   * Role check: changes need the operator role, reads viewer or operator. Refusals are audited
   * (by the {@link Authorizer}) and counted. Returns false (after failing the call) when refused.
   */
  private boolean permitted(StreamObserver<?> out, String action, String target, boolean change) {
    Status allowed = change ? authorizer.require(action, target, Role.OPERATOR)
        : authorizer.require(action, target, Role.OPERATOR, Role.VIEWER);
    if (allowed.isOk()) return true;
    metrics.refusedCalls.labelValues(action).inc();
    out.onError(allowed.asRuntimeException());
    return false;
  }

  @Override
  public void getStatus(StatusRequest request, StreamObserver<FleetStatus> out) {
    if (!permitted(out, "GetStatus", "", false)) return;
    int connected = 0, stale = 0, offline = 0;
    long cycles = 0;
    List<String> unhealthy = new ArrayList<>();
    for (AgentInfo a : fleet.agentRows()) {
      switch (a.getConnection()) {
        case "CONNECTED" -> connected++;
        case "STALE" -> stale++;
        default -> offline++;
      }
      boolean bad = false;
      for (HealthSample p : a.getProbesList()) {
        if (p.getProbe() == HealthSample.Probe.PROCESS) cycles += p.getProcess().getCycles();
        if (p.getLevel() == HealthSample.Level.WARN || p.getLevel() == HealthSample.Level.CRITICAL) {
          bad = true;
        }
      }
      if (bad) unhealthy.add(a.getAgentId());
    }
    Map<String, Integer> open = new TreeMap<>();
    for (Incident i : fleet.incidents().all()) {
      if (i.getState() != IncidentState.RESOLVED) open.merge(i.getSeverity().name(), 1, Integer::sum);
    }
    double match = metrics.runsDecided.labelValues("MATCH").get();
    double mismatch = metrics.runsDecided.labelValues("MISMATCH").get()
        + metrics.runsDecided.labelValues("MISSING_REPLICA").get();
    FleetStatus.Builder status = FleetStatus.newBuilder();
    fleet.clusterStatus().ifPresent(status::setCluster);
    out.onNext(status.setAgentsConnected(connected).setAgentsStale(stale)
        .setAgentsOffline(offline).setStop(fleet.stopStatus()).putAllOpenIncidents(open)
        .setCycles(cycles).addAllUnhealthy(unhealthy)
        .setEventsIngested(metrics.eventsIngested.getLongValue())
        .setRunsCorrelated((long) (match + mismatch)).setRunsMismatched((long) mismatch)
        .setStore(fleet.storeHealth())
        .setNow(now(fleet.clock().instant())).build());
    out.onCompleted();
  }

  @Override
  public void listAgents(ListAgentsRequest request, StreamObserver<AgentList> out) {
    if (!permitted(out, "ListAgents", "", false)) return;
    out.onNext(AgentList.newBuilder().addAllAgents(fleet.agentRows()).build());
    out.onCompleted();
  }

  @Override
  public void listIncidents(ListIncidentsRequest r, StreamObserver<IncidentList> out) {
    if (!permitted(out, "ListIncidents", "", false)) return;
    int size = r.getPageSize() <= 0 ? DEFAULT_PAGE : Math.min(r.getPageSize(), MAX_PAGE);
    List<Incident> page = new ArrayList<>();
    String next = "";
    for (Incident i : fleet.incidents().all()) {
      if (!r.getPageToken().isEmpty() && i.getId().compareTo(r.getPageToken()) >= 0) continue;
      if (r.getSeverity() != Severity.SEVERITY_UNSPECIFIED && i.getSeverity() != r.getSeverity()) continue;
      if (r.getOpenOnly() && i.getState() == IncidentState.RESOLVED) continue;
      if (r.getState() != IncidentState.INCIDENT_STATE_UNSPECIFIED && i.getState() != r.getState()) continue;
      if (!r.getCategory().isEmpty() && !r.getCategory().equals(i.getCategory())) continue;
      if (!r.getWorkflow().isEmpty() && !r.getWorkflow().equals(i.getWorkflow())) continue;
      if (r.hasSince() && i.getLastSeen().getSeconds() < r.getSince().getSeconds()) continue;
      if (page.size() == size) {
        next = page.get(page.size() - 1).getId();
        break;
      }
      page.add(i);
    }
    out.onNext(IncidentList.newBuilder().addAllIncidents(page).setNextPageToken(next).build());
    out.onCompleted();
  }

  @Override
  public void getIncident(GetIncidentRequest r, StreamObserver<Incident> out) {
    if (!permitted(out, "GetIncident", "", false)) return;
    Optional<Incident> i = fleet.incidents().get(r.getId());
    if (i.isEmpty()) {
      fail(out, Status.NOT_FOUND.withDescription("no incident " + r.getId()));
      return;
    }
    out.onNext(i.get());
    out.onCompleted();
  }

  @Override
  public void ackIncident(IncidentActionRequest r, StreamObserver<Incident> out) {
    transition(r, out, true);
  }

  @Override
  public void resolveIncident(IncidentActionRequest r, StreamObserver<Incident> out) {
    transition(r, out, false);
  }

  private void transition(IncidentActionRequest r, StreamObserver<Incident> out, boolean ack) {
    String action = ack ? "AckIncident" : "ResolveIncident";
    if (!permitted(out, action, r.getId(), true)) return;
    try {
      IncidentRules.requireNote(r.getNote());
    } catch (Refusal e) {
      audit(action, r.getId(), Outcome.REFUSED, r.getNote().isBlank() ? "empty note" : e.getMessage());
      fail(out, HostStatus.of(e));
      return;
    }
    Caller c = Caller.current();
    try {
      Incident i = (Incident) fleet.call(new Input.IncidentAction(r.getId(), !ack, r.getNote(),
          c.identity().name(), c.identity().roleLabel(), c.remoteAddress()));
      out.onNext(i);
      out.onCompleted();
    } catch (Refusal e) {
      authorizer.audit(c, action, r.getId(), Outcome.FAILED, e.getMessage());
      fail(out, HostStatus.of(e));
    } catch (RuntimeException e) {
      authorizer.audit(c, action, r.getId(), Outcome.FAILED, String.valueOf(e.getMessage()));
      fail(out, Status.UNAVAILABLE.withDescription(String.valueOf(e.getMessage())));
    }
  }

  @Override
  public void listRuns(ListRunsRequest r, StreamObserver<RunList> out) {
    if (!permitted(out, "ListRuns", "", false)) return;
    int size = r.getPageSize() <= 0 ? DEFAULT_PAGE : Math.min(r.getPageSize(), MAX_PAGE);
    List<Run> page = new ArrayList<>();
    String[] next = {""};
    java.util.function.Predicate<RunState> visit = s -> {
      if (r.getMismatchOnly() && (s.verdict().name().equals("MATCH") || s.verdict().name().equals("PENDING"))) {
        return true;
      }
      if (!r.getWorkflow().isEmpty() && !r.getWorkflow().equals(s.workflow())) return true;
      if (page.size() == size) {
        next[0] = page.get(page.size() - 1).getRunId();
        return false;
      }
      page.add(toRun(s));
      return true;
    };
    if (r.getRunIdPrefix().isEmpty()) {
      fleet.runs().scan(r.getPageToken(), visit);
    } else {
      fleet.runs().scanPrefix(r.getRunIdPrefix(), r.getPageToken(), visit);
    }
    out.onNext(RunList.newBuilder().addAllRuns(page).setNextPageToken(next[0]).build());
    out.onCompleted();
  }

  @Override
  public void getRun(GetRunRequest r, StreamObserver<Run> out) {
    if (!permitted(out, "GetRun", "", false)) return;
    Optional<RunState> s = fleet.runs().get(r.getRunId());
    if (s.isEmpty()) {
      fail(out, Status.NOT_FOUND.withDescription("no run " + r.getRunId()));
      return;
    }
    out.onNext(toRun(s.get()));
    out.onCompleted();
  }

  static Run toRun(RunState s) {
    Run.Builder b = Run.newBuilder().setRunId(s.runId()).setWorkflow(nz(s.workflow()))
        .setVerdict(s.verdict().name()).setCategory(s.category()).setIncidentId(s.incidentId())
        .setFirstSeen(now(Instant.ofEpochMilli(s.firstSeenMillis())));
    if (s.decidedAtMillis() > 0) b.setDecidedAt(now(Instant.ofEpochMilli(s.decidedAtMillis())));
    for (Replica r : s.replicas()) {
      var sum = r.summary();
      GoldenReport.Builder g = GoldenReport.newBuilder().setPath(nz(r.path()))
          .setRunId(nz(sum.runId())).setWorkflow(nz(sum.workflow())).setRole(nz(sum.role()))
          .setHasSeed(sum.seed() != null).setSeed(sum.seed() == null ? 0 : sum.seed())
          .setCanonicalHash(nz(sum.canonicalHash())).setEngineHash(nz(sum.engineHash()))
          .setOutputHash(nz(sum.outputHash()));
      if (r.modifiedAtMillis() > 0) g.setModifiedAt(now(Instant.ofEpochMilli(r.modifiedAtMillis())));
      for (var st : sum.steps()) {
        g.addSteps(StepSummary.newBuilder().setIndex(st.index()).setName(nz(st.name()))
            .setKind(nz(st.kind())).setCanonicalHash(nz(st.canonicalHash()))
            .setEngineHash(nz(st.engineHash())).setRngHash(nz(st.rngHash()))
            .setResponseHash(nz(st.responseHash())).setExternal(st.external()));
      }
      b.addReplicas(dev.lockstep.proto.v1.Replica.newBuilder().setAgentId(r.agentId())
          .setRole(r.role()).setReport(g));
    }
    return b.build();
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  @Override
  public void diff(DiffRequest r, StreamObserver<DiffResponse> out) {
    if (!permitted(out, "Diff", "", false)) return;
    String incidentId;
    Optional<RunState> run;
    if (r.getTargetCase() == DiffRequest.TargetCase.INCIDENT_ID) {
      incidentId = r.getIncidentId();
      Optional<Incident> inc = fleet.incidents().get(incidentId);
      if (inc.isEmpty()) {
        fail(out, Status.NOT_FOUND.withDescription("no incident " + incidentId));
        return;
      }
      run = inc.get().getRunIdsCount() == 0 ? Optional.empty()
          : fleet.runs().get(inc.get().getRunIds(0));
    } else if (r.getTargetCase() == DiffRequest.TargetCase.RUN_ID) {
      run = fleet.runs().get(r.getRunId());
      if (run.isEmpty()) {
        fail(out, Status.NOT_FOUND.withDescription("no run " + r.getRunId()));
        return;
      }
      incidentId = run.get().incidentId();
    } else {
      fail(out, Status.INVALID_ARGUMENT.withDescription("name an incident_id or a run_id"));
      return;
    }
    Optional<String> stored = incidentId.isEmpty() ? Optional.empty()
        : fleet.evidence().diff(incidentId);
    if (stored.isPresent()) {
      DiffResponse.Builder answer = DiffResponse.newBuilder().setReportJson(stored.get()).setFromDocuments(true);
      if (!r.getSideBySide()) {
        out.onNext(answer.build());
        out.onCompleted();
        return;
      }
      Optional<String> view = fleet.evidence().sideBySide(incidentId);
      if (view.isPresent()) {
        out.onNext(answer.setSideBySideJson(view.get()).build());
        out.onCompleted();
        return;
      }
      // diffed before views were stored: drawn once on the diff thread, never on this one
      diffs.sideBySide(incidentId).whenComplete((drawn, failure) -> {
        if (failure != null) {
          fail(out, Status.UNAVAILABLE.withDescription("side by side not drawn: " + failure.getMessage()));
          return;
        }
        out.onNext(answer.setSideBySideJson(drawn.orElse("")).build());
        out.onCompleted();
      });
      return;
    }
    if (run.isEmpty() || run.get().replicas().size() < 2) {
      fail(out, Status.FAILED_PRECONDITION.withDescription(
          "no stored golden documents and fewer than two replica summaries to compare"));
      return;
    }
    List<Replica> reps = run.get().replicas();
    Replica a = reps.stream().filter(x -> "primary".equals(x.role())).findFirst().orElse(reps.get(0));
    Replica b = reps.stream().filter(x -> x != a
        && !x.summary().canonicalHash().equals(a.summary().canonicalHash())).findFirst()
        .orElse(reps.get(reps.get(0) == a ? 1 : 0));
    try {
      Classification c = Classifier.classify(a.summary(), b.summary());
      DiffReport report = new DiffReport(run.get().runId(), run.get().workflow(), c.match(),
          c.category(), c.firstDivergentStep(), c.explanation(), a.agentId() + ":" + a.path(),
          b.agentId() + ":" + b.path(), List.of());
      out.onNext(DiffResponse.newBuilder().setReportJson(report.toJson()).setFromDocuments(false)
          .build());
      out.onCompleted();
    } catch (RuntimeException e) {
      fail(out, Status.INTERNAL.withDescription("diff failed: " + e.getMessage()));
    }
  }

  @Override
  public void enableStop(EnableStopRequest r, StreamObserver<StopStatus> out) {
    String target = r.hasScope() ? StopRules.describe(r.getScope()) : "fleet";
    if (!permitted(out, "EnableStop", target, true)) return;
    Caller c = Caller.current();
    try {
      StopOrder o = (StopOrder) fleet.call(new Input.IssueOrder(r.getScope(), r.getReason(),
          c.identity().name(), c.identity().roleLabel(), c.remoteAddress()));
      out.onNext(fleet.stopStatus().toBuilder().addChangedOrderIds(o.getId()).build());
      out.onCompleted();
    } catch (Refusal e) {
      authorizer.audit(c, "EnableStop", target, Outcome.REFUSED, e.getMessage());
      fail(out, HostStatus.of(e));
    } catch (RuntimeException e) {
      authorizer.audit(c, "EnableStop", target, Outcome.FAILED, String.valueOf(e.getMessage()));
      fail(out, Status.UNAVAILABLE.withDescription(String.valueOf(e.getMessage())));
    }
  }

  @Override
  public void resumeStop(ResumeStopRequest r, StreamObserver<StopStatus> out) {
    // the orders named, even with all: a refused "every order I saw" says which ones were seen
    String target = (r.getAll() ? "all of " : "") + String.join(",", r.getOrderIdsList());
    if (!permitted(out, "ResumeStop", target, true)) return;
    Caller c = Caller.current();
    try {
      @SuppressWarnings("unchecked")
      List<String> ids = (List<String>) fleet.call(new Input.Resume(r.getOrderIdsList(), r.getAll(),
          r.getReason(), c.identity().name(), c.identity().roleLabel(),
          c.remoteAddress()));
      out.onNext(fleet.stopStatus().toBuilder().addAllChangedOrderIds(ids).build());
      out.onCompleted();
    } catch (Refusal e) {
      authorizer.audit(c, "ResumeStop", target, Outcome.REFUSED, e.getMessage());
      fail(out, HostStatus.of(e));
    } catch (RuntimeException e) {
      authorizer.audit(c, "ResumeStop", target, Outcome.FAILED, String.valueOf(e.getMessage()));
      fail(out, Status.UNAVAILABLE.withDescription(String.valueOf(e.getMessage())));
    }
  }

  @Override
  public void getStopStatus(StopStatusRequest r, StreamObserver<StopStatus> out) {
    if (!permitted(out, "GetStopStatus", "", false)) return;
    out.onNext(fleet.stopStatus());
    out.onCompleted();
  }

  @Override
  public void exportEvidence(ExportEvidenceRequest r, StreamObserver<EvidenceFile> responseObserver) {
    if (!permitted(responseObserver, "ExportEvidence", "", false)) return;
    if (fleet.incidents().get(r.getIncidentId()).isEmpty()) {
      fail(responseObserver, Status.NOT_FOUND.withDescription("no incident " + r.getIncidentId()));
      return;
    }
    ServerCallStreamObserver<EvidenceFile> out = (ServerCallStreamObserver<EvidenceFile>) responseObserver;
    ArrayDeque<EvidenceFile> chunks = new ArrayDeque<>();
    fleet.evidence().export(r.getIncidentId(), chunks::add);
    boolean[] done = {false};
    Runnable drain = () -> {
      synchronized (chunks) {
        if (done[0]) return;
        while (out.isReady() && !chunks.isEmpty()) out.onNext(chunks.poll());
        if (chunks.isEmpty()) {
          done[0] = true;
          out.onCompleted();
        }
      }
    };
    out.setOnCancelHandler(() -> {
      synchronized (chunks) {
        done[0] = true;
        chunks.clear();
      }
    });
    out.setOnReadyHandler(drain);
    drain.run();
  }

  @Override
  public void watch(WatchRequest r, StreamObserver<WatchEvent> responseObserver) {
    if (!permitted(responseObserver, "Watch", "", false)) return;
    ServerCallStreamObserver<WatchEvent> out = (ServerCallStreamObserver<WatchEvent>) responseObserver;
    ArrayDeque<WatchEvent> queue = new ArrayDeque<>();
    boolean[] closed = {false};
    Runnable drain = () -> {
      synchronized (queue) {
        while (!closed[0] && out.isReady() && !queue.isEmpty()) out.onNext(queue.poll());
      }
    };
    Runnable[] unsubscribe = new Runnable[1];
    java.util.function.Consumer<WatchEvent> enqueue = e -> {
      synchronized (queue) {
        if (closed[0]) return;
        queue.add(e);
        if (queue.size() > WATCH_QUEUE) {
          closed[0] = true;
          queue.clear();
          out.onError(Status.RESOURCE_EXHAUSTED
              .withDescription("watcher too slow: " + WATCH_QUEUE + " events queued").asRuntimeException());
          if (unsubscribe[0] != null) unsubscribe[0].run();
          return;
        }
      }
      drain.run();
    };
    out.setOnCancelHandler(() -> {
      synchronized (queue) {
        closed[0] = true;
        queue.clear();
      }
      if (unsubscribe[0] != null) unsubscribe[0].run();
    });
    out.setOnReadyHandler(drain);
    if (r.getIncludeCurrent()) {
      Timestamp at = now(fleet.clock().instant());
      for (Incident i : fleet.incidents().all()) {
        if (i.getState() != IncidentState.RESOLVED) {
          enqueue.accept(WatchEvent.newBuilder().setAt(at).setIncident(i).build());
        }
      }
      enqueue.accept(WatchEvent.newBuilder().setAt(at).setStop(fleet.stopStatus()).build());
    }
    unsubscribe[0] = fleet.watch().subscribe(enqueue);
  }

  @Override
  public void listAudit(ListAuditRequest r, StreamObserver<AuditList> out) {
    if (!permitted(out, "ListAudit", "", false)) return;
    int limit = r.getLimit() <= 0 ? 100 : Math.min(r.getLimit(), 10_000);
    long since = r.hasSince() ? r.getSince().getSeconds() * 1000 + r.getSince().getNanos() / 1_000_000 : 0;
    byte[] before = null;
    if (!r.getPageToken().isEmpty()) {
      try {
        before = java.util.HexFormat.of().parseHex(r.getPageToken());
      } catch (IllegalArgumentException e) {
        before = null;
      }
      if (before == null || before.length != 16) {
        out.onError(io.grpc.Status.INVALID_ARGUMENT.withDescription("page_token '"
            + (r.getPageToken().length() > 40 ? r.getPageToken().substring(0, 40) + "..." : r.getPageToken())
            + "' is not a token from AuditList.next_page_token").asRuntimeException());
        return;
      }
    }
    var page = fleet.audit().page(since, limit, before);
    AuditList.Builder list = AuditList.newBuilder().addAllEntries(page.entries());
    if (page.next() != null) list.setNextPageToken(java.util.HexFormat.of().formatHex(page.next()));
    out.onNext(list.build());
    out.onCompleted();
  }
}
