package dev.lockstep.agent.remediate;

import dev.lockstep.agent.internal.AtomicFiles;
import dev.lockstep.agent.logs.LogStats;
import dev.lockstep.agent.probe.ProcFs;
import dev.lockstep.agent.stop.Hook;
import dev.lockstep.agent.stop.StopEnactor;
import dev.lockstep.proto.lite.v1.Remediation;
import dev.lockstep.proto.lite.v1.Remediation.Action;
import dev.lockstep.proto.lite.v1.Remediation.Outcome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The playbook's remediation, opt-in per watched process ({@code remediate:} in agent.yaml):
 *
 * <ul>
 *   <li><b>restart</b> a process that died: only when no stop order covers this host, the log
 *       does not show a crash (error/fatal/killed/OOM lines), the last {@code clean_cycles}
 *       cycles were clean ("0 mismatches" since the last error or mismatch line), the run has
 *       hours left — computed the playbook's way, {@code run_hours - cycles / cycles_per_hour}
 *       in whole hours, passed as {@code LOCKSTEP_REMAINING_HOURS} — and fewer than
 *       {@code max_per_day} restarts were made in the last 24 hours;
 *   <li><b>unstick</b> a process whose log went stale: the same rules, then TERM, wait
 *       {@code term_grace}, KILL if it is still there, then the restart.
 * </ul>
 *
 * <p>Every action, and every time one was due but not taken, is reported as a {@link
 * Remediation} event (the collector notes it on the incident and audits it). A restart is
 * recorded in the state file before its command runs, so a crash of the agent mid-restart still
 * counts against the daily cap. Actions run on one thread of their own, never on the probe's.
 */
public final class Remediator implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Remediator.class.getName());
  private static final Duration DAY = Duration.ofDays(1);
  private static final int KEEP_OUTPUT = 2048;
  private static final int MAX_DETAIL = 1000;

  /** {@code remediate.restart}. */
  public record Restart(String command, int cleanCycles, int cyclesPerHour, int runHours, int maxPerDay,
      Duration timeout, Duration startWait, Duration settle) {
    public Restart {
      if (command == null || command.isBlank()) throw new IllegalArgumentException("restart.command is required");
      if (cleanCycles < 0) throw new IllegalArgumentException("restart.clean_cycles must be >= 0, got " + cleanCycles);
      if (cyclesPerHour <= 0) throw new IllegalArgumentException("restart.cycles_per_hour must be > 0, got " + cyclesPerHour);
      if (runHours <= 0) throw new IllegalArgumentException("restart.run_hours must be > 0, got " + runHours);
      if (maxPerDay <= 0) throw new IllegalArgumentException("restart.max_per_day must be > 0, got " + maxPerDay);
      if (settle == null || settle.isNegative()) throw new IllegalArgumentException("restart.settle must be >= 0");
    }

    /**
     * Without a settle: decided on the first probe that sees the process down. The default in
     * agent.yaml is 3 s, so the log tailer has read the process's last lines before the log is
     * judged.
     */
    public Restart(String command, int cleanCycles, int cyclesPerHour, int runHours, int maxPerDay,
        Duration timeout, Duration startWait) {
      this(command, cleanCycles, cyclesPerHour, runHours, maxPerDay, timeout, startWait, Duration.ZERO);
    }
  }

  /** {@code remediate.unstick}: TERM, wait termGrace, KILL, wait killGrace, then the restart. */
  public record Unstick(Duration termGrace, Duration killGrace) {}

  /** One watched process's remediation; unstick needs a restart. */
  public record Policy(String process, Restart restart, Unstick unstick) {
    public Policy {
      if (restart == null) throw new IllegalArgumentException("remediate of " + process + " needs restart");
    }
  }

  /** What the remediator needs from the agent. */
  public interface Host {
    /** The running instances of the watched process (pidfile or pattern). */
    List<ProcFs.Proc> find(String process);

    /** Why a stop covers this host right now ("stop order ORD-… covers this host"), or empty. */
    Optional<String> stopCovering();

    /** Spools the event (the collector gets it in order after the probe's sample). */
    void report(Remediation r);

    /**
     * Runs the restart command {@code start} starts (null: none started), awaited up to {@code
     * timeout}, unless a stop covers this host now; then returns why not. The decision to restart
     * was taken earlier (an unstick waits out its TERM and KILL graces, the worker may be busy
     * with another process): a stop that came meanwhile must win. The agent's implementation
     * decides and starts under its stop enactor's lock and registers the command there: a STOP
     * that arrives while it runs kills its process group and runs on_stop at once, which stops
     * what the restart started ({@code start} must therefore not wait on the stop).
     */
    default StopEnactor.Restart unlessStopped(Supplier<Hook.Running> start, Duration timeout) {
      Optional<String> why = stopCovering();
      if (why.isPresent()) return new StopEnactor.Restart(why, null);
      Hook.Running running = start.get();
      return new StopEnactor.Restart(Optional.empty(), running == null ? null : running.await(timeout));
    }
  }

  private final Map<String, Policy> policies;
  private final Path stateFile;
  private final Host host;
  private final Clock clock;
  private final ExecutorService worker;
  /** Per process: the death or staleness already decided on (so each is decided once). */
  private final Map<String, String> decided = new HashMap<>();
  /** Per process: decided as SKIPPED because of a stop; decided again once no stop covers it. */
  private final Map<String, Boolean> skippedForStop = new HashMap<>();
  /** Per process: the pid an unstick killed (its death is not a new one to restart). */
  private final Map<String, Long> killedByUs = new HashMap<>();
  /** Processes with an action running on the worker (decided again only once it is done). */
  private final java.util.Set<String> busy = new java.util.HashSet<>();
  /** Per process: the death seen and since when (decided once it is settle old). */
  private final Map<String, String> downSeen = new HashMap<>();
  private final Map<String, Instant> downSince = new HashMap<>();
  private final AtomicInteger actions = new AtomicInteger();

  public Remediator(List<Policy> policies, Path stateFile, Host host, Clock clock) {
    this.policies = new HashMap<>();
    for (Policy p : policies) this.policies.put(p.process(), p);
    this.stateFile = stateFile;
    this.host = host;
    this.clock = clock;
    this.worker = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "lockstep-remediate");
      t.setDaemon(true);
      return t;
    });
  }

  /** Actions taken or refused so far (tests, metrics). */
  public int decisions() {
    return actions.get();
  }

  /**
   * The process probe found {@code process} not running. {@code lastPid}/{@code lastSince}
   * identify the instance that died (0/null when the agent never saw it run: then nothing is
   * decided); {@code assessment}
   * is CLEAN, CRASH or empty (no log); {@code evidence} the log lines behind it.
   */
  public synchronized void processDown(String process, long lastPid, Instant lastSince, String assessment,
      List<String> evidence, LogStats stats, String logPath) {
    Policy p = policies.get(process);
    if (p == null || busy.contains(process)) return;
    // only a death this agent saw: a process it never saw running may not be started yet (and
    // an agent restarted after the death leaves it to the operator)
    if (lastPid <= 0) return;
    String death = "down:" + lastPid + "@" + (lastSince == null ? "-" : lastSince.getEpochSecond());
    if (killedByUs.getOrDefault(process, -1L) == lastPid) return; // an unstick's doing
    if (!again(process, death)) return;
    if (!death.equals(downSeen.get(process))) {
      downSeen.put(process, death);
      downSince.put(process, clock.instant());
    }
    if (Duration.between(downSince.get(process), clock.instant()).compareTo(p.restart().settle()) < 0) return;
    Decision d = decide(p, Action.RESTART, assessment, evidence, stats);
    record(process, death, d);
    Remediation.Builder r = base(p, Action.RESTART, d, lastPid, logPath);
    act(process, r, d, () -> restart(p, r, d, new StringBuilder()));
  }

  /** The staleness probe found {@code logPath} stale while {@code process} runs as {@code pid}. */
  public synchronized void logStale(String process, long pid, Instant since, String assessment, List<String> evidence,
      LogStats stats, String logPath) {
    Policy p = policies.get(process);
    if (p == null || p.unstick() == null || busy.contains(process)) return;
    String stale = "stale:" + pid + "@" + (since == null ? "-" : since.getEpochSecond());
    if (!again(process, stale)) return;
    Decision d = decide(p, Action.UNSTICK, assessment, evidence, stats);
    record(process, stale, d);
    Remediation.Builder r = base(p, Action.UNSTICK, d, pid, logPath);
    if (d.skip() == null) killedByUs.put(process, pid);
    act(process, r, d, () -> unstick(p, pid, r, d));
  }

  /** Reports a skipped decision now, or runs the action on the worker and reports its outcome. */
  private void act(String process, Remediation.Builder r, Decision d,
      java.util.function.Supplier<Remediation.Builder> action) {
    if (d.skip() != null) {
      report(r.setOutcome(Outcome.SKIPPED).setReason(d.skip()).build());
      return;
    }
    busy.add(process);
    worker.execute(() -> {
      try {
        report(action.get().build());
      } finally {
        done(process);
      }
    });
  }

  private synchronized void done(String process) {
    busy.remove(process);
  }

  /** A restart a stop held back: decided again once no stop covers this host. */
  private synchronized void skippedForStop(String process) {
    skippedForStop.put(process, true);
  }

  /** Whether this death/staleness needs a decision: new, or skipped for a stop that is gone. */
  private boolean again(String process, String what) {
    if (!what.equals(decided.get(process))) return true;
    return Boolean.TRUE.equals(skippedForStop.get(process)) && host.stopCovering().isEmpty();
  }

  private void record(String process, String what, Decision d) {
    decided.put(process, what);
    skippedForStop.put(process, d.forStop());
    actions.incrementAndGet();
  }

  record Decision(String skip, boolean forStop, int remainingHours, long cycles, int restartsToday, String why) {}

  private Decision decide(Policy p, Action action, String assessment, List<String> evidence, LogStats stats) {
    Restart r = p.restart();
    long cycles = stats == null ? 0 : stats.cycles();
    long elapsedHours = cycles / r.cyclesPerHour();
    int remaining = (int) Math.max(0, r.runHours() - elapsedHours);
    int today = restartsInLastDay().size();
    Optional<String> stop = host.stopCovering();
    if (stop.isPresent()) return new Decision(stop.get(), true, remaining, cycles, today, null);
    if ("CRASH".equals(assessment)) {
      return skip("the log shows a crash: " + String.join(" | ", evidence) + " — investigate before a restart",
          remaining, cycles, today);
    }
    if (stats == null || assessment == null || assessment.isEmpty()) {
      return skip("no log to judge a clean exit from (set log: on the process)", remaining, cycles, today);
    }
    if (stats.cleanStreak() < r.cleanCycles()) {
      return skip("only " + stats.cleanStreak() + " clean cycle(s) since the last error or mismatch line, "
          + r.cleanCycles() + " required", remaining, cycles, today);
    }
    if (remaining <= 0) {
      return skip("run complete: " + cycles + " cycles = " + elapsedHours + " h of " + r.runHours() + " h",
          remaining, cycles, today);
    }
    if (today >= r.maxPerDay()) {
      return skip(today + " restart(s) in the last 24 h (max_per_day " + r.maxPerDay() + ")", remaining, cycles, today);
    }
    String why = (action == Action.UNSTICK ? "log stale, process stuck; " : "clean exit; ") + "last "
        + stats.cleanStreak() + " cycle(s) clean, " + cycles + " cycles = " + elapsedHours + " h, " + remaining
        + " h of " + r.runHours() + " h remaining";
    return new Decision(null, false, remaining, cycles, today, why);
  }

  private static Decision skip(String why, int remaining, long cycles, int today) {
    return new Decision(why, false, remaining, cycles, today, null);
  }

  private static Remediation.Builder base(Policy p, Action action, Decision d, long pid, String logPath) {
    return Remediation.newBuilder().setProcess(p.process()).setAction(action).setRemainingHours(d.remainingHours())
        .setOldPid(Math.max(0, pid)).setRestartsToday(d.restartsToday()).setLogPath(logPath == null ? "" : logPath);
  }

  private Remediation.Builder unstick(Policy p, long pid, Remediation.Builder r, Decision d) {
    StringBuilder detail = new StringBuilder();
    Optional<ProcessHandle> h = ProcessHandle.of(pid);
    if (h.isPresent() && h.get().isAlive()) {
      long t0 = System.nanoTime();
      h.get().destroy();
      detail.append("TERM pid ").append(pid);
      if (waitGone(h.get(), p.unstick().termGrace())) {
        detail.append(", exited after ").append(ms(t0)).append(" ms");
      } else {
        h.get().destroyForcibly();
        detail.append(", still there after ").append(p.unstick().termGrace().toMillis()).append(" ms; KILL");
        if (!waitGone(h.get(), p.unstick().killGrace())) {
          return r.setOutcome(Outcome.FAILED).setReason(d.why())
              .setDetail(bound(detail.append("; pid ").append(pid).append(" would not die").toString()));
        }
        detail.append(", gone after ").append(ms(t0)).append(" ms");
      }
    } else {
      detail.append("pid ").append(pid).append(" already gone");
    }
    detail.append("; ");
    return restart(p, r, d, detail);
  }

  private Remediation.Builder restart(Policy p, Remediation.Builder r, Decision d, StringBuilder detail) {
    Restart rs = p.restart();
    int[] count = {0};
    IOException[] notRecorded = {null};
    StopEnactor.Restart ran = host.unlessStopped(() -> {
      try {
        count[0] = recordRestart(); // intent first: counts against the cap even if the agent dies now
      } catch (IOException e) {
        notRecorded[0] = e;
        return null;
      }
      Map<String, String> env = new HashMap<>();
      env.put("LOCKSTEP_REMAINING_HOURS", Integer.toString(d.remainingHours()));
      env.put("LOCKSTEP_PROCESS", p.process());
      env.put("LOCKSTEP_CYCLES", Long.toString(d.cycles()));
      env.put("LOCKSTEP_ACTION", r.getAction().name());
      LOG.log(System.Logger.Level.WARNING, "remediation: " + r.getAction() + " " + p.process() + ": " + d.why());
      return Hook.start(rs.command(), env, KEEP_OUTPUT);
    }, rs.timeout());
    if (ran.refused()) {
      skippedForStop(p.process());
      return r.setOutcome(Outcome.SKIPPED).setReason(ran.stop().get())
          .setDetail(bound(detail + "not restarted: the stop came after the decision"));
    }
    if (notRecorded[0] != null) {
      return r.setOutcome(Outcome.FAILED).setReason(d.why())
          .setDetail(bound(detail + "cannot record the restart in " + stateFile + ": " + notRecorded[0].getMessage()));
    }
    r.setRestartsToday(count[0]);
    Hook.Result run = ran.result();
    detail.append(run.describe());
    if (ran.stop().isPresent()) {
      // a STOP killed the command: decided again once no stop covers this host
      skippedForStop(p.process());
      return r.setOutcome(Outcome.FAILED).setReason(ran.stop().get())
          .setDetail(bound(detail + "; the stop killed the restart command, and its on_stop stops what it started"));
    }
    if (!run.ok()) {
      return r.setOutcome(Outcome.FAILED).setReason(d.why()).setDetail(bound(detail.toString()));
    }
    long deadline = System.nanoTime() + rs.startWait().toNanos();
    while (true) {
      List<ProcFs.Proc> now = host.find(p.process());
      if (!now.isEmpty()) {
        return r.setOutcome(Outcome.DONE).setReason(d.why()).setNewPid(now.get(0).pid())
            .setDetail(bound(detail.toString()));
      }
      if (System.nanoTime() > deadline) break;
      try {
        Thread.sleep(100); // polling /proc for the restarted process to appear
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return r.setOutcome(Outcome.FAILED).setReason(d.why()).setDetail(bound(detail + "; " + p.process()
        + " not running " + rs.startWait().toMillis() + " ms after the command"));
  }

  private void report(Remediation r) {
    LOG.log(r.getOutcome() == Outcome.DONE ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
        "remediation: " + r.getAction() + " " + r.getOutcome() + " " + r.getProcess() + ": " + r.getReason()
            + (r.getDetail().isEmpty() ? "" : " (" + r.getDetail() + ")"));
    try {
      host.report(r);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "remediation: cannot report " + r.getProcess() + ": " + e);
    }
  }

  private static boolean waitGone(ProcessHandle h, Duration grace) {
    try {
      h.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return !h.isAlive();
    } catch (java.util.concurrent.ExecutionException e) {
      return !h.isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !h.isAlive();
    }
  }

  private static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private static String bound(String s) {
    return s.length() <= MAX_DETAIL ? s : s.substring(0, MAX_DETAIL - 3) + "...";
  }

  // ------------------------------------------------------------------ the daily cap, on disk

  /**
   * Guards the state file. Not this object's monitor: a restart records itself under the stop
   * enactor's lock, while {@code processDown} holds this object's monitor and asks the stop.
   */
  private final Object capFile = new Object();

  /** Restart times in the last 24 h, from the state file (one epoch-millis per line). */
  List<Instant> restartsInLastDay() {
    synchronized (capFile) {
      return readRestartsInLastDay();
    }
  }

  private List<Instant> readRestartsInLastDay() {
    List<Instant> out = new ArrayList<>();
    Instant since = clock.instant().minus(DAY);
    try {
      for (String line : Files.readAllLines(stateFile, StandardCharsets.UTF_8)) {
        try {
          Instant at = Instant.ofEpochMilli(Long.parseLong(line.trim()));
          if (at.isAfter(since)) out.add(at);
        } catch (NumberFormatException e) {
          // a torn or foreign line: ignored
        }
      }
    } catch (NoSuchFileException e) {
      return out;
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "remediation: cannot read " + stateFile + ": " + e);
    }
    return out;
  }

  /** Adds now to the state file (atomically, fsync'd); returns the restarts in the last 24 h. */
  private int recordRestart() throws IOException {
    synchronized (capFile) {
      List<Instant> kept = readRestartsInLastDay();
      kept.add(clock.instant());
      StringBuilder sb = new StringBuilder();
      for (Instant i : kept) sb.append(i.toEpochMilli()).append('\n');
      AtomicFiles.write(stateFile, sb.toString().getBytes(StandardCharsets.UTF_8));
      return kept.size();
    }
  }

  @Override
  public void close() {
    // a restart command in flight finishes (up to 5 s): interrupting it would kill the process
    // group it is starting
    worker.shutdown();
    try {
      if (!worker.awaitTermination(5, TimeUnit.SECONDS)) worker.shutdownNow();
    } catch (InterruptedException e) {
      worker.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
