package dev.lockstep.collector.incident;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.lockstep.collector.store.AuditLog;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.IncidentNote;
import dev.lockstep.proto.v1.IncidentState;
import dev.lockstep.proto.v1.Severity;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The incident book. An incident is deduplicated by its signature (kind, category, workflow,
 * first divergent step, paths, plus a discriminator such as host/target): while one with the same
 * signature is not resolved, a repeat raises its count and last-seen instead of opening another.
 * States move open → acknowledged → resolved only by operator action with a note. Every opening,
 * escalation and transition is written to the audit log. Ids read INC-000042.
 *
 * <p>Writes go to the WAL without fsync except operator transitions: an incident is derived from
 * events that were fsync'd before their ack and are re-processed after a crash, and the stop
 * state that a P0 causes is fsync'd right after (which syncs everything written before it). This
 * keeps fsyncs off the path from mismatch to stop fan-out.
 */
public final class Incidents {
  /** What happened, as the playbook names it. {@code discriminator} joins the signature. */
  public record Raise(
      IncidentKind kind,
      Severity severity,
      String category,
      String workflow,
      int stepIndex,
      String stepName,
      List<String> paths,
      List<String> runIds,
      List<String> hosts,
      String blamedHost,
      String title,
      String explanation,
      String discriminator) {
    public Raise {
      paths = List.copyOf(paths);
      runIds = List.copyOf(runIds);
      hosts = List.copyOf(hosts);
      category = category == null ? "" : category;
      workflow = workflow == null ? "" : workflow;
      stepName = stepName == null ? "" : stepName;
      blamedHost = blamedHost == null ? "" : blamedHost;
      explanation = explanation == null ? "" : explanation;
      discriminator = discriminator == null ? "" : discriminator;
    }

    public String signature() {
      return kind.name() + "|" + category + "|" + workflow + "|" + stepIndex + "|"
          + String.join(",", paths) + "|" + discriminator;
    }
  }

  public enum Change { OPENED, REPEATED, ESCALATED, ACKNOWLEDGED, RESOLVED, UPDATED }

  public record Outcome(Incident incident, Change change) {}

  /** An operator asked for something the incident's state does not allow. */
  public static final class TransitionException extends Exception {
    private static final long serialVersionUID = 1L;
    private final boolean notFound;

    TransitionException(String message, boolean notFound) {
      super(message);
      this.notFound = notFound;
    }

    public boolean notFound() {
      return notFound;
    }
  }

  private static final String INC = "inc/";
  private static final String SEQ = "incident_seq";
  private static final int MAX_RUN_IDS = 100;
  private static final int MAX_HOSTS = 100;

  private final Store store;
  private final AuditLog audit;
  private final Clock clock;
  private final Map<String, Incident> byId = new TreeMap<>();
  private final Map<String, String> openBySignature = new HashMap<>();
  private final List<Consumer<Outcome>> listeners = new ArrayList<>();
  private long sequence;

  public Incidents(Store store, AuditLog audit, Clock clock) {
    this.store = store;
    this.audit = audit;
    this.clock = clock;
    sequence = Store.bytesLong(store.get(Store.Family.META, SEQ));
    store.scan(Store.Family.INCIDENTS, INC, (k, v) -> {
      try {
        Incident i = Incident.parseFrom(v);
        byId.put(i.getId(), i);
        if (i.getState() != IncidentState.RESOLVED) openBySignature.put(i.getSignature(), i.getId());
      } catch (InvalidProtocolBufferException e) {
        // unreadable row: skip
      }
      return true;
    });
  }

  public synchronized void onChange(Consumer<Outcome> listener) {
    listeners.add(listener);
  }

  /** Opens an incident or counts a repeat of an unresolved one with the same signature. */
  public Outcome raise(Raise r) {
    Outcome out;
    synchronized (this) {
      Instant now = clock.instant();
      String existingId = openBySignature.get(r.signature());
      if (existingId != null) {
        Incident prev = byId.get(existingId);
        Incident.Builder b = prev.toBuilder().setCount(prev.getCount() + 1).setLastSeen(ts(now));
        mergeLists(b, prev, r);
        boolean escalate = r.severity().getNumber() < prev.getSeverity().getNumber();
        if (escalate) {
          b.setSeverity(r.severity()).setTitle(r.title());
        }
        Incident next = b.build();
        save(next, escalate);
        if (escalate) {
          audit.append("collector", "system", "incident.escalate", next.getId(), "", "OK",
              prev.getSeverity() + " -> " + r.severity() + ": " + r.title());
        }
        out = new Outcome(next, escalate ? Change.ESCALATED : Change.REPEATED);
      } else {
        sequence++;
        String id = String.format("INC-%06d", sequence);
        Incident next = Incident.newBuilder()
            .setId(id).setKind(r.kind()).setSeverity(r.severity()).setState(IncidentState.OPEN)
            .setSignature(r.signature()).setTitle(r.title()).setCategory(r.category())
            .setWorkflow(r.workflow()).addAllRunIds(r.runIds()).addAllHosts(r.hosts())
            .setFirstStepIndex(r.stepIndex()).setFirstStepName(r.stepName())
            .setBlamedHost(r.blamedHost()).setCount(1).setFirstSeen(ts(now)).setLastSeen(ts(now))
            .setExplanation(r.explanation()).build();
        try (Store.Batch batch = store.batch()) {
          batch.put(Store.Family.META, SEQ, Store.longBytes(sequence))
              .put(Store.Family.INCIDENTS, INC + id, next.toByteArray()).commit(false);
        }
        byId.put(id, next);
        openBySignature.put(next.getSignature(), id);
        audit.append("collector", "system", "incident.open", id, "", "OK",
            r.severity() + " " + r.kind() + ": " + r.title());
        out = new Outcome(next, Change.OPENED);
      }
    }
    notifyListeners(out);
    return out;
  }

  private static void mergeLists(Incident.Builder b, Incident prev, Raise r) {
    Set<String> runs = new LinkedHashSet<>(prev.getRunIdsList());
    for (String id : r.runIds()) {
      if (runs.size() >= MAX_RUN_IDS) break;
      runs.add(id);
    }
    Set<String> hosts = new LinkedHashSet<>(prev.getHostsList());
    for (String h : r.hosts()) {
      if (hosts.size() >= MAX_HOSTS) break;
      hosts.add(h);
    }
    b.clearRunIds().addAllRunIds(runs).clearHosts().addAllHosts(hosts);
  }

  public Incident acknowledge(String id, String note, String who, String remote)
      throws TransitionException {
    return transition(id, IncidentState.ACKNOWLEDGED, note, who, remote);
  }

  public Incident resolve(String id, String note, String who, String remote)
      throws TransitionException {
    return transition(id, IncidentState.RESOLVED, note, who, remote);
  }

  private Incident transition(String id, IncidentState to, String note, String who, String remote)
      throws TransitionException {
    Outcome out;
    synchronized (this) {
      Incident prev = byId.get(id);
      if (prev == null) throw new TransitionException("no incident " + id, true);
      if (prev.getState() == IncidentState.RESOLVED) {
        throw new TransitionException("incident " + id + " is already resolved", false);
      }
      if (prev.getState() == to) {
        throw new TransitionException("incident " + id + " is already " + to, false);
      }
      Instant now = clock.instant();
      Incident next = prev.toBuilder().setState(to).addNotes(IncidentNote.newBuilder()
          .setAt(ts(now)).setBy(who).setAction(to.name()).setNote(note)).build();
      store.put(Store.Family.INCIDENTS, INC + id, next.toByteArray(), true);
      byId.put(id, next);
      if (to == IncidentState.RESOLVED) openBySignature.remove(next.getSignature(), id);
      out = new Outcome(next, to == IncidentState.RESOLVED ? Change.RESOLVED : Change.ACKNOWLEDGED);
    }
    notifyListeners(out);
    return out.incident();
  }

  /** Changes an incident's details (evidence, diff refinement, stop epoch). */
  public Optional<Incident> update(String id, UnaryOperator<Incident.Builder> change, String why) {
    Outcome out;
    synchronized (this) {
      Incident prev = byId.get(id);
      if (prev == null) return Optional.empty();
      Incident next = change.apply(prev.toBuilder()).build();
      if (next.equals(prev)) return Optional.of(prev);
      store.put(Store.Family.INCIDENTS, INC + id, next.toByteArray(), false);
      byId.put(id, next);
      if (why != null) audit.append("collector", "system", "incident.update", id, "", "OK", why);
      out = new Outcome(next, Change.UPDATED);
    }
    notifyListeners(out);
    return Optional.of(out.incident());
  }

  public synchronized Optional<Incident> get(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  /** Every incident, newest first. */
  public synchronized List<Incident> all() {
    List<Incident> out = new ArrayList<>(byId.values());
    out.sort(Comparator.comparing(Incident::getId).reversed());
    return out;
  }

  /** run_ids of incidents that are not resolved (what agents must keep: pins). */
  public synchronized Set<String> openRunIds() {
    Set<String> out = new java.util.TreeSet<>();
    for (Incident i : byId.values()) {
      if (i.getState() != IncidentState.RESOLVED) out.addAll(i.getRunIdsList());
    }
    return out;
  }

  /** Counts by [severity, state]. */
  public synchronized Map<List<String>, Long> counts() {
    Map<List<String>, Long> out = new HashMap<>();
    for (Incident i : byId.values()) {
      out.merge(List.of(i.getSeverity().name(), i.getState().name()), 1L, Long::sum);
    }
    return out;
  }

  /** Deletes resolved incidents last seen before {@code cutoff}; returns their ids. */
  public synchronized List<String> deleteResolvedBefore(Instant cutoff) {
    List<String> gone = new ArrayList<>();
    for (Incident i : List.copyOf(byId.values())) {
      if (i.getState() == IncidentState.RESOLVED && i.getLastSeen().getSeconds() < cutoff.getEpochSecond()) {
        store.delete(Store.Family.INCIDENTS, INC + i.getId());
        byId.remove(i.getId());
        gone.add(i.getId());
      }
    }
    return gone;
  }

  private void save(Incident next, boolean sync) {
    store.put(Store.Family.INCIDENTS, INC + next.getId(), next.toByteArray(), sync);
    byId.put(next.getId(), next);
  }

  private void notifyListeners(Outcome out) {
    List<Consumer<Outcome>> ls;
    synchronized (this) {
      ls = List.copyOf(listeners);
    }
    for (Consumer<Outcome> l : ls) l.accept(out);
  }

  static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }
}
