package dev.lockstep.collector.host;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import dev.lockstep.collector.alert.Alerts;
import dev.lockstep.collector.core.Change;
import dev.lockstep.collector.correlate.HostStats;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.collector.incident.Incidents;
import dev.lockstep.collector.store.AuditLog;
import dev.lockstep.collector.store.RocksRunStateStore;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.store.v1.CaptureRecord;
import dev.lockstep.proto.store.v1.ResumedOrder;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.StopOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The core's committed state in embedded mode: RocksDB column families plus in-memory indexes
 * loaded at start-up. {@link #commit} writes every change of a transaction in ONE WriteBatch
 * (fsync'd when the transaction asks for it) and only then updates the indexes, so what readers
 * see has always been written. Only the core thread commits; readers on other threads see each
 * index change whole ({@link #snapshot} for several indexes at once).
 */
public final class StoreState extends CoreIndex {
  private static final String ORDER = "order/";
  private static final String RESUMED = "resumed/";
  private static final String AGENT = "agent/";
  private static final String CAPTURE = "capture/";
  private static final String PROCESSED = "processed/";
  private static final String COUNTER = "counter/";

  private final Store store;
  private final RocksRunStateStore runs;
  private final Incidents incidents;
  private final AuditLog audit;
  private volatile Alerts alerts;
  private final java.util.ArrayDeque<Held> held = new java.util.ArrayDeque<>();
  private volatile dev.lockstep.collector.store.StoreSpace space;

  public StoreState(Store store, RocksRunStateStore runs, Incidents incidents, AuditLog audit) {
    this.store = store;
    this.runs = runs;
    this.incidents = incidents;
    this.audit = audit;
    load(Store.Family.STOP, ORDER, StopOrder::parseFrom, o -> index(new Change.PutOrder(o)));
    load(Store.Family.STOP, RESUMED, ResumedOrder::parseFrom,
        r -> index(new Change.ResumeOrder(r)));
    load(Store.Family.STOP, AGENT, AgentStopRecord::parseFrom,
        r -> index(new Change.PutAgentStop(r)));
    load(Store.Family.EVIDENCE, CAPTURE, CaptureRecord::parseFrom,
        c -> index(new Change.PutCapture(c)));
    // key: "<LANE>/<agent>"
    store.scan(Store.Family.META, PROCESSED, (k, v) -> {
      String rest = new String(k, StandardCharsets.UTF_8).substring(PROCESSED.length());
      int slash = rest.indexOf('/');
      index(new Change.Processed(rest.substring(slash + 1),
          dev.lockstep.collector.core.Lane.valueOf(rest.substring(0, slash)), Store.bytesLong(v)));
      return true;
    });
    store.scan(Store.Family.META, COUNTER, (k, v) -> {
      index(new Change.PutCounter(new String(k, StandardCharsets.UTF_8)
          .substring(COUNTER.length()), Store.bytesLong(v)));
      return true;
    });
  }

  private interface Parser<T> {
    T parse(byte[] b) throws InvalidProtocolBufferException;
  }

  private <T> void load(Store.Family f, String prefix, Parser<T> parser,
      java.util.function.Consumer<T> sink) {
    store.scan(f, prefix, (k, v) -> {
      try {
        sink.accept(parser.parse(v));
      } catch (InvalidProtocolBufferException e) {
        throw new Store.StoreException("unreadable record " + new String(k, StandardCharsets.UTF_8)
            + " in " + f + ": " + e.getMessage(), e);
      }
      return true;
    });
  }

  private HeldJournal journal;

  /**
   * Keeps the stop orders of held transactions in {@code file} from now on (see {@link
   * HeldJournal}), after committing those a previous run left there. Returns how many changes were
   * read back. Call once, at start-up, before the core runs.
   */
  public int journal(java.nio.file.Path file, Instant now) throws java.io.IOException {
    HeldJournal j = HeldJournal.open(file);
    if (j == null) return 0;
    List<Change> back = new ArrayList<>();
    for (Change c : j.read()) {
      // an order resumed since stays resumed; a counter never goes back
      if (c instanceof Change.PutOrder o && resumedOrder(o.order().getId()).isPresent()) continue;
      if (c instanceof Change.PutCounter k && k.value() <= counter(k.name())) continue;
      // committed by the run that wrote it, which then could not zero the journal: not twice
      if (c instanceof Change.Audit a && audit.contains(a.entry())) continue;
      back.add(c);
    }
    if (back.isEmpty() || commit(back, true, now) == Committed.WRITTEN) j.clear();
    synchronized (held) {
      journal = j;
    }
    return back.size();
  }

  /** Closes the journal (its owner). */
  public void closeJournal() {
    synchronized (held) {
      if (journal != null) journal.close();
      journal = null;
    }
  }

  /** Where write failures are reported (set once the space monitor exists). */
  public void space(dev.lockstep.collector.store.StoreSpace s) {
    this.space = s;
  }

  /** Where staged alerts go (set once the alert worker exists). */
  public void alerts(Alerts a) {
    this.alerts = a;
  }

  // ------------------------------------------------------------------ commit

  /** What became of a commit. */
  public enum Committed {
    /** Written to the store (fsync'd when asked). */
    WRITTEN,
    /** The store refused the write: applied in memory, written later in order (see below). */
    HELD
  }

  /**
   * Writes {@code changes} atomically (one WriteBatch, fsync'd when {@code sync}), then updates
   * the indexes. When the store refuses the write (full disk, read-only after an error), the
   * changes are applied in memory and HELD: kept in order and written by {@link #flushHeld} once
   * the store takes writes again; later commits queue behind them so the store never sees them out
   * of order. Held changes are lost if the process dies meanwhile, except stop orders (and their
   * resumes, counters and audit entries), which the {@link HeldJournal} keeps on space allocated in advance and
   * the next start commits; everything else they record is re-derived: events from the store
   * (replayed from the processed marks), acks from the agents' next acks.
   */
  public Committed commit(List<Change> changes, boolean sync, Instant now) {
    List<Alerts.Staged> staged = new ArrayList<>();
    boolean wasHeld = false;
    synchronized (held) {
      if (held.isEmpty()) {
        try (Store.Batch b = store.batch()) {
          for (Change c : changes) stage(b, c, staged, now);
          try {
            b.commit(sync);
          } catch (Store.StoreException e) {
            failed(e);
            staged.clear();
            wasHeld = true;
          }
        }
      } else {
        wasHeld = true;
      }
      if (wasHeld) {
        held.add(new Held(changes, sync, now));
        // before the effects (the stop frames): the orders outlive a restart meanwhile
        if (journal != null) journal.append(changes);
      }
    }
    synchronized (this) {
      for (Change c : changes) apply(c);
    }
    Alerts a = alerts;
    if (a != null && !staged.isEmpty()) a.installed(staged);
    return wasHeld ? Committed.HELD : Committed.WRITTEN;
  }

  private void failed(Store.StoreException e) {
    dev.lockstep.collector.store.StoreSpace sp = space;
    if (sp != null) sp.writeFailed(e);
  }

  private record Held(List<Change> changes, boolean sync, Instant at) {}

  /** Writes held changes in order while the store takes them. Returns how many are left. */
  public int flushHeld() {
    List<Alerts.Staged> installed = new ArrayList<>();
    synchronized (held) {
      while (!held.isEmpty()) {
        Held h = held.peek();
        List<Alerts.Staged> staged = new ArrayList<>();
        try (Store.Batch b = store.batch()) {
          for (Change c : h.changes()) stage(b, c, staged, h.at());
          b.commit(h.sync());
        } catch (Store.StoreException e) {
          failed(e);
          break;
        }
        held.poll();
        installed.addAll(staged);
      }
      if (held.isEmpty() && journal != null) journal.clear();
      Alerts a = alerts;
      if (a != null && !installed.isEmpty()) a.installed(installed);
      return held.size();
    }
  }

  /** Transactions held in memory because the store refused them. */
  public int heldCount() {
    synchronized (held) {
      return held.size();
    }
  }

  /** Encodes {@code changes} into a batch that is then dropped (start-up warm-up; writes nothing). */
  public void encodeOnly(List<Change> changes, Instant now) {
    try (Store.Batch b = store.batch()) {
      for (Change c : changes) {
        if (!(c instanceof Change.Alert)) stage(b, c, new ArrayList<>(), now);
      }
    }
  }

  private void stage(Store.Batch b, Change c, List<Alerts.Staged> staged, Instant now) {
    if (c instanceof Change.PutRun r) {
      runs.stage(b, r.run());
    } else if (c instanceof Change.PutHostStats h) {
      runs.stage(b, h.stats());
    } else if (c instanceof Change.PutIncident i) {
      b.put(Store.Family.INCIDENTS, Incidents.key(i.incident().getId()), bytes(i.incident()));
    } else if (c instanceof Change.DeleteIncident d) {
      b.delete(Store.Family.INCIDENTS, Incidents.key(d.id()));
    } else if (c instanceof Change.PutCounter k) {
      b.put(Store.Family.META, COUNTER + k.name(), Store.longBytes(k.value()));
    } else if (c instanceof Change.PutOrder o) {
      b.put(Store.Family.STOP, ORDER + o.order().getId(), bytes(o.order()));
    } else if (c instanceof Change.ResumeOrder r) {
      b.delete(Store.Family.STOP, ORDER + r.resumed().getOrder().getId());
      b.put(Store.Family.STOP, RESUMED + r.resumed().getOrder().getId(), bytes(r.resumed()));
    } else if (c instanceof Change.DeleteResumedOrder d) {
      b.delete(Store.Family.STOP, RESUMED + d.id());
    } else if (c instanceof Change.PutAgentStop a) {
      b.put(Store.Family.STOP, AGENT + a.record().getAgentId(), bytes(a.record()));
    } else if (c instanceof Change.PutCapture p) {
      b.put(Store.Family.EVIDENCE, CAPTURE + p.capture().getRequestId(), bytes(p.capture()));
    } else if (c instanceof Change.DeleteCapture d) {
      b.delete(Store.Family.EVIDENCE, CAPTURE + d.requestId());
    } else if (c instanceof Change.Processed p) {
      b.put(Store.Family.META, PROCESSED + p.lane() + "/" + p.agentId(), Store.longBytes(p.seq()));
    } else if (c instanceof Change.Audit a) {
      audit.stage(b, a.entry());
    } else if (c instanceof Change.Alert a) {
      Alerts al = alerts;
      if (al != null) staged.addAll(al.stage(b, a.incident(), a.event(), now));
    } else {
      throw new IllegalArgumentException("unknown change " + c);
    }
  }

  private void apply(Change c) {
    if (c instanceof Change.PutRun r) {
      runs.applied(r.run());
    } else if (c instanceof Change.PutHostStats h) {
      runs.applied(h.stats());
    } else if (c instanceof Change.PutIncident i) {
      incidents.applied(i.incident());
    } else if (c instanceof Change.DeleteIncident d) {
      incidents.deleted(d.id());
    } else {
      index(c);
    }
  }

  private static byte[] bytes(MessageLite m) {
    return m.toByteArray();
  }

  /** Runs {@code read} while no commit updates the indexes (a consistent view of several). */
  public synchronized <T> T snapshot(Function<StoreState, T> read) {
    return read.apply(this);
  }

  // ------------------------------------------------------------------ CoreState

  @Override
  public Optional<RunState> run(String runId) {
    return runs.get(runId);
  }

  @Override
  public Collection<RunState> pendingRuns() {
    return runs.pending();
  }

  @Override
  public HostStats hostStats(String host) {
    return runs.hostStats(host);
  }

  @Override
  public Collection<HostStats> allHostStats() {
    return runs.allHostStats();
  }

  @Override
  public Optional<Incident> incident(String id) {
    return incidents.get(id);
  }

  @Override
  public Optional<String> openIncident(String signature) {
    return incidents.openBySignature(signature);
  }

  @Override
  public Collection<Incident> openIncidents() {
    return incidents.open();
  }

  public Incidents incidents() {
    return incidents;
  }

  public RocksRunStateStore runs() {
    return runs;
  }
}
