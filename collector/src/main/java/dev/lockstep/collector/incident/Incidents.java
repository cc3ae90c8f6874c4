package dev.lockstep.collector.incident;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentState;
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
import java.util.TreeSet;

/**
 * The incident book as operators and the core read it: every stored incident by id, and the
 * unresolved one per dedupe signature. Loaded from the INCIDENTS column family at start-up and
 * updated by the host after each committed transaction (the rules live in core.IncidentRules).
 * Thread-safe.
 */
public final class Incidents {
  static final String INC = "inc/";

  private final Map<String, Incident> byId = new TreeMap<>();
  private final Map<String, String> openBySignature = new HashMap<>();

  public Incidents(Store store) {
    store.scan(Store.Family.INCIDENTS, INC, (k, v) -> {
      try {
        applied(Incident.parseFrom(v));
      } catch (InvalidProtocolBufferException e) {
        // unreadable row: skip
      }
      return true;
    });
  }

  /** The store key of an incident. */
  public static String key(String id) {
    return INC + id;
  }

  /** A committed write of {@code i}. */
  public synchronized void applied(Incident i) {
    Incident prev = byId.put(i.getId(), i);
    if (prev != null) openBySignature.remove(prev.getSignature(), prev.getId());
    if (i.getState() != IncidentState.RESOLVED) openBySignature.put(i.getSignature(), i.getId());
  }

  /** A committed delete. */
  public synchronized void deleted(String id) {
    Incident prev = byId.remove(id);
    if (prev != null) openBySignature.remove(prev.getSignature(), id);
  }

  public synchronized Optional<Incident> get(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  public synchronized Optional<String> openBySignature(String signature) {
    return Optional.ofNullable(openBySignature.get(signature));
  }

  /** Every incident, newest first. */
  public synchronized List<Incident> all() {
    List<Incident> out = new ArrayList<>(byId.values());
    out.sort(Comparator.comparing(Incident::getId).reversed());
    return out;
  }

  /** Every unresolved incident, by id. */
  public synchronized List<Incident> open() {
    List<Incident> out = new ArrayList<>();
    for (String id : new TreeSet<>(openBySignature.values())) out.add(byId.get(id));
    return out;
  }

  /**
   * run_ids of incidents that are not resolved (what agents must keep: pins), newest first: by
   * the incident last seen, and within one the run added last (Pins keeps the newest when they
   * do not all fit in one frame).
   */
  public synchronized Set<String> openRunIds() {
    List<Incident> open = new ArrayList<>();
    for (String id : openBySignature.values()) open.add(byId.get(id));
    open.sort(Comparator.comparing((Incident i) -> i.getLastSeen().getSeconds())
        .thenComparing(i -> i.getLastSeen().getNanos()).thenComparing(Incident::getId).reversed());
    Set<String> out = new LinkedHashSet<>();
    for (Incident i : open) {
      List<String> runs = i.getRunIdsList();
      for (int r = runs.size() - 1; r >= 0; r--) out.add(runs.get(r));
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

  /** Resolved incidents last seen before {@code cutoff} (what retention may forget). */
  public synchronized List<String> resolvedBefore(Instant cutoff) {
    List<String> out = new ArrayList<>();
    for (Incident i : byId.values()) {
      if (i.getState() == IncidentState.RESOLVED
          && i.getLastSeen().getSeconds() < cutoff.getEpochSecond()) {
        out.add(i.getId());
      }
    }
    return out;
  }
}
