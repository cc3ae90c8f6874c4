package dev.lockstep.agent.stop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.internal.AtomicFiles;
import dev.lockstep.agent.internal.ProtoTime;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Enacts the collector's desired stop state on this host: STOPPED writes the stop file atomically
 * (JSON of the state), runs on_stop with {@code WORKFLOW_EMERGENCY_STOP=true} and
 * {@code LOCKSTEP_*} variables, then verify; RUNNING removes the stop file, runs on_resume, then
 * verify. Invariant: enacted epochs only grow, and the enacted state is on disk before its
 * StopAck is sent, so a restarted agent re-applies it and stays stopped.
 *
 * <p>Hooks run on the enactor's own thread, never on the uplink thread.
 */
public final class StopEnactor implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(StopEnactor.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_DETAIL = 4096;

  private final String agentId;
  private final AgentConfig.Stop config;
  private final Path stateFile;
  private final Clock clock;
  private final AgentMetrics metrics;
  private final Consumer<StopAck> ackSink;
  private final Consumer<AgentNotice> noticeSink;
  private final Consumer<String> progress;
  private final ExecutorService executor;
  private volatile EnactedStop current;

  public StopEnactor(String agentId, AgentConfig.Stop config, Path stateDir, Clock clock, AgentMetrics metrics,
      Consumer<StopAck> ackSink, Consumer<AgentNotice> noticeSink, Consumer<String> progress) throws IOException {
    this.agentId = agentId;
    this.config = config;
    this.stateFile = stateDir.resolve("stop-enacted.json");
    this.clock = clock;
    this.metrics = metrics;
    this.ackSink = ackSink;
    this.noticeSink = noticeSink;
    this.progress = progress;
    this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(1024), r -> {
      Thread t = new Thread(r, "lockstep-stop");
      t.setDaemon(true);
      return t;
    });
    this.current = load();
    gauges();
  }

  public EnactedStop current() {
    return current;
  }

  /**
   * After an agent restart: puts the enacted state back in force. STOPPED rewrites the stop file
   * now and re-runs on_stop and verify in the background (hooks must be idempotent); RUNNING makes
   * sure no stop file is left.
   */
  public void reapply() {
    EnactedStop e = current;
    if (e.epoch() == 0 && !e.failsafe()) {
      return;
    }
    if (e.stopped()) {
      try {
        writeStopFile(e.state(), e.failsafe());
      } catch (IOException ex) {
        LOG.log(System.Logger.Level.ERROR, "stop: cannot rewrite stop file " + config.file() + ": " + ex);
      }
      progress.accept("stop: re-applying enacted epoch " + e.epoch() + " STOPPED after restart");
      submit(() -> enact(e.state(), e.failsafe(), false));
    } else {
      try {
        AtomicFiles.delete(config.file());
      } catch (IOException ex) {
        LOG.log(System.Logger.Level.ERROR, "stop: cannot remove stop file " + config.file() + ": " + ex);
      }
    }
  }

  /** A desired state from the collector (Welcome or StopCommand). Any thread. */
  public void offer(StopState desired, boolean fromWelcome) {
    submit(() -> {
      EnactedStop e = current;
      if (desired.getMode() == StopMode.STOP_MODE_UNSPECIFIED) {
        return;
      }
      if (desired.getEpoch() > e.epoch() || (e.failsafe() && desired.getEpoch() >= e.epoch())) {
        enact(desired, false, true);
      } else if (desired.getEpoch() == e.epoch() && e.epoch() > 0 && fromWelcome) {
        ackSink.accept(e.ack());
      }
    });
  }

  /** The collector has been unreachable too long: stop on our own (no ack; nobody asked). */
  public void failsafe(Duration unreachableFor) {
    submit(() -> {
      EnactedStop e = current;
      if (e.stopped()) {
        return;
      }
      StopState s = e.state().toBuilder().setMode(StopMode.STOPPED)
          .setReason("fail-safe: collector unreachable for " + unreachableFor.toSeconds() + " s")
          .setIssuedBy("agent:" + agentId).setIncidentId("").setIssuedAt(ProtoTime.of(clock.instant())).build();
      noticeSink.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.FAILSAFE_STOP)
          .setMessage("stopped on its own: collector unreachable for " + unreachableFor.toSeconds() + " s").build());
      enact(s, true, false);
    });
  }

  /**
   * If the stop file vanished while STOPPED, puts it back. Called periodically; runs on the
   * enactor's thread so it never races an enactment that is removing the file.
   */
  public void guard() {
    if (!current.stopped() || Files.exists(config.file())) {
      return;
    }
    submit(() -> {
      EnactedStop e = current;
      if (e.stopped() && !Files.exists(config.file())) {
        try {
          writeStopFile(e.state(), e.failsafe());
          LOG.log(System.Logger.Level.WARNING, "stop: stop file " + config.file() + " was removed while stopped; rewritten");
        } catch (IOException ex) {
          metrics.errors.labelValues("stop").inc();
        }
      }
    });
  }

  private void submit(Runnable r) {
    try {
      executor.execute(() -> {
        try {
          r.run();
        } catch (RuntimeException ex) {
          metrics.errors.labelValues("stop").inc();
          LOG.log(System.Logger.Level.ERROR, "stop: " + ex);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException ex) {
      // closing
    }
  }

  private void enact(StopState s, boolean failsafe, boolean sendAck) {
    boolean stopped = s.getMode() == StopMode.STOPPED;
    StringBuilder detail = new StringBuilder();
    boolean enacted;
    try {
      if (stopped) {
        writeStopFile(s, failsafe);
        detail.append("stop file written");
      } else {
        AtomicFiles.delete(config.file());
        detail.append("stop file removed");
      }
      enacted = true;
    } catch (IOException ex) {
      enacted = false;
      detail.append("stop file ").append(config.file()).append(": ").append(ex);
    }
    Map<String, String> env = env(s, stopped);
    String hook = stopped ? config.onStop() : config.onResume();
    String hookName = stopped ? "on_stop" : "on_resume";
    if (hook != null && !hook.isBlank()) {
      Hook.Result r = Hook.run(hook, env, config.hookTimeout(), config.hookOutputBytes());
      detail.append("; ").append(hookName).append(" ").append(r.describe());
      if (!r.ok()) {
        enacted = false;
        hookFailed(hookName, r);
      }
    }
    boolean verified = enacted;
    if (config.verify() != null && !config.verify().isBlank()) {
      Hook.Result r = Hook.run(config.verify(), env, config.hookTimeout(), config.hookOutputBytes());
      detail.append("; verify ").append(r.describe());
      verified = enacted && r.ok();
      if (!r.ok()) {
        hookFailed("verify", r);
      }
    }
    String d = detail.length() > MAX_DETAIL ? detail.substring(0, MAX_DETAIL) + "…" : detail.toString();
    StopAck ack = StopAck.newBuilder().setEpoch(s.getEpoch()).setMode(s.getMode()).setEnacted(enacted)
        .setVerified(verified).setDetail(d).setEnactedAt(ProtoTime.of(clock.instant())).build();
    EnactedStop next = new EnactedStop(s, ack, failsafe);
    try {
      persist(next);
    } catch (IOException ex) {
      metrics.errors.labelValues("stop").inc();
      LOG.log(System.Logger.Level.ERROR, "stop: cannot persist enacted state: " + ex);
    }
    current = next;
    gauges();
    progress.accept("stop: enacted epoch " + s.getEpoch() + " " + (failsafe ? "STOPPED (fail-safe)" : s.getMode().name())
        + (s.getIncidentId().isEmpty() ? "" : " for incident " + s.getIncidentId())
        + (enacted ? "" : " NOT enacted") + (verified ? ", verified" : ", NOT verified") + " — " + d);
    if (sendAck) {
      ackSink.accept(ack);
    }
  }

  private void hookFailed(String name, Hook.Result r) {
    metrics.hookFailures.labelValues(name).inc();
    noticeSink.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.HOOK_FAILED)
        .setMessage(name + " hook failed: " + truncate(r.describe(), 1024)).setCount(1).build());
  }

  private static String truncate(String s, int n) {
    return s.length() <= n ? s : s.substring(0, n) + "…";
  }

  private Map<String, String> env(StopState s, boolean stopped) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("WORKFLOW_EMERGENCY_STOP", stopped ? "true" : "false");
    env.put("LOCKSTEP_INCIDENT", s.getIncidentId());
    env.put("LOCKSTEP_EPOCH", Long.toString(s.getEpoch()));
    env.put("LOCKSTEP_REASON", s.getReason());
    env.put("LOCKSTEP_SCOPE", scope(s.getScope()));
    env.put("LOCKSTEP_AGENT_ID", agentId);
    env.put("LOCKSTEP_MODE", stopped ? "STOPPED" : "RUNNING");
    env.put("LOCKSTEP_STOP_FILE", config.file().toString());
    return env;
  }

  static String scope(StopScope s) {
    return switch (s.getTargetCase()) {
      case WORKFLOW -> "workflow:" + s.getWorkflow();
      case HOST -> "host:" + s.getHost();
      default -> "fleet";
    };
  }

  private void writeStopFile(StopState s, boolean failsafe) throws IOException {
    ObjectNode n = stateJson(s);
    n.put("failsafe", failsafe);
    n.put("agent_id", agentId);
    n.put("written_at", clock.instant().toString());
    AtomicFiles.write(config.file(), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n));
  }

  private static ObjectNode stateJson(StopState s) {
    ObjectNode n = JSON.createObjectNode();
    n.put("epoch", s.getEpoch());
    n.put("mode", s.getMode().name());
    ObjectNode scope = n.putObject("scope");
    switch (s.getScope().getTargetCase()) {
      case WORKFLOW -> scope.put("workflow", s.getScope().getWorkflow());
      case HOST -> scope.put("host", s.getScope().getHost());
      default -> scope.put("fleet", true);
    }
    n.put("reason", s.getReason());
    n.put("incident_id", s.getIncidentId());
    n.put("issued_by", s.getIssuedBy());
    if (s.hasIssuedAt()) {
      n.put("issued_at", ProtoTime.toInstant(s.getIssuedAt()).toString());
    }
    return n;
  }

  private static StopState stateFrom(JsonNode n) {
    StopState.Builder b = StopState.newBuilder().setEpoch(n.path("epoch").asLong())
        .setMode(StopMode.valueOf(n.path("mode").asText("RUNNING")))
        .setReason(n.path("reason").asText("")).setIncidentId(n.path("incident_id").asText(""))
        .setIssuedBy(n.path("issued_by").asText(""));
    JsonNode sc = n.path("scope");
    if (sc.has("workflow")) {
      b.setScope(StopScope.newBuilder().setWorkflow(sc.get("workflow").asText()));
    } else if (sc.has("host")) {
      b.setScope(StopScope.newBuilder().setHost(sc.get("host").asText()));
    } else {
      b.setScope(StopScope.newBuilder().setFleet(true));
    }
    if (n.hasNonNull("issued_at")) {
      b.setIssuedAt(ProtoTime.of(Instant.parse(n.get("issued_at").asText())));
    }
    return b.build();
  }

  private void persist(EnactedStop e) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.set("state", stateJson(e.state()));
    n.put("failsafe", e.failsafe());
    ObjectNode a = n.putObject("ack");
    a.put("enacted", e.ack().getEnacted());
    a.put("verified", e.ack().getVerified());
    a.put("detail", e.ack().getDetail());
    a.put("enacted_at", ProtoTime.toInstant(e.ack().getEnactedAt()).toString());
    AtomicFiles.write(stateFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n));
  }

  private EnactedStop load() throws IOException {
    if (!Files.exists(stateFile)) {
      return EnactedStop.NONE;
    }
    JsonNode n = JSON.readTree(Files.readAllBytes(stateFile));
    StopState s = stateFrom(n.path("state"));
    JsonNode a = n.path("ack");
    StopAck ack = StopAck.newBuilder().setEpoch(s.getEpoch()).setMode(s.getMode())
        .setEnacted(a.path("enacted").asBoolean()).setVerified(a.path("verified").asBoolean())
        .setDetail(a.path("detail").asText(""))
        .setEnactedAt(ProtoTime.of(Instant.parse(a.path("enacted_at").asText(Instant.EPOCH.toString())))).build();
    return new EnactedStop(s, ack, n.path("failsafe").asBoolean());
  }

  private void gauges() {
    metrics.stopEpoch.set(current.epoch());
    metrics.stopped.set(current.stopped() ? 1 : 0);
  }

  @Override
  public void close() {
    executor.shutdown();
    try {
      if (!executor.awaitTermination(Math.min(config.hookTimeout().toMillis(), 10_000) + 1000, TimeUnit.MILLISECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      executor.shutdownNow();
    }
  }
}
