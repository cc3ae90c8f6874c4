package dev.lockstep.collector;

import com.google.protobuf.Timestamp;
import dev.lockstep.collector.alert.Alerts;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.core.Refusal;
import dev.lockstep.collector.correlate.Verdict;
import dev.lockstep.collector.evidence.EvidenceStore;
import dev.lockstep.collector.fleet.AgentDirectory;
import dev.lockstep.collector.gateway.AgentGateway;
import dev.lockstep.collector.gateway.AgentSession;
import dev.lockstep.collector.host.CoreDoor;
import dev.lockstep.collector.host.StoreState;
import dev.lockstep.collector.incident.Incidents;
import dev.lockstep.collector.operator.WatchHub;
import dev.lockstep.collector.store.AuditLog;
import dev.lockstep.collector.store.RocksRunStateStore;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.v1.AgentInfo;
import dev.lockstep.proto.v1.AgentStopStatus;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.StopCommand;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.WatchEvent;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * The collector as operators see it: read models (incidents, runs, stop orders and every agent's
 * desired state and ack, agents, evidence, audit) and the way in for actions, which become core
 * inputs. Also the periodic chores that are not decisions (resend, retention, alert refresh);
 * none of them runs on the core thread except the resend, which only reads.
 */
public final class Fleet {
  private final CollectorConfig config;
  private final Clock clock;
  private final CoreDoor host;
  private final StoreState state;
  private final Store store;
  private final AgentDirectory agents;
  private final EvidenceStore evidence;
  private final AuditLog audit;
  private final WatchHub watch;
  private volatile AgentGateway gateway;
  private volatile Alerts alerts;
  private volatile dev.lockstep.collector.store.StoreSpace space;
  private volatile Cluster cluster;

  /** Cluster mode: where the fleet's other collectors and their agents are. */
  public interface Cluster {
    /** The collector holding the agent's stream now, if one does. */
    Optional<String> holder(String agentId);

    /** Every agent some collector holds now, with that collector. */
    java.util.Map<String, String> connectedAgents();

    /** The agent's highest acked seq as this collector knows it. */
    long ackedSeq(String agentId);

    /** The collectors, their agents and Kafka lag, as operators see them. */
    dev.lockstep.proto.v1.ClusterStatus status();
  }

  Fleet(CollectorConfig config, Clock clock, CoreDoor host, StoreState state, Store store,
      AgentDirectory agents, EvidenceStore evidence, AuditLog audit, WatchHub watch) {
    this.config = config;
    this.clock = clock;
    this.host = host;
    this.state = state;
    this.store = store;
    this.agents = agents;
    this.evidence = evidence;
    this.audit = audit;
    this.watch = watch;
  }

  void attach(AgentGateway gateway, Alerts alerts) {
    this.gateway = gateway;
    this.alerts = alerts;
  }

  void space(dev.lockstep.collector.store.StoreSpace s) {
    this.space = s;
  }

  void cluster(Cluster c) {
    this.cluster = c;
  }

  /** The cluster view, when this collector runs in cluster mode. */
  public Optional<dev.lockstep.proto.v1.ClusterStatus> clusterStatus() {
    Cluster c = cluster;
    return c == null ? Optional.empty() : Optional.of(c.status());
  }

  /** The collector's own store: state and free space. */
  public dev.lockstep.proto.v1.StoreHealth storeHealth() {
    var sp = space;
    if (sp == null) return dev.lockstep.proto.v1.StoreHealth.newBuilder().setState("OK").build();
    var h = sp.health();
    return dev.lockstep.proto.v1.StoreHealth.newBuilder().setState(h.state().name())
        .setFreeBytes(Math.min(h.freeBytes(), Long.MAX_VALUE / 2)).setHighWatermarkBytes(h.highBytes())
        .setFloodWatermarkBytes(h.floodBytes()).setPendingWrites(state.heldCount())
        .setDetail(h.detail()).build();
  }

  // ------------------------------------------------------------------ reads

  public CollectorConfig config() {
    return config;
  }

  public Incidents incidents() {
    return state.incidents();
  }

  public RocksRunStateStore runs() {
    return state.runs();
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
    if (g != null && g.session(agentId).map(AgentSession::isOpen).orElse(false)) return true;
    Cluster c = cluster;
    return c != null && c.holder(agentId).isPresent();
  }

  public int connectedCount() {
    AgentGateway g = gateway;
    return g == null ? 0 : g.connected();
  }

  public Optional<AgentSession> session(String agentId) {
    AgentGateway g = gateway;
    return g == null ? Optional.empty() : g.session(agentId);
  }

  /** Active stop orders, in id order. */
  public List<StopOrder> orders() {
    return List.copyOf(state.activeOrders());
  }

  /** One agent's stop record (desired state, held orders, last matching ack). */
  public Optional<AgentStopRecord> stopRecord(String agentId) {
    return state.agentStop(agentId);
  }

  /** The active orders and every agent's desired state and ack, as one consistent view. */
  public StopStatus stopStatus() {
    return state.snapshot(s -> status(s.activeOrders(), s.agentStops(), this::connected));
  }

  /** Builds a StopStatus: per agent CONFIRMED, FAILED, PENDING or OFFLINE against its desired state. */
  static StopStatus status(Collection<StopOrder> orders, Collection<AgentStopRecord> records,
      Predicate<String> connected) {
    StopStatus.Builder b = StopStatus.newBuilder().addAllOrders(orders);
    int covered = 0, confirmed = 0, failed = 0, pending = 0, offline = 0;
    for (AgentStopRecord r : records) {
      AgentStopStatus row = row(r, connected.test(r.getAgentId()));
      if (row.getMode() == StopMode.STOPPED) covered++;
      switch (row.getStatus()) {
        case "CONFIRMED" -> confirmed++;
        case "FAILED" -> failed++;
        case "PENDING" -> pending++;
        default -> offline++;
      }
      b.addAgents(row);
    }
    return b.setCovered(covered).setConfirmed(confirmed).setFailed(failed).setPending(pending)
        .setOffline(offline).build();
  }

  static AgentStopStatus row(AgentStopRecord r, boolean connected) {
    var d = r.getDesired();
    var ack = r.getAck();
    boolean matches = r.hasAck() && ack.getGeneration() == d.getGeneration()
        && ack.getMode() == d.getMode();
    String status = matches ? (ack.getEnacted() && ack.getVerified() ? "CONFIRMED" : "FAILED")
        : connected ? "PENDING" : "OFFLINE";
    AgentStopStatus.Builder row = AgentStopStatus.newBuilder().setAgentId(r.getAgentId())
        .setStatus(status).setGeneration(d.getGeneration()).setMode(d.getMode())
        .addAllOrderIds(d.getOrdersList().stream().map(StopOrder::getId).toList())
        .setChangedAt(d.getChangedAt()).setConnected(connected);
    if (r.hasAck()) {
      row.setAckedGeneration(ack.getGeneration()).setAckedMode(ack.getMode())
          .setDetail(ack.getDetail()).setAckedAt(r.getAckedAt());
    }
    return row.build();
  }

  /** Directory rows with their live connection state and stop status. */
  public List<AgentInfo> agentRows() {
    List<AgentInfo> out = new ArrayList<>();
    Instant now = clock.instant();
    Cluster c = cluster;
    java.util.Map<String, AgentInfo> all = new java.util.TreeMap<>();
    for (AgentInfo a : agents.all()) all.put(a.getAgentId(), a);
    if (c != null) {
      // agents whose streams other collectors hold: a row even if this one never saw them
      for (var e : c.connectedAgents().entrySet()) {
        all.putIfAbsent(e.getKey(), AgentInfo.newBuilder().setAgentId(e.getKey()).build());
      }
    }
    for (AgentInfo a : all.values()) {
      String conn;
      boolean on = connected(a.getAgentId());
      if (on) {
        Instant seen = session(a.getAgentId()).map(AgentSession::lastSeen).orElse(now);
        conn = seen.plus(config.agentStaleAfter()).isBefore(now) ? "STALE" : "CONNECTED";
      } else {
        conn = "OFFLINE";
      }
      AgentInfo.Builder row = a.toBuilder().setConnection(conn)
          .setAckedSeq(c != null ? c.ackedSeq(a.getAgentId()) : store.highWaterMark(a.getAgentId()));
      if (c != null) row.setCollectorId(c.holder(a.getAgentId()).orElse(""));
      state.agentStop(a.getAgentId()).ifPresent(r -> row.setStop(row(r, on)));
      out.add(row.build());
    }
    return out;
  }

  // ------------------------------------------------------------------ actions

  /**
   * Hands an input to the core and waits for its committed answer. A {@link Refusal} comes back
   * as is; a store failure or a busy core as an {@link IllegalStateException}.
   */
  public Object call(Input in) throws Refusal {
    try {
      return host.submit(in).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | CompletionException e) {
      Throwable c = e.getCause() == null ? e : e.getCause();
      if (c instanceof Refusal r) throw r;
      if (c instanceof RuntimeException r) throw r;
      throw new IllegalStateException(String.valueOf(c.getMessage()), c);
    } catch (TimeoutException e) {
      throw new IllegalStateException("collector busy: the core did not answer within 30 s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  // ------------------------------------------------------------------ chores

  /**
   * Re-sends each connected agent whose ack does not match its desired state that state (on the
   * core thread, between transactions). Completes when done.
   */
  public java.util.concurrent.CompletableFuture<Object> resendPending() {
    AgentGateway g = gateway;
    if (g == null) return java.util.concurrent.CompletableFuture.completedFuture(null);
    return host.runOnCore(() -> {
      for (AgentSession s : g.sessions()) {
        state.agentStop(s.agentId()).ifPresent(r -> {
          var d = r.getDesired();
          if (!r.hasAck() || r.getAck().getGeneration() != d.getGeneration()
              || r.getAck().getMode() != d.getMode()) {
            s.send(CollectorFrame.newBuilder().setStop(StopCommand.newBuilder().setState(d)).build());
          }
        });
      }
    });
  }

  void publish(WatchEvent.Builder e) {
    Instant now = clock.instant();
    watch.publish(e.setAt(Timestamp.newBuilder().setSeconds(now.getEpochSecond())
        .setNanos(now.getNano())).build());
  }

  void publishStopStatus() {
    if (watch.subscribers() > 0) publish(WatchEvent.newBuilder().setStop(stopStatus()));
  }

  /** Keeps Alertmanager's copy of every unresolved incident firing. */
  public void refreshAlerts() {
    Alerts a = alerts;
    if (a == null) return;
    List<Incident> open = state.incidents().open();
    if (!open.isEmpty()) a.refreshAlertmanager(open);
  }

  /**
   * Retention, off the core thread: events and audit by range delete, decided runs not pinned by
   * an open incident, evidence of resolved incidents; forgetting incidents and resumed orders goes
   * through the core. Returns when the core has applied its part.
   */
  public void retain() {
    Instant now = clock.instant();
    try {
      store.deleteEventsBefore(Math.min(now.minus(config.retention().events()).toEpochMilli(),
          processedBefore()));
      audit.deleteBefore(now.minus(config.retention().audit()).toEpochMilli());
    } catch (java.io.IOException e) {
      throw new IllegalStateException("retention range delete failed: " + e.getMessage(), e);
    }
    var pinned = state.incidents().openRunIds();
    long cutoff = now.minus(config.retention().runs()).toEpochMilli();
    List<String> old = new ArrayList<>();
    state.runs().scan("", s -> {
      if (s.verdict() != Verdict.PENDING && s.decidedAtMillis() < cutoff && !pinned.contains(s.runId())) {
        old.add(s.runId());
      }
      return true;
    });
    old.forEach(state.runs()::delete);
    Instant evidenceCutoff = now.minus(config.retention().evidence());
    for (Incident i : state.incidents().all()) {
      if (i.getState() == dev.lockstep.proto.v1.IncidentState.RESOLVED
          && i.getLastSeen().getSeconds() < evidenceCutoff.getEpochSecond()) {
        evidence.deleteIncident(i.getId());
      }
    }
    List<String> forget = state.incidents().resolvedBefore(now.minus(config.retention().incidents()));
    if (!forget.isEmpty()) call(new Input.ForgetIncidents(forget));
    call(new Input.ForgetResumedOrders(now.minus(config.retention().incidents()).toEpochMilli()));
  }

  /** Events not yet processed by the core are never deleted by retention. */
  private long processedBefore() {
    byte[] v = store.get(Store.Family.META, "processed_before_millis");
    return v == null ? 0 : Store.bytesLong(v);
  }
}
