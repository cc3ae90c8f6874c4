package dev.lockstep.collector.core;

import com.google.protobuf.Timestamp;
import dev.lockstep.collector.incident.Raise;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentNote;
import dev.lockstep.proto.v1.IncidentState;
import dev.lockstep.proto.v1.Severity;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The incident book's rules. An incident is deduplicated by its signature: while one with the
 * same signature is not resolved, a repeat raises its count and last-seen instead of opening
 * another; a repeat at a higher severity escalates it. States move open → acknowledged → resolved
 * only by operator action with a note. Every opening, escalation and transition is audited and
 * alerted in the same transaction. Ids read INC-000042.
 */
public final class IncidentRules {
  /** How an incident changed. */
  public enum Change { OPENED, REPEATED, ESCALATED, ACKNOWLEDGED, RESOLVED, UPDATED }

  /** An incident after a raise and how it changed. */
  public record Outcome(Incident incident, Change change) {}

  static final String SEQ = "incident_seq";
  private static final int MAX_RUN_IDS = 100;
  private static final int MAX_HOSTS = 100;

  private IncidentRules() {}

  /** Opens an incident or counts a repeat of an unresolved one with the same signature. */
  public static Outcome raise(Tx tx, Raise r) {
    Timestamp now = Audits.ts(tx.nowMillis());
    Optional<String> existing = tx.openIncident(r.signature());
    if (existing.isPresent()) {
      Incident prev = tx.incident(existing.get()).orElseThrow();
      Incident.Builder b = prev.toBuilder().setCount(prev.getCount() + 1).setLastSeen(now);
      mergeLists(b, prev, r);
      boolean escalate = r.severity().getNumber() < prev.getSeverity().getNumber()
          && r.severity() != Severity.SEVERITY_UNSPECIFIED;
      if (escalate) b.setSeverity(r.severity()).setTitle(r.title());
      Incident next = b.build();
      tx.putIncident(next);
      if (escalate) {
        tx.requireSync();
        Audits.system(tx, "incident.escalate", next.getId(),
            prev.getSeverity() + " -> " + r.severity() + ": " + r.title());
        tx.append(new dev.lockstep.collector.core.Change.Alert(next, "escalated"));
      }
      Outcome o = new Outcome(next, escalate ? Change.ESCALATED : Change.REPEATED);
      tx.effect(new Effect.IncidentChanged(next, o.change()));
      // a repeat that adds a run needs its files kept, as an opening does
      if (next.getRunIdsCount() > prev.getRunIdsCount()) tx.effect(new Effect.PinsChanged());
      return o;
    }
    long seq = tx.counter(SEQ) + 1;
    tx.putCounter(SEQ, seq);
    String id = String.format("INC-%06d", seq);
    Incident next = Incident.newBuilder()
        .setId(id).setKind(r.kind()).setSeverity(r.severity()).setState(IncidentState.OPEN)
        .setSignature(r.signature()).setTitle(r.title()).setCategory(r.category())
        .setWorkflow(r.workflow()).addAllRunIds(r.runIds()).addAllAgentIds(r.hosts())
        .setFirstStepIndex(r.stepIndex()).setFirstStepName(r.stepName())
        .addAllBlamedAgentIds(r.blamedHost().isEmpty() ? java.util.List.of()
            : java.util.List.of(r.blamedHost().split(","))).setCount(1).setFirstSeen(now).setLastSeen(now)
        .setExplanation(r.explanation()).build();
    tx.putIncident(next);
    tx.requireSync();
    Audits.system(tx, "incident.open", id, r.severity() + " " + r.kind() + ": " + r.title());
    tx.append(new dev.lockstep.collector.core.Change.Alert(next, "opened"));
    tx.effect(new Effect.IncidentChanged(next, Change.OPENED));
    if (!r.runIds().isEmpty()) tx.effect(new Effect.PinsChanged());
    return new Outcome(next, Change.OPENED);
  }

  private static void mergeLists(Incident.Builder b, Incident prev, Raise r) {
    Set<String> runs = new LinkedHashSet<>(prev.getRunIdsList());
    for (String id : r.runIds()) {
      if (runs.size() >= MAX_RUN_IDS) break;
      runs.add(id);
    }
    Set<String> hosts = new LinkedHashSet<>(prev.getAgentIdsList());
    for (String h : r.hosts()) {
      if (hosts.size() >= MAX_HOSTS) break;
      hosts.add(h);
    }
    b.clearRunIds().addAllRunIds(runs).clearAgentIds().addAllAgentIds(hosts);
  }

  /**
   * Characters an operator's note may have. Notes are kept with the incident for as long as it is
   * and written to the audit log: an unbounded one (a log pasted into the console, up to the 8 MiB
   * transport limit) made every incident list, watch stream and alert that carries the incident
   * too large for the CLI to read, and in cluster mode an incident record over Kafka's limit.
   */
  public static final int MAX_NOTE = 4000;

  /** Refuses a blank note, or one over {@link #MAX_NOTE} characters. */
  public static void requireNote(String note) {
    if (note == null || note.isBlank()) {
      throw new Refusal(Refusal.Code.INVALID_ARGUMENT, "a note is required: what was found or done");
    }
    if (note.length() > MAX_NOTE) {
      throw new Refusal(Refusal.Code.INVALID_ARGUMENT, "the note is " + note.length()
          + " characters; at most " + MAX_NOTE + " (attach long output as evidence, not as a note)");
    }
  }

  /** An operator moves an incident on; refused when the state does not allow it. */
  static Incident transition(Tx tx, Input.IncidentAction a) {
    requireNote(a.note());
    Incident prev = tx.incident(a.incidentId())
        .orElseThrow(() -> new Refusal(Refusal.Code.NOT_FOUND, "no incident " + a.incidentId()));
    IncidentState to = a.resolve() ? IncidentState.RESOLVED : IncidentState.ACKNOWLEDGED;
    if (prev.getState() == IncidentState.RESOLVED) {
      throw new Refusal(Refusal.Code.FAILED_PRECONDITION,
          "incident " + a.incidentId() + " is already resolved");
    }
    if (prev.getState() == to) {
      throw new Refusal(Refusal.Code.FAILED_PRECONDITION,
          "incident " + a.incidentId() + " is already " + to);
    }
    Incident next = prev.toBuilder().setState(to).addNotes(IncidentNote.newBuilder()
        .setAt(Audits.ts(tx.nowMillis())).setBy(a.who()).setAction(to.name()).setNote(a.note()))
        .build();
    tx.putIncident(next);
    tx.requireSync();
    Audits.operator(tx, a.who(), a.role(), a.remote(),
        a.resolve() ? "ResolveIncident" : "AckIncident", a.incidentId(), a.note());
    Change change = a.resolve() ? Change.RESOLVED : Change.ACKNOWLEDGED;
    if (a.resolve()) {
      tx.append(new dev.lockstep.collector.core.Change.Alert(next, "resolved"));
      tx.effect(new Effect.PinsChanged());
    }
    tx.effect(new Effect.IncidentChanged(next, change));
    return next;
  }

  /** The collector resolves an incident it opened about itself (the condition went away). */
  static Optional<Incident> resolveAutomatically(Tx tx, String id, String note) {
    Optional<Incident> prev = tx.incident(id);
    if (prev.isEmpty() || prev.get().getState() == IncidentState.RESOLVED) return Optional.empty();
    Incident next = prev.get().toBuilder().setState(IncidentState.RESOLVED).addNotes(IncidentNote
        .newBuilder().setAt(Audits.ts(tx.nowMillis())).setBy("collector").setAction("RESOLVED")
        .setNote(note)).build();
    tx.putIncident(next);
    tx.requireSync();
    Audits.system(tx, "incident.resolve", id, note);
    tx.append(new dev.lockstep.collector.core.Change.Alert(next, "resolved"));
    tx.effect(new Effect.IncidentChanged(next, Change.RESOLVED));
    return Optional.of(next);
  }

  /** Changes an incident's details (evidence, diff refinement, stop order). */
  static Optional<Incident> update(Tx tx, String id, UnaryOperator<Incident.Builder> change,
      String why) {
    Optional<Incident> prev = tx.incident(id);
    if (prev.isEmpty()) return Optional.empty();
    Incident next = change.apply(prev.get().toBuilder()).build();
    if (next.equals(prev.get())) return prev;
    tx.putIncident(next);
    if (why != null) Audits.system(tx, "incident.update", id, why);
    tx.effect(new Effect.IncidentChanged(next, Change.UPDATED));
    return Optional.of(next);
  }
}
