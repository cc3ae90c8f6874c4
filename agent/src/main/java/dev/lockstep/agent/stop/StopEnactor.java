package dev.lockstep.agent.stop;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.internal.ProtoTime;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.proto.lite.v1.AgentNotice;
import dev.lockstep.proto.lite.v1.StopAck;
import dev.lockstep.proto.lite.v1.StopMode;
import dev.lockstep.proto.lite.v1.StopOrder;
import dev.lockstep.proto.lite.v1.StopScope;
import dev.lockstep.proto.lite.v1.StopState;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Enacts this agent's desired stop state. STOPPED: the stop file is written and the enacted
 * state persisted (both fsync'd) BEFORE the on_stop and verify hooks run; RUNNING: the state is
 * persisted, the stop file removed, then on_resume and verify. Then the ack.
 *
 * <p>Invariants: the intent is on disk before any hook runs, so a kill -9 inside a hook
 * restarts into the same state; at start-up (the constructor, before anything else of the
 * agent starts) the newer of the stop file and the state file wins and a stop is put back in
 * force at once; the agent leaves STOPPED only for a RUNNING state that releases every order it
 * holds; a STOP preempts a running on_resume/verify hook and a running remediation restart
 * (their process groups are killed; on_stop never waits for a restart). Hooks
 * run on the enactor's own thread; the stop-file guard and the fail-safe on a second one.
 */
public final class StopEnactor implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(StopEnactor.class.getName());
  private static final int MAX_DETAIL = 4096;

  private final String agentId;
  private final AgentConfig.Stop config;
  private final StopFiles files;
  private final Clock clock;
  private final AgentMetrics metrics;
  private final Consumer<StopAck> ackSink;
  private final Consumer<AgentNotice> noticeSink;
  private final Consumer<String> progress;
  private final Object lock = new Object();
  private final Thread enactThread;
  private final ScheduledThreadPoolExecutor guard;
  // guarded by lock
  private EnactedStop current;
  private StopState wanted;
  private boolean wantedLocal;
  private Hook.Running runningHook;
  private StopMode runningMode;
  private boolean closed;

  public StopEnactor(String agentId, AgentConfig.Stop config, Path stateDir, Clock clock,
      AgentMetrics metrics, Consumer<StopAck> ackSink, Consumer<AgentNotice> noticeSink,
      Consumer<String> progress) throws IOException {
    this.agentId = agentId;
    this.config = config;
    this.files = new StopFiles(config.file(), stateDir.resolve("stop-enacted.json"), agentId, clock);
    this.clock = clock;
    this.metrics = metrics;
    this.ackSink = ackSink;
    this.noticeSink = noticeSink;
    this.progress = progress;
    this.current = restore();
    gauges();
    this.enactThread = new Thread(this::loop, "lockstep-stop");
    enactThread.setDaemon(true);
    enactThread.start();
    this.guard = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "lockstep-stop-guard");
      t.setDaemon(true);
      return t;
    });
  }

  private volatile dev.lockstep.agent.supervise.Supervisor.Fatal fatal = (component, e) -> { };

  /** What an Error on the stop's threads does: the agent exits (see {@code FatalExit}). */
  public void onFatal(dev.lockstep.agent.supervise.Supervisor.Fatal f) {
    fatal = f;
  }

  public EnactedStop current() {
    synchronized (lock) {
      return current;
    }
  }

  // ------------------------------------------------------------------ start-up

  /**
   * Decides the state in force from the two files (the newer wins), puts a stop back in force
   * now (stop file rewritten if missing or unreadable) and queues the unfinished hooks.
   */
  private EnactedStop restore() throws IOException {
    EnactedStop saved;
    String stateProblem = null;
    try {
      saved = files.readState();
    } catch (IOException | RuntimeException e) {
      stateProblem = "stop: state file " + files.stateFile() + " unreadable (" + e.getMessage() + ")";
      LOG.log(System.Logger.Level.ERROR, stateProblem + "; the stop file decides, and without one"
          + " this agent stops on its own");
      saved = null;
    }
    StopFiles.Found file = files.readStopFile();
    EnactedStop result;
    if (file != null) {
      // Only a stop file this agent wrote can be older than its own resume (a kill between
      // saving the resume and deleting the file); any other stop file means STOPPED.
      boolean resumeNewer = file.ours() && file.state() != null
          && saved != null && !saved.stopped() && saved.localSeq() > file.localSeq();
      if (resumeNewer) {
        files.deleteStopFile();
        result = saved;
      } else {
        StopState s;
        long seq = Math.max(file.localSeq(), saved == null ? 0 : saved.localSeq());
        if (saved != null && saved.stopped() && saved.localSeq() >= file.localSeq()) {
          s = saved.state();
        } else if (file.ours() && file.state() != null && file.state().getMode() == StopMode.STOPPED) {
          s = file.state();
        } else {
          // A stop file we cannot read, or one not written by us (an operator's touch, a copy of
          // another host's): it still means STOPPED, under an order of our own that only an
          // operator's resume releases. The orders a copied file names are only mentioned, not
          // held: they add no safety to that order, and one the collector does not know (a file
          // from staging) it would adopt as an active order of its scope — a fleet one stops
          // every agent.
          s = localStop(saved == null ? 0 : saved.generation(), seq, "stop file " + files.stopFile()
              + " present at agent start-up" + (file.problem() == null ? "" : " (" + file.problem() + ")")
              + (file.ours() || file.state() == null ? "" : foreignOrders(file.state())));
          files.writeStopFile(s, seq, true);
        }
        result = new EnactedStop(s, StopAck.getDefaultInstance(), false,
            saved != null && saved.local(), seq);
      }
    } else if (saved != null && saved.stopped()) {
      files.writeStopFile(saved.state(), saved.localSeq(), saved.local());
      LOG.log(System.Logger.Level.WARNING, "stop: stop file " + files.stopFile()
          + " was missing at start-up while STOPPED; rewritten");
      result = new EnactedStop(saved.state(), saved.ack(), false, saved.local(), saved.localSeq());
    } else if (stateProblem != null) {
      // No stop file and no readable state: this agent cannot tell that it was not stopped (the
      // stop file may be on a tmpfs a reboot cleared, and the state file was all that was left).
      StopState s = localStop(0, 0, stateProblem + " and no stop file at agent start-up");
      files.writeStopFile(s, 0, true);
      result = new EnactedStop(s, StopAck.getDefaultInstance(), false, false, 0);
    } else {
      result = saved == null ? EnactedStop.NONE : saved;
    }
    if (stateProblem != null) {
      String said = stateProblem + "; " + (result.stopped() ? "STOPPED at start-up, holding "
          + result.heldOrderIds() : "RUNNING") + " (an operator's resume releases a local order)";
      progress.accept(said);
      noticeSink.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.HOOK_FAILED)
          .setMessage(said).setCount(1).build());
    }
    if (result.stopped()) {
      progress.accept("stop: STOPPED at start-up (generation " + result.generation()
          + ", orders " + result.heldOrderIds() + "): stop file in place, hooks re-run");
    }
    if (!result.done()) {
      wanted = result.state();
      wantedLocal = result.local();
    }
    return result;
  }

  /**
   * A STOPPED state under one order of this agent's own ({@code LOCAL-…}) and no other. The id is
   * never one used before, even after the state dir was lost: the collector releases an order id
   * it knows as resumed at once, so a reused id would undo this stop.
   */
  private StopState localStop(long generation, long seq, String why) {
    String id = ownOrderId("LOCAL", agentId, seq + "-" + uniqueSuffix());
    return StopState.newBuilder().setGeneration(generation)
        .setMode(StopMode.STOPPED).setReason(why)
        .addOrders(StopOrder.newBuilder().setId(id)
            .setScope(StopScope.newBuilder().setAgentId(agentId))
            .setReason(why)
            .setIssuedBy("agent:" + agentId).setIssuedAt(ProtoTime.of(clock.instant())))
        .build();
  }

  /** How many order ids of a stop file not ours a local order's reason names, at most. */
  private static final int FOREIGN_ORDERS_NAMED = 8;

  /** For a local order's reason: the orders a stop file not written by this agent names. */
  private static String foreignOrders(StopState foreign) {
    List<String> ids = foreign.getOrdersList().stream().map(o -> truncate(o.getId(), 128)).toList();
    if (ids.isEmpty()) return "; not written by this agent";
    return "; not written by this agent, it names order(s) "
        + String.join(", ", ids.subList(0, Math.min(ids.size(), FOREIGN_ORDERS_NAMED)))
        + (ids.size() > FOREIGN_ORDERS_NAMED ? " and " + (ids.size() - FOREIGN_ORDERS_NAMED) + " more" : "")
        + " (not held here)";
  }

  /**
   * The longest order id the collector takes as it is ({@code StopRules.ORDER_ID}); a longer one it
   * adopts under a name of its own ({@code UNNAMED-…}), which a resume releases and this agent does
   * not hold: the agent would stay stopped for good.
   */
  static final int MAX_ORDER_ID = 128;
  /** Hex digits of the agent id's SHA-256 that stand for the part of a long agent id cut off. */
  private static final int AGENT_DIGEST_HEX = 16;

  /**
   * The id of an order this agent takes on its own: {@code <kind>-<agent id>-<tail>}, at most
   * {@link #MAX_ORDER_ID} characters. An agent id too long for that (ids may have 128) is cut and
   * followed by {@code .} and the first hex digits of its SHA-256, so agents whose ids share a
   * long beginning still name their orders apart; {@code tail} (ending in the random suffix)
   * keeps each id new.
   */
  static String ownOrderId(String kind, String agentId, String tail) {
    String id = kind + "-" + agentId + "-" + tail;
    if (id.length() <= MAX_ORDER_ID) return id;
    String digest = java.util.HexFormat.of().formatHex(sha256(agentId)).substring(0, AGENT_DIGEST_HEX);
    int keep = Math.max(0, MAX_ORDER_ID - kind.length() - tail.length() - AGENT_DIGEST_HEX - 3);
    return kind + "-" + agentId.substring(0, Math.min(keep, agentId.length())) + "." + digest + "-" + tail;
  }

  private static byte[] sha256(String s) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256")
          .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }

  /**
   * The end of an id of an order this agent takes on its own: random, so the id is never one
   * used before, whatever the local sequence or the wall clock says (a lost state dir, a clock
   * set back). The collector releases at once an order id it knows as resumed.
   */
  private static String uniqueSuffix() {
    return Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 16);
  }

  /**
   * Starts the stop-file guard and, when configured, the fail-safe. {@code disconnectedFor} and
   * {@code nanoTime} are monotonic time (as System.nanoTime): a wall clock set back must not
   * delay the fail-safe or a retry.
   */
  public void startGuard(Supplier<Duration> disconnectedFor, java.util.function.LongSupplier nanoTime) {
    guard.scheduleWithFixedDelay(() -> {
      try {
        guardOnce();
        Duration failsafe = config.failsafeAfter();
        if (failsafe != null && !failsafe.isZero()) {
          Duration off = disconnectedFor.get();
          if (off != null && off.compareTo(failsafe) >= 0) failsafe(off);
        }
        retryFailedStop(nanoTime.getAsLong());
      } catch (RuntimeException e) {
        metrics.errors.labelValues("stop").inc();
        LOG.log(System.Logger.Level.ERROR, "stop guard: " + e);
      } catch (Error e) {
        fatal.fatal("stop guard", e); // an Error would end the repeating task without a word
      }
    }, 1, 1, TimeUnit.SECONDS);
  }

  // ------------------------------------------------------------------ inputs

  /** A desired state from the collector (Welcome or StopCommand). Any thread; never blocks. */
  public void offer(StopState desired, boolean fromWelcome) {
    if (desired.getMode() != StopMode.STOPPED && desired.getMode() != StopMode.RUNNING) return;
    StopAck reAck = null;
    synchronized (lock) {
      long highest = Math.max(current.generation(), wanted == null ? 0 : wanted.getGeneration());
      if (desired.getMode() == StopMode.RUNNING && desired.getGeneration() < highest) {
        // An older RUNNING (a collector behind on the stop state, e.g. after a fail-over) must
        // not undo a newer state, least of all a stop still being enacted. An older STOPPED is
        // enacted: stopping on stale news is the safe mistake.
        if (ignoredGeneration != desired.getGeneration()) {
          ignoredGeneration = desired.getGeneration();
          LOG.log(System.Logger.Level.WARNING, "stop: ignored RUNNING at generation "
              + desired.getGeneration() + ", older than " + highest + " (a collector behind?)");
        }
        return;
      }
      failedResume = null; // the collector's newest word replaces a resume waiting to be tried again
      if (current.sameAs(desired) && (wanted == null || current.sameAs(wanted))) {
        // Already this state: answer again if it is done; otherwise its enactment acks it.
        if (current.done()) {
          reAck = stopFileProblem != null && current.stopped() ? stopFileAck() : current.ack();
          wanted = null;
        }
      } else {
        wanted = desired;
        wantedLocal = false;
        if (desired.getMode() == StopMode.STOPPED && runningMode == StopMode.RUNNING
            && runningHook != null) {
          progress.accept("stop: STOPPED arrived while a resume hook runs: killing it");
          runningHook.kill();
        }
        if (desired.getMode() == StopMode.STOPPED) killRestarts(desired);
        lock.notifyAll();
      }
    }
    if (reAck != null) ackSink.accept(reAck);
  }

  /**
   * What became of a remediation's restart asked of {@link #unlessStopped}: {@code result} is how
   * its command ended, null when it was not started (refused by a stop, or {@code start} started
   * none); {@code stop} names the stop that refused it or killed its command, if one did.
   */
  public record Restart(java.util.Optional<String> stop, Hook.Result result) {
    /** Not started because of {@code stop}. */
    public boolean refused() {
      return result == null && stop.isPresent();
    }
  }

  /** Guarded by lock: the remediation restart commands running now, each killed by a STOPPED. */
  private final java.util.Set<Hook.Running> restarts = new java.util.HashSet<>();
  /** Guarded by lock: the restart commands a STOPPED killed, and which. */
  private final Map<Hook.Running, String> killedRestarts = new java.util.HashMap<>();

  /**
   * Runs a remediation's restart (the command {@code start} starts, awaited up to {@code timeout})
   * unless {@code covering} names a stop or a STOPPED is wanted or being enacted; then it returns
   * why not. The decision and the start happen under the enactor's lock, and the command is
   * registered there: a STOPPED arriving while it runs kills its process group (as it kills a
   * resume hook) and runs on_stop at once, which stops whatever the restart got to start. So a
   * STOP never waits for a restart, and a restart never starts once a STOP has arrived.
   * {@code covering} and {@code start} run under that lock: they must not wait for anything that
   * may wait for this enactor.
   */
  public Restart unlessStopped(Supplier<java.util.Optional<String>> covering,
      Supplier<Hook.Running> start, Duration timeout) {
    Hook.Running running;
    synchronized (lock) {
      java.util.Optional<String> why = covering.get();
      if (why.isEmpty()) {
        if (current.stopped()) {
          why = java.util.Optional.of("this host is STOPPED (generation " + current.generation()
              + ", orders " + current.heldOrderIds() + ")");
        } else if (wanted != null && wanted.getMode() == StopMode.STOPPED) {
          why = java.util.Optional.of("a stop (generation " + wanted.getGeneration()
              + ") is being enacted on this host");
        }
      }
      if (why.isPresent()) return new Restart(why, null);
      running = start.get();
      if (running == null) return new Restart(why, null);
      restarts.add(running);
    }
    Hook.Result result = null;
    String killedBy;
    try {
      result = running.await(timeout);
    } finally {
      synchronized (lock) {
        restarts.remove(running);
        killedBy = killedRestarts.remove(running);
      }
    }
    return new Restart(java.util.Optional.ofNullable(killedBy), result);
  }

  /** Guarded by lock: {@code stop} is wanted; kills the restart commands running (on_stop follows). */
  private void killRestarts(StopState stop) {
    if (restarts.isEmpty()) return;
    String why = "stop order(s) " + stop.getOrdersList().stream().map(StopOrder::getId).toList()
        + " (generation " + stop.getGeneration() + ") arrived while the restart ran";
    progress.accept("stop: " + why + ": killing the restart command");
    for (Hook.Running r : restarts) {
      r.kill();
      killedRestarts.put(r, why);
    }
    restarts.clear();
  }

  /** The collector has been unreachable too long: stop on our own (no ack; nobody asked). */
  public void failsafe(Duration unreachableFor) {
    synchronized (lock) {
      failedResume = null; // cut off too long: a resume that could not be saved is not tried again
      if (current.stopped() || (wanted != null && wanted.getMode() == StopMode.STOPPED)) return;
      StopOrder order = StopOrder.newBuilder()
          .setId(ownOrderId("FAILSAFE", agentId, clock.millis() + "-" + uniqueSuffix()))
          .setScope(StopScope.newBuilder().setAgentId(agentId))
          .setReason("fail-safe: collector unreachable for " + unreachableFor.toSeconds() + " s")
          .setIssuedBy("agent:" + agentId).setIssuedAt(ProtoTime.of(clock.instant())).build();
      wanted = current.state().toBuilder().setMode(StopMode.STOPPED).clearOrders().addOrders(order)
          .clearReleasedOrderIds().setReason(order.getReason()).setChangedBy(order.getIssuedBy())
          .setChangedAt(order.getIssuedAt()).build();
      wantedLocal = true;
      killRestarts(wanted);
      lock.notifyAll();
    }
    noticeSink.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.FAILSAFE_STOP)
        .setMessage("stopped on its own: collector unreachable for " + unreachableFor.toSeconds() + " s").build());
  }

  private long ignoredGeneration = -1;
  /** Why the stop file of the stop in force is missing and could not be rewritten; null if not. */
  private String stopFileProblem;

  /**
   * If the stop file vanished while STOPPED, puts it back. When it cannot (the agent's disk, a
   * directory gone), the stop is no longer in force: that is said loudly (error log, a notice,
   * and an ack NOT enacted, so the collector shows this host FAILED) until the file is back,
   * which is acked as enacted again.
   */
  void guardOnce() {
    StopAck send = null;
    String failed = null;
    synchronized (lock) {
      if (!current.stopped()) {
        stopFileProblem = null;
        return;
      }
      if (!files.stopFileExists()) {
        try {
          files.writeStopFile(current.state(), current.localSeq(), current.local());
          LOG.log(System.Logger.Level.WARNING, "stop: stop file " + files.stopFile()
              + " was removed while stopped; rewritten");
        } catch (IOException ex) {
          metrics.errors.labelValues("stop").inc();
          if (stopFileProblem == null) {
            stopFileProblem = "stop file " + files.stopFile()
                + " was removed while stopped and cannot be written again: " + ex.getMessage();
            failed = stopFileProblem;
            send = stopFileAck();
          }
          // fall through only to report; the file is tried again next second
        }
      }
      if (failed == null && stopFileProblem != null && files.stopFileExists()) {
        stopFileProblem = null;
        send = current.ack();
        progress.accept("stop: stop file " + files.stopFile() + " is back; the stop is in force again");
      }
    }
    if (failed != null) {
      LOG.log(System.Logger.Level.ERROR, "stop: " + failed);
      progress.accept("stop: " + failed);
      noticeSink.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.HOOK_FAILED)
          .setMessage(failed).setCount(1).build());
    }
    if (send != null) ackSink.accept(send);
  }

  /** First wait before a failed stop is enacted again; it doubles up to {@link #RETRY_MAX}. */
  static final Duration RETRY_FIRST = Duration.ofSeconds(5);
  static final Duration RETRY_MAX = Duration.ofMinutes(5);
  // guarded by lock: the failure retried (the EnactedStop of a failed stop, or failedResume; a
  // new one for each failure), when it is enacted again (monotonic nanos), and the wait after that
  private long retryAtNanos;
  private Duration retryWait = RETRY_FIRST;
  private Object retryOf;

  /** A resume that could not be enacted (its state file not written) while STOPPED, and why. */
  private record FailedResume(StopState state, String why) { }

  /** Guarded by lock: the resume to enact again; null if none. */
  private FailedResume failedResume;

  /**
   * A STOPPED whose on_stop or verify failed (exit code, timeout, killed) or whose files could
   * not be written is enacted again — files, on_stop, verify, a new ack — after 5 s, then 10 s,
   * 20 s … up to every 5 min, until it succeeds: the collector counts the failed ack and stops
   * resending, so nothing else would try again before a restart. Each failure is a notice. So is
   * a RUNNING that left the agent STOPPED because its state file could not be written.
   */
  void retryFailedStop(long nowNanos) {
    synchronized (lock) {
      if (wanted != null || closed) return; // an enactment under way (maybe the retry): its outcome decides
      Object failure = failedResume != null ? failedResume
          : current.stopped() && current.done() && !(current.ack().getEnacted() && current.ack().getVerified())
              ? current : null;
      if (failure == null) {
        retryOf = null;
        retryWait = RETRY_FIRST;
        return;
      }
      if (retryOf != failure) {
        retryOf = failure;
        retryAtNanos = nowNanos + retryWait.toNanos();
        return;
      }
      if (nowNanos - retryAtNanos < 0) return;
      retryWait = retryWait.multipliedBy(2).compareTo(RETRY_MAX) > 0 ? RETRY_MAX : retryWait.multipliedBy(2);
      if (failedResume != null) {
        progress.accept("stop: enacting generation " + failedResume.state().getGeneration()
            + " RUNNING again (" + failedResume.why() + ")");
        wanted = failedResume.state();
        wantedLocal = false;
      } else {
        progress.accept("stop: generation " + current.generation() + " STOPPED was not "
            + (current.ack().getEnacted() ? "verified" : "enacted") + "; enacting it again");
        wanted = current.state();
        wantedLocal = current.local();
      }
      lock.notifyAll();
    }
  }

  /** The ack of the current stop while its stop file is missing: NOT enacted, saying why. */
  private StopAck stopFileAck() {
    return ack(current.state(), current.heldOrders(), false, false, stopFileProblem);
  }

  // ------------------------------------------------------------------ enactment

  private void loop() {
    while (true) {
      StopState target;
      boolean local;
      synchronized (lock) {
        while (!closed && wanted == null) {
          try {
            lock.wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (closed) return;
        target = wanted;
        local = wantedLocal;
      }
      try {
        enact(target, local);
      } catch (RuntimeException e) {
        metrics.errors.labelValues("stop").inc();
        LOG.log(System.Logger.Level.ERROR, "stop: enactment failed: " + e, e);
        synchronized (lock) {
          if (wanted == target) wanted = null;
        }
      } catch (Error e) {
        // this thread ending quietly would leave an agent that looks healthy and enacts no stop:
        // the agent exits instead, and its restart puts the stop files' state back in force
        fatal.fatal("stop", e);
        return;
      }
    }
  }

  private void enact(StopState wantedState, boolean local) {
    boolean stopped = wantedState.getMode() == StopMode.STOPPED;
    EnactedStop before = current();
    // what this agent will hold: the state's orders plus those held and not released
    StopState target = before.merged(wantedState);
    if (!stopped && before.stopped()) {
      List<String> unreleased = new ArrayList<>(before.heldOrderIds());
      unreleased.removeAll(target.getReleasedOrderIdsList());
      if (!unreleased.isEmpty()) {
        refuseResume(wantedState, before, unreleased);
        return;
      }
    }
    if (!stopped && !before.stopped() && before.done()) {
      // RUNNING stays RUNNING: only the generation moves; nothing to undo, no hook to run.
      StopAck ack = ack(target, true, true, "already RUNNING");
      finish(wantedState, new EnactedStop(target, ack, true, false, before.localSeq()), local, ack);
      return;
    }
    long seq = before.localSeq() + 1;
    StringBuilder detail = new StringBuilder();
    boolean enacted = true;
    try {
      if (stopped) {
        files.writeStopFile(target, seq, local);
        files.writeState(new EnactedStop(target, StopAck.getDefaultInstance(), false, local, seq));
        detail.append("stop file written");
      } else {
        EnactedStop resuming = new EnactedStop(target, StopAck.getDefaultInstance(), false, false, seq);
        try {
          files.writeState(resuming);
        } catch (IOException ex) {
          if (!before.stopped()) throw ex;
          // Nothing changed on disk: the stop file and the state file still say STOPPED, and so
          // would a restart. Going on (on_resume) would run a host the agent must call STOPPED.
          metrics.errors.labelValues("stop").inc();
          stayStopped(wantedState, before, "resume not enacted: state file " + files.stateFile()
              + " could not be written (" + ex + "); staying STOPPED, the resume is tried again", true);
          return;
        }
        // no longer stopped BEFORE the file goes: the guard puts back a stop file that vanishes
        // while stopped, and must not take this removal for one
        synchronized (lock) {
          current = resuming;
        }
        files.deleteStopFile();
        detail.append("stop file removed");
      }
    } catch (IOException ex) {
      enacted = false;
      detail.append("stop file ").append(files.stopFile()).append(": ").append(ex);
    }
    synchronized (lock) {
      current = new EnactedStop(target, StopAck.getDefaultInstance(), false, local, seq);
      // no restart starts from now on; one still running (none should: wanting a STOPPED kills
      // them) is killed before on_stop, which stops what it started
      if (stopped) killRestarts(target);
    }
    gauges();
    Map<String, String> env = env(target, stopped);
    String hook = stopped ? config.onStop() : config.onResume();
    String hookName = stopped ? "on_stop" : "on_resume";
    if (hook != null && !hook.isBlank()) {
      Hook.Result r = runHook(hook, env, target.getMode());
      if (r == null) return;
      detail.append("; ").append(hookName).append(" ").append(r.describe());
      if (!r.ok()) {
        enacted = false;
        hookFailed(hookName, r);
      }
    }
    boolean verified = enacted;
    if (config.verify() != null && !config.verify().isBlank()) {
      Hook.Result r = runHook(config.verify(), env, target.getMode());
      if (r == null) return;
      detail.append("; verify ").append(r.describe());
      verified = enacted && r.ok();
      if (!r.ok()) hookFailed("verify", r);
    }
    StopAck ack = ack(target, enacted, verified, detail.toString());
    finish(wantedState, new EnactedStop(target, ack, true, local, seq), local, ack);
  }

  /** Runs a hook; null when a STOP preempted this resume (then nothing more is done for it). */
  private Hook.Result runHook(String command, Map<String, String> env, StopMode mode) {
    Hook.Running running = Hook.start(command, env, config.hookOutputBytes());
    synchronized (lock) {
      runningHook = running;
      runningMode = mode;
      if (mode == StopMode.RUNNING && wanted != null && wanted.getMode() == StopMode.STOPPED) {
        running.kill();
      }
    }
    Hook.Result r = running.await(config.hookTimeout());
    synchronized (lock) {
      runningHook = null;
      runningMode = null;
    }
    return r.killed() ? null : r;
  }

  /**
   * Records {@code done} (enacting {@code wantedState}) and answers it. A local (fail-safe) state
   * was asked by nobody, but is reported all the same: the ack names the orders held, so a
   * collector that is reachable again learns about the fail-safe order and adopts it.
   */
  private void finish(StopState wantedState, EnactedStop done, boolean local, StopAck ack) {
    StopState target = done.state();
    try {
      files.writeState(done);
    } catch (IOException ex) {
      metrics.errors.labelValues("stop").inc();
      LOG.log(System.Logger.Level.ERROR, "stop: cannot persist enacted state: " + ex);
    }
    synchronized (lock) {
      current = done;
      failedResume = null;
      if (wanted == wantedState) wanted = null;
    }
    gauges();
    progress.accept("stop: enacted generation " + target.getGeneration() + " "
        + (local ? "STOPPED (fail-safe)" : target.getMode().name())
        + (target.getOrdersCount() == 0 ? "" : " for order(s) " + done.heldOrderIds())
        + (ack.getEnacted() ? "" : " NOT enacted") + (ack.getVerified() ? ", verified" : ", NOT verified")
        + " — " + ack.getDetail());
    ackSink.accept(ack);
  }

  private void refuseResume(StopState wantedState, EnactedStop before, List<String> unreleased) {
    metrics.errors.labelValues("stop_resume_refused").inc();
    stayStopped(wantedState, before, "refused: this resume does not release order(s) " + unreleased
        + " that this agent holds; staying STOPPED", false);
  }

  /**
   * A resume not enacted: the agent stays {@code before} (STOPPED), says why (progress line,
   * notice, ack NOT enacted) and, when {@code retry}, enacts the resume again later.
   */
  private void stayStopped(StopState wantedState, EnactedStop before, String why, boolean retry) {
    progress.accept("stop: " + why);
    noticeSink.accept(AgentNotice.newBuilder().setKind(AgentNotice.Kind.HOOK_FAILED)
        .setMessage(why).setCount(1).build());
    synchronized (lock) {
      if (wanted == wantedState) {
        wanted = null;
        failedResume = retry ? new FailedResume(wantedState, why) : null;
      }
    }
    // answers the state it did not enact, and names what it holds: the collector adopts what it lost
    ackSink.accept(ack(wantedState, before.heldOrders(), false, false, why));
  }

  /** An ack of {@code target}, naming the orders held once it is enacted. */
  private StopAck ack(StopState target, boolean enacted, boolean verified, String detail) {
    return ack(target, target.getMode() == StopMode.STOPPED ? target.getOrdersList() : List.of(),
        enacted, verified, detail);
  }

  private StopAck ack(StopState answered, List<StopOrder> held, boolean enacted, boolean verified,
      String detail) {
    String d = detail.length() > MAX_DETAIL ? detail.substring(0, MAX_DETAIL) + "…" : detail;
    return StopAck.newBuilder().setGeneration(answered.getGeneration()).setMode(answered.getMode())
        .setEnacted(enacted).setVerified(verified).setDetail(d).addAllHeldOrders(held)
        .setEnactedAt(ProtoTime.of(clock.instant())).build();
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
    env.put("LOCKSTEP_ORDERS", String.join(",", s.getOrdersList().stream().map(StopOrder::getId).toList()));
    env.put("LOCKSTEP_INCIDENT", String.join(",", s.getOrdersList().stream()
        .map(StopOrder::getIncidentId).filter(x -> !x.isEmpty()).distinct().toList()));
    env.put("LOCKSTEP_GENERATION", Long.toString(s.getGeneration()));
    env.put("LOCKSTEP_REASON", s.getReason());
    env.put("LOCKSTEP_SCOPE", String.join(",", s.getOrdersList().stream()
        .map(o -> scope(o.getScope())).distinct().toList()));
    env.put("LOCKSTEP_AGENT_ID", agentId);
    env.put("LOCKSTEP_MODE", stopped ? "STOPPED" : "RUNNING");
    env.put("LOCKSTEP_STOP_FILE", files.stopFile().toString());
    return env;
  }

  static String scope(StopScope s) {
    return switch (s.getTargetCase()) {
      case WORKFLOW -> "workflow:" + s.getWorkflow();
      case AGENT_ID -> "agent:" + s.getAgentId();
      default -> "fleet";
    };
  }

  private void gauges() {
    EnactedStop c = current();
    metrics.stopGeneration.set(c.generation());
    metrics.stopped.set(c.stopped() ? 1 : 0);
  }

  @Override
  public void close() {
    guard.shutdownNow();
    synchronized (lock) {
      closed = true;
      if (runningHook != null && runningMode == StopMode.RUNNING) runningHook.kill();
      lock.notifyAll();
    }
    try {
      enactThread.join(Math.min(config.hookTimeout().toMillis(), 10_000) + 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
