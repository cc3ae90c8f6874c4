package dev.lockstep.collector.core;

import dev.lockstep.collector.correlate.Correlator;
import dev.lockstep.collector.correlate.Decision;
import dev.lockstep.collector.correlate.Replica;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.collector.correlate.Verdict;
import dev.lockstep.collector.incident.Playbook;
import dev.lockstep.collector.incident.Raise;
import dev.lockstep.golden.RunSummary;
import dev.lockstep.proto.store.v1.CaptureRecord;
import dev.lockstep.proto.v1.CaptureRequest;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EvidenceInfo;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentNote;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.IncidentState;
import dev.lockstep.proto.v1.LogMatch;
import dev.lockstep.proto.v1.Severity;
import dev.lockstep.proto.v1.StopScope;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * The collector's logic as a function: {@link #apply} takes one {@link Input} and a {@link Tx}
 * over the committed state, writes the state changes into the transaction and lists the effects
 * (stop commands, captures, alerts, watch events) — no threads, no I/O, no gRPC, RocksDB or
 * Kafka types. A host commits the transaction (one atomic, fsync'd write when it holds a
 * decision), then carries out the effects. Replaying an input whose transaction was not
 * committed is safe; an input whose transaction was committed is never applied twice (events by
 * the per-agent processing mark written in the same transaction).
 */
public final class Core {
  private final CoreConfig config;
  private final Correlator correlator;
  private final StopRules stops;
  private final RandomGenerator random;
  /** What a run's state costs its host to store, and the most it can (none: unlimited). */
  private java.util.function.ToLongFunction<RunState> runBytes = r -> 0;
  private long maxRunBytes = Long.MAX_VALUE;

  public Core(CoreConfig config, RandomGenerator random) {
    this.config = config;
    this.correlator = new Correlator(config.correlation());
    this.stops = new StopRules(random);
    this.random = random;
  }

  /**
   * Bounds the stored size of a run's state: {@code bytes} is what its host's encoding takes.
   * Cluster mode keeps each run in one Kafka record (8 MiB at most); a run over it (tens of
   * thousands of steps over its replicas, or one agent's made-up huge report) failed the core's
   * transaction on every retry, so no decision or stop was made after it. Over the bound, each
   * replica's steps are folded into one summary once compared (see {@link RunState#withStepsFolded}).
   */
  public void limitRunState(java.util.function.ToLongFunction<RunState> bytes, long max) {
    this.runBytes = bytes;
    this.maxRunBytes = max;
  }

  /**
   * Applies {@code in}; returns the caller's answer (an order, resumed ids, an incident, or
   * null). Throws {@link Refusal} before writing anything when the input is refused.
   */
  public Object apply(Tx tx, Input in) {
    if (in instanceof Input.Events e) {
      events(tx, e);
    } else if (in instanceof Input.Hello h) {
      return hello(tx, h);
    } else if (in instanceof Input.Ack a) {
      List<String> adopted = new java.util.ArrayList<>();
      boolean counted = StopRules.ack(tx, a.agentId(), a.ack(), adopted);
      adopted(tx, a.agentId(), adopted);
      return counted;
    } else if (in instanceof Input.Sweep) {
      for (Decision d : correlator.sweep(tx, tx.nowMillis())) decided(tx, d, Verdict.PENDING);
    } else if (in instanceof Input.IssueOrder o) {
      return stops.issue(tx, o);
    } else if (in instanceof Input.Resume r) {
      return stops.resume(tx, r);
    } else if (in instanceof Input.IncidentAction a) {
      return IncidentRules.transition(tx, a);
    } else if (in instanceof Input.EvidenceStored s) {
      evidenceStored(tx, s);
    } else if (in instanceof Input.CaptureDone d) {
      tx.capture(d.requestId()).filter(c -> !c.getDone())
          .ifPresent(c -> tx.putCapture(c.toBuilder().setDone(true).build()));
    } else if (in instanceof Input.DiffComputed d) {
      diffComputed(tx, d);
    } else if (in instanceof Input.SinkFailing f) {
      IncidentRules.Outcome o = IncidentRules.raise(tx, Playbook.webhookFailure(f.sink(), f.detail()));
      tx.effect(new Effect.Progress("incident " + o.incident().getId() + " "
          + o.change().name().toLowerCase() + ": P3 " + o.incident().getTitle()));
    } else if (in instanceof Input.StoreSpace sp) {
      storeSpace(tx, sp);
    } else if (in instanceof Input.ForgetIncidents f) {
      forget(tx, f.incidentIds());
    } else if (in instanceof Input.ForgetResumedOrders f) {
      for (var r : List.copyOf(tx.resumedOrders())) {
        long at = r.getResumedAt().getSeconds() * 1000 + r.getResumedAt().getNanos() / 1_000_000;
        if (at < f.resumedBeforeMillis()) tx.deleteResumedOrder(r.getOrder().getId());
      }
    } else {
      throw new IllegalArgumentException("unknown input " + in.getClass().getSimpleName());
    }
    return null;
  }

  // ------------------------------------------------------------------ agents

  /** A P1 about the collector itself when it adopted orders an agent held (Hello or ack). */
  private static void adopted(Tx tx, String agentId, List<String> adopted) {
    if (adopted.isEmpty()) return;
    IncidentRules.Outcome o = IncidentRules.raise(tx, new Raise(IncidentKind.COLLECTOR,
        Severity.P1, "STOP_ADOPTED", "", -1, "", List.of(), List.of(), List.of(agentId), "",
        "collector adopted stop order(s) " + String.join(", ", adopted) + " from agent "
            + agentId,
        "the agent had enacted orders this collector's store did not know (restored from an"
            + " older backup, replaced, or the agent's own fail-safe stop); they stay active"
            + " until an operator resumes them", agentId));
    tx.effect(new Effect.Progress("agent " + agentId + " holds stop order(s) unknown to"
        + " this store: adopted " + String.join(", ", adopted) + " (incident "
        + o.incident().getId() + ")"));
  }

  private Object hello(Tx tx, Input.Hello h) {
    adopted(tx, h.agentId(), stops.hello(tx, h));
    var desired = tx.agentStop(h.agentId()).orElseThrow().getDesired();
    tx.effect(new Effect.Welcome(h.agentId(), h.connectionId(), desired));
    for (CaptureRecord c : tx.openCaptures(h.agentId())) {
      tx.effect(new Effect.SendCapture(h.agentId(), request(c)));
    }
    return desired;
  }

  // ------------------------------------------------------------------ the collector itself

  private static Raise storeRaise(String title, String explanation) {
    return new Raise(IncidentKind.COLLECTOR, Severity.P1, "STORE_SPACE", "", -1, "", List.of(),
        List.of(), List.of(), "", title, explanation, "store");
  }

  private static void storeSpace(Tx tx, Input.StoreSpace sp) {
    String signature = storeRaise("", "").signature();
    Optional<String> open = tx.openIncident(signature);
    if (sp.state().equals("OK")) {
      open.ifPresent(id -> IncidentRules.resolveAutomatically(tx, id, "store has room again: "
          + (sp.freeBytes() >> 20) + " MiB free"));
      return;
    }
    String title = "collector store " + sp.state() + ": " + (sp.freeBytes() >> 20) + " MiB free";
    IncidentRules.Outcome o = IncidentRules.raise(tx, storeRaise(title, sp.detail()));
    if (o.change() != IncidentRules.Change.OPENED) {
      IncidentRules.update(tx, o.incident().getId(), b -> b.setTitle(title)
          .setExplanation(sp.detail()), "store " + sp.state());
    }
    tx.requireSync();
  }

  // ------------------------------------------------------------------ events

  private void events(Tx tx, Input.Events in) {
    long processed = tx.processedSeq(in.agentId(), in.lane());
    long last = processed;
    for (Event e : in.events()) {
      if (e.getSeq() <= last || Lane.of(e) != in.lane()) continue;
      int sp = tx.savepoint();
      try {
        event(tx, in.agentId(), e);
      } catch (RuntimeException ex) {
        tx.rollbackTo(sp);
        poisoned(tx, in.agentId(), e, ex);
      }
      last = e.getSeq();
    }
    if (last > processed) tx.processed(in.agentId(), in.lane(), last);
  }

  /** An event the core failed on: counted as processed, raised loudly, never silently skipped. */
  private static void poisoned(Tx tx, String agentId, Event e, RuntimeException ex) {
    String what = ex.getClass().getSimpleName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage());
    IncidentRules.raise(tx, new Raise(IncidentKind.COLLECTOR, Severity.P1, "PROCESSING_FAILED",
        "", -1, "", List.of(), List.of(), List.of(agentId), "",
        "collector could not process event " + agentId + "/" + e.getSeq() + " ("
            + e.getBodyCase() + ")",
        StopRules.bound(what, 1000) + "; the event stays stored; report this as a bug",
        agentId + ":" + e.getBodyCase()));
    tx.effect(new Effect.Progress("ERROR: event " + agentId + "/" + e.getSeq() + " failed: " + what));
  }

  private void event(Tx tx, String agentId, Event stored) {
    // the gateway cuts what it stores; events stored before those limits are cut here
    Event e = EventBounds.cut(stored);
    switch (e.getBodyCase()) {
      case GOLDEN -> golden(tx, agentId, e.getGolden());
      case HEALTH -> {
        tx.effect(new Effect.ProbeSeen(agentId, e.getHealth()));
        Playbook.fromHealth(agentId, e.getHealth()).ifPresent(r -> {
          IncidentRules.Outcome o = IncidentRules.raise(tx, r);
          if (o.change() == IncidentRules.Change.OPENED) {
            if (r.kind() == IncidentKind.PROCESS_DIED) {
              capture(tx, o.incident(), List.of(agentId), List.of(), true, false);
            }
            if (r.kind() == IncidentKind.STALE_LOG) {
              capture(tx, o.incident(), List.of(agentId), List.of(), false, true);
            }
          }
        });
      }
      case LOG_MATCH -> {
        LogMatch m = EventRules.logMatch(e.getLogMatch());
        String run = m.getRunId();
        String linked = run.isEmpty() ? "" : tx.run(run).map(RunState::incidentId).orElse("");
        Playbook.fromLogMatch(agentId, m, linked).ifPresent(r -> {
          IncidentRules.Outcome o = IncidentRules.raise(tx, r);
          mismatchRaised(tx, o, r.hosts());
          if (o.change() == IncidentRules.Change.OPENED && !run.isEmpty()) {
            List<String> hosts = tx.run(run).map(s -> s.replicas().stream()
                .map(Replica::agentId).distinct().toList()).orElse(List.of(agentId));
            capture(tx, o.incident(), hosts, List.of(run), true, true);
          }
        });
      }
      case NOTICE -> Playbook.fromNotice(agentId, e.getNotice()).ifPresent(r -> IncidentRules.raise(tx, r));
      case REMEDIATION -> remediation(tx, agentId, e.getRemediation());
      default -> { }
    }
  }

  /**
   * What an agent's remediation did (or why not): a note on the process's open incident
   * (STALE_LOG for an unstick, else PROCESS_DIED; the other when that one is not open) and an
   * audit entry by the agent.
   */
  private static void remediation(Tx tx, String agentId, dev.lockstep.proto.v1.Remediation r) {
    String process = StopRules.bound(r.getProcess(), 200);
    String died = Playbook.processDiedSignature(agentId, process);
    String stale = Playbook.staleLogSignature(agentId, StopRules.bound(r.getLogPath(), 1000));
    boolean unstick = r.getAction() == dev.lockstep.proto.v1.Remediation.Action.UNSTICK;
    Optional<String> incident = tx.openIncident(unstick ? stale : died)
        .or(() -> tx.openIncident(unstick ? died : stale));
    String text = StopRules.bound(r.getAction() + " " + r.getOutcome() + " of " + process + ": "
        + r.getReason() + (r.getRemainingHours() > 0 ? "; remaining " + r.getRemainingHours() + " h" : "")
        + (r.getOldPid() > 0 ? "; old pid " + r.getOldPid() : "")
        + (r.getNewPid() > 0 ? "; new pid " + r.getNewPid() : "")
        + (r.getRestartsToday() > 0 ? "; " + r.getRestartsToday() + " restart(s) in 24 h" : "")
        + (r.getDetail().isEmpty() ? "" : "; " + r.getDetail()), 2000);
    incident.ifPresent(id -> IncidentRules.update(tx, id, b -> {
      dropOldestRemediationNote(b);
      return b.addNotes(IncidentNote.newBuilder().setAt(Audits.ts(tx.nowMillis())).setBy("agent:" + agentId)
          .setAction("REMEDIATION").setNote(text));
    }, null));
    Audits.agent(tx, agentId, "Remediation", incident.orElse(agentId),
        r.getOutcome() == dev.lockstep.proto.v1.Remediation.Outcome.FAILED ? "ERROR" : "OK", text);
    tx.effect(new Effect.Progress("agent " + agentId + ": " + text));
  }

  /** Agents' remediation notes an incident keeps (the newest; every one is on the audit log). */
  static final int MAX_REMEDIATION_NOTES = 200;

  /**
   * Makes room for one more agent remediation note, dropping the oldest: an agent restarting a
   * process in a loop added one per event (2 KB each) to its open incident without end, past what
   * a store record holds. Operators' notes are never dropped.
   */
  private static void dropOldestRemediationNote(Incident.Builder b) {
    int count = 0;
    for (int i = 0; i < b.getNotesCount(); i++) {
      if (b.getNotes(i).getAction().equals("REMEDIATION")) count++;
    }
    // down to one less than the bound (an incident stored before the bound may hold more)
    for (int i = 0; i < b.getNotesCount() && count >= MAX_REMEDIATION_NOTES; ) {
      if (b.getNotes(i).getAction().equals("REMEDIATION")) {
        b.removeNotes(i);
        count--;
      } else {
        i++;
      }
    }
  }

  private void golden(Tx tx, String agentId, GoldenReport r) {
    if (r.hasError()) {
      IncidentRules.raise(tx, Playbook.badGolden(agentId, r));
      return;
    }
    // The gateway refuses such reports; one stored before a rule existed is raised, not guessed.
    EventRules.problem(Event.newBuilder().setGolden(r).build()).ifPresent(p -> {
      throw new IllegalArgumentException(p);
    });
    StopRules.reportedWorkflow(tx, agentId, r.getWorkflow());
    RunSummary summary = EventRules.summary(r);
    long modified = r.hasModifiedAt()
        ? r.getModifiedAt().getSeconds() * 1000 + r.getModifiedAt().getNanos() / 1_000_000 : 0;
    Replica replica = new Replica(agentId, r.getRole(), summary, r.getPath(), tx.nowMillis(), modified);
    Optional<RunState> existing = tx.run(r.getRunId());
    if (existing.map(RunState::stepsFolded).orElse(false)) {
      replica = replica.withStepsFolded(); // compared with folded replicas as one of them
    }
    Verdict before = existing.map(RunState::verdict).orElse(Verdict.PENDING);
    correlator.offer(tx, replica, tx.nowMillis()).ifPresent(d -> decided(tx, d, before));
    tx.run(r.getRunId()).ifPresent(s -> boundRun(tx, s));
  }

  /** Keeps a run's state within what its host can store (after it was compared with all steps). */
  private void boundRun(Tx tx, RunState s) {
    if (maxRunBytes == Long.MAX_VALUE) return;
    long bytes = runBytes.applyAsLong(s);
    if (bytes <= maxRunBytes) return;
    RunState folded = s.withStepsFolded();
    long left = runBytes.applyAsLong(folded);
    if (left > maxRunBytes) {
      // the event is raised as one the core could not process (P1), not stored half-done
      throw new IllegalStateException("run " + StopRules.bound(s.runId(), 80) + ": its state is " + left
          + " bytes even with its steps folded, over the " + maxRunBytes + " this collector can store");
    }
    tx.putRun(folded);
    tx.effect(new Effect.Progress("WARNING: run " + StopRules.bound(s.runId(), 80) + ": its state ("
        + bytes + " bytes over " + s.replicas().size() + " replicas) is over the " + maxRunBytes
        + " bytes this collector stores per run; each replica's steps are folded into one summary"
        + " (later replicas are still compared by every step hash; a mismatch then names no single"
        + " first step)"));
  }

  /** Acts on a decision; {@code before} is the run's verdict before it (metrics count runs once). */
  private void decided(Tx tx, Decision d, Verdict before) {
    Optional<RunState> run = tx.run(d.runId());
    if (before == Verdict.PENDING && run.map(s -> s.verdict() != Verdict.PENDING).orElse(false)) {
      long lag = Math.max(0, tx.nowMillis() - run.get().firstSeenMillis());
      tx.effect(new Effect.RunDecided(run.get().verdict().name(), lag, d.hosts(), d.blamedHosts()));
    }
    if (d.verdict() == Verdict.MATCH) return;
    boolean conflict = d.verdict() == Verdict.REPLICA_CONFLICT;
    Playbook.fromDecision(d).ifPresent(r -> {
      IncidentRules.Outcome o = IncidentRules.raise(tx, r);
      tx.run(d.runId()).filter(s -> !conflict || s.incidentId().isEmpty())
          .ifPresent(s -> tx.putRun(s.withIncident(o.incident().getId())));
      tx.requireSync();
      tx.effect(new Effect.Progress("incident " + o.incident().getId() + " "
          + o.change().name().toLowerCase() + ": " + o.incident().getSeverity() + " "
          + o.incident().getTitle() + (d.explanation().isEmpty() ? "" : " — " + d.explanation())));
      mismatchRaised(tx, o, d.hosts());
      boolean mismatch = d.verdict() == Verdict.MISMATCH
          || (conflict && o.incident().getSeverity() == Severity.P0);
      if (o.change() == IncidentRules.Change.OPENED && mismatch) {
        capture(tx, o.incident(), d.hosts(), List.of(d.runId()), true, true);
      }
    });
  }

  /** The stop policy's reflex on a P0: one order, unless an active order covers it already. */
  private void mismatchRaised(Tx tx, IncidentRules.Outcome o, List<String> hosts) {
    Incident inc = o.incident();
    if (inc.getSeverity() != Severity.P0 || config.stopPolicy() == CoreConfig.StopPolicy.OFF) return;
    StopScope scope = switch (config.stopPolicy()) {
      case WORKFLOW -> inc.getWorkflow().isEmpty() ? StopScope.newBuilder().setFleet(true).build()
          : StopScope.newBuilder().setWorkflow(inc.getWorkflow()).build();
      case HOST -> {
        String agent = inc.getBlamedAgentIdsCount() > 0 ? inc.getBlamedAgentIds(0)
            : hosts.isEmpty() ? "" : hosts.get(0);
        yield agent.isEmpty() ? StopScope.newBuilder().setFleet(true).build()
            : StopScope.newBuilder().setAgentId(agent).build();
      }
      default -> StopScope.newBuilder().setFleet(true).build();
    };
    stops.autoStop(tx, scope, inc.getTitle(), inc.getId()).ifPresent(order ->
        IncidentRules.update(tx, inc.getId(), b -> b.setStopOrderId(order.getId()),
            "stop order " + order.getId() + " issued"));
  }

  // ------------------------------------------------------------------ evidence

  private void capture(Tx tx, Incident inc, List<String> hosts, List<String> runIds,
      boolean logs, boolean snapshot) {
    if (hosts.isEmpty()) return;
    long perAgent = Math.max(64 * 1024, config.evidenceBytesPerIncident() / hosts.size());
    for (String h : hosts) {
      byte[] r = new byte[8];
      random.nextBytes(r);
      CaptureRecord c = CaptureRecord.newBuilder()
          .setRequestId("CAP-" + HexFormat.of().formatHex(r)).setAgentId(h)
          .setIncidentId(inc.getId()).addAllRunIds(runIds).setIncludeLogs(logs)
          .setLogTailLines(config.logTailLines()).setIncludeSnapshot(snapshot)
          .setMaxBytes(perAgent).setRequestedAt(Audits.ts(tx.nowMillis())).build();
      tx.putCapture(c);
      tx.effect(new Effect.SendCapture(h, request(c)));
    }
  }

  static CaptureRequest request(CaptureRecord c) {
    return CaptureRequest.newBuilder().setRequestId(c.getRequestId())
        .setIncidentId(c.getIncidentId()).addAllRunIds(c.getRunIdsList())
        .setIncludeLogs(c.getIncludeLogs()).setLogTailLines(c.getLogTailLines())
        .setIncludeSnapshot(c.getIncludeSnapshot()).setMaxBytes(c.getMaxBytes()).build();
  }

  private void evidenceStored(Tx tx, Input.EvidenceStored s) {
    Optional<CaptureRecord> c = tx.capture(s.requestId());
    if (c.isEmpty() || !c.get().getAgentId().equals(s.info().getAgentId())) return;
    String incidentId = c.get().getIncidentId();
    EvidenceInfo info = s.info();
    IncidentRules.update(tx, incidentId, b -> {
      List<EvidenceInfo> list = new ArrayList<>(b.getEvidenceList());
      list.removeIf(x -> x.getAgentId().equals(info.getAgentId()) && x.getName().equals(info.getName()));
      list.add(info);
      return b.clearEvidence().addAllEvidence(list);
    }, null);
    Audits.system(tx, "EvidenceStored", incidentId, info.getAgentId() + " " + info.getName() + " ("
        + info.getKind() + ", " + info.getSizeBytes() + " bytes, " + info.getSha256()
        + (info.getTruncated() ? ", truncated" : "") + ")");
    if ("golden".equals(info.getKind())) tx.effect(new Effect.DiffWanted(incidentId));
  }

  private static void diffComputed(Tx tx, Input.DiffComputed d) {
    Input.DiffResult r = d.diff();
    IncidentRules.update(tx, d.incidentId(), b -> {
      // Keep the correlator's vote text ("majority of N replicas blames ...") after the diff's.
      String previous = b.getExplanation();
      int vote = previous.indexOf("majority of ");
      String explanation = r.explanation() + (vote >= 0 ? " | " + previous.substring(vote) : "");
      if (!r.category().isEmpty()) b.setCategory(r.category());
      if (r.firstStepIndex() >= 0) {
        b.setFirstStepIndex(r.firstStepIndex()).setFirstStepName(r.firstStepName());
      }
      if (!explanation.isEmpty()) b.setExplanation(explanation);
      return b.clearDifferences().addAllDifferences(r.differences());
    }, "golden diff of " + r.roles() + ": " + r.totalDifferences() + " differences");
    tx.effect(new Effect.Progress("incident " + d.incidentId() + ": golden diff stored ("
        + r.totalDifferences() + " differences, category " + r.category() + ")"));
  }

  private static void forget(Tx tx, List<String> ids) {
    for (String id : ids) {
      Optional<Incident> i = tx.incident(id);
      if (i.isEmpty() || i.get().getState() != IncidentState.RESOLVED) continue;
      tx.deleteIncident(id);
      for (CaptureRecord c : tx.capturesOf(id)) tx.deleteCapture(c.getRequestId());
      tx.effect(new Effect.DeleteEvidence(id));
    }
  }
}
