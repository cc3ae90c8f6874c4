package dev.lockstep.agent.probe;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.internal.ProtoTime;
import dev.lockstep.agent.internal.Text;
import dev.lockstep.agent.logs.LogStats;
import dev.lockstep.agent.logs.LogTailer;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.agent.spool.Spool;
import dev.lockstep.proto.lite.v1.DiskUsage;
import dev.lockstep.proto.lite.v1.Event;
import dev.lockstep.proto.lite.v1.HealthSample;
import dev.lockstep.proto.lite.v1.HealthSample.Level;
import dev.lockstep.proto.lite.v1.HealthSample.Probe;
import dev.lockstep.proto.lite.v1.LogStaleness;
import dev.lockstep.proto.lite.v1.ProcessState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The playbook's health checks, run together on each probe tick: watched processes ("shadow
 * process died"), disk usage ("disk full") and log staleness ("stale logs"). A sample is spooled
 * when a probe's level changes and otherwise every heartbeat. Time comes from the injected Clock.
 */
public final class HealthProbes {
  private static final System.Logger LOG = System.getLogger(HealthProbes.class.getName());
  private static final int SNAPSHOT_BYTES = 4096;

  private record Last(Level level, Instant at) {}

  private final AgentConfig config;
  private final Function<String, LogStats> logStats;
  private final Spool spool;
  private final AgentMetrics metrics;
  private final Clock clock;
  private final Runnable onDiskCritical;
  private final Map<String, Last> last = new HashMap<>();
  private final Map<String, ProcessState> lastRunning = new HashMap<>();
  private final Map<String, Pattern> patterns = new HashMap<>();
  private volatile dev.lockstep.agent.remediate.Remediator remediator;
  /** Remediation decisions of this run, made after its samples are spooled (so they follow them). */
  private final List<Runnable> remediations = new ArrayList<>();

  public HealthProbes(AgentConfig config, Function<String, LogStats> logStats, Spool spool, AgentMetrics metrics,
      Clock clock, Runnable onDiskCritical) {
    this.config = config;
    this.logStats = logStats;
    this.spool = spool;
    this.metrics = metrics;
    this.clock = clock;
    this.onDiskCritical = onDiskCritical;
    for (AgentConfig.ProcessWatch w : config.processes()) {
      if (w.pattern() != null && !w.pattern().isBlank()) {
        patterns.put(w.name(), Pattern.compile(w.pattern()));
      }
    }
  }

  /** Processes with {@code remediate:} are handed to {@code r} when they die or their log goes stale. */
  public void remediateWith(dev.lockstep.agent.remediate.Remediator r) {
    this.remediator = r;
  }

  /** Runs every probe once. Never throws. */
  public void run() {
    remediations.clear();
    List<HealthSample> samples = new ArrayList<>();
    for (AgentConfig.ProcessWatch w : config.processes()) {
      guarded("process", () -> samples.add(process(w)));
    }
    for (Path p : config.disk().paths()) {
      guarded("disk", () -> samples.add(disk(p)));
    }
    for (AgentConfig.LogWatch l : config.logs()) {
      if (l.staleness()) {
        guarded("staleness", () -> staleness(l).ifPresent(samples::add));
      }
    }
    Instant now = clock.instant();
    for (HealthSample s : samples) {
      String key = s.getProbe() + "\u0000" + s.getTarget();
      metrics.probeLevel.labelValues(s.getProbe().name().toLowerCase(Locale.ROOT), s.getTarget())
          .set(s.getLevel() == Level.OK ? 0 : s.getLevel() == Level.WARN ? 1 : 2);
      Last l = last.get(key);
      boolean changed = l == null || l.level() != s.getLevel();
      if (!changed && Duration.between(l.at(), now).compareTo(config.probes().heartbeat()) < 0) {
        continue;
      }
      try {
        Spool.Appended a = spool.append(Event.newBuilder().setObservedAt(ProtoTime.of(now)).setHealth(s).build());
        if (a.accepted() || a.admission() == Spool.Admission.DROPPED) {
          last.put(key, new Last(s.getLevel(), now));
        }
        if (changed && s.getLevel() != Level.OK) {
          LOG.log(System.Logger.Level.WARNING, "health: " + s.getSummary());
        }
      } catch (IOException e) {
        metrics.errors.labelValues("probe").inc();
      }
    }
    for (Runnable r : remediations) {
      guarded("remediation", r::run);
    }
  }

  private void guarded(String what, ThrowingRunnable r) {
    try {
      r.run();
    } catch (IOException | RuntimeException e) {
      metrics.errors.labelValues("probe").inc();
      LOG.log(System.Logger.Level.WARNING, "probe " + what + ": " + e);
    }
  }

  private interface ThrowingRunnable {
    void run() throws IOException;
  }

  /** Pids of a watched process right now: from its pidfile or its command-line pattern. */
  public List<ProcFs.Proc> find(AgentConfig.ProcessWatch w) {
    if (w.pidfile() != null) {
      try {
        long pid = Long.parseLong(Files.readString(w.pidfile()).trim());
        return ProcFs.read(pid).filter(p -> p.state() != 'Z').map(List::of).orElse(List.of());
      } catch (IOException | NumberFormatException e) {
        return List.of();
      }
    }
    return ProcFs.matching(patterns.get(w.name())).stream().filter(p -> p.state() != 'Z').toList();
  }

  private HealthSample process(AgentConfig.ProcessWatch w) {
    List<ProcFs.Proc> found = find(w);
    LogStats stats = w.log() == null ? null : logStats.apply(w.log());
    ProcessState.Builder ps = ProcessState.newBuilder();
    if (stats != null) {
      ps.setCycles(stats.cycles()).setCleanCycles(stats.cleanCycles());
    }
    String target = w.name();
    if (!found.isEmpty()) {
      ProcFs.Proc p = found.get(0);
      Instant since = p.startedAt();
      ps.setRunning(true).setPid(p.pid()).setSince(ProtoTime.of(since));
      lastRunning.put(w.name(), ps.build());
      return HealthSample.newBuilder().setProbe(Probe.PROCESS).setTarget(target).setLevel(Level.OK).setProcess(ps)
          .setSummary("process " + w.name() + " running, pid " + p.pid() + " since " + since
              + (stats == null ? "" : ", " + stats.cycles() + " cycles (" + stats.cleanCycles() + " clean)"))
          .build();
    }
    ProcessState before = lastRunning.get(w.name());
    if (before != null) {
      ps.setPid(before.getPid()).setSince(before.getSince());
    }
    String assessment = "";
    List<String> evidence = List.of();
    if (stats != null) {
      List<String> errors = stats.recentErrors();
      if (!errors.isEmpty()) {
        assessment = "CRASH";
        evidence = errors.subList(Math.max(0, errors.size() - 5), errors.size());
      } else {
        assessment = "CLEAN";
        List<String> recent = stats.recentLines();
        evidence = recent.subList(Math.max(0, recent.size() - 3), recent.size());
      }
    }
    ps.setRunning(false).setExitAssessment(assessment).addAllEvidenceLines(evidence);
    dev.lockstep.agent.remediate.Remediator r = remediator;
    if (r != null && w.remediate() != null) {
      long lastPid = before == null ? 0 : before.getPid();
      Instant lastSince = before == null || !before.hasSince() ? null : ProtoTime.toInstant(before.getSince());
      String a = assessment;
      List<String> ev = evidence;
      remediations.add(() -> r.processDown(w.name(), lastPid, lastSince, a, ev, stats, w.log()));
    }
    return HealthSample.newBuilder().setProbe(Probe.PROCESS).setTarget(target).setLevel(Level.CRITICAL).setProcess(ps)
        .setSummary("process " + w.name() + " not running" + (assessment.isEmpty() ? "" : "; log says "
            + (assessment.equals("CRASH") ? "crash: " + String.join(" | ", evidence) : "clean finish"))
            + (stats == null ? "" : "; " + stats.cycles() + " cycles (" + stats.cleanCycles() + " clean)"))
        .build();
  }

  private HealthSample disk(Path path) throws IOException {
    DiskProbe.Usage u = DiskProbe.usage(path);
    AgentConfig.Disk d = config.disk();
    Level level = u.usedPercent() > d.criticalPercent() ? Level.CRITICAL
        : u.usedPercent() > d.warnPercent() ? Level.WARN : Level.OK;
    if (level == Level.CRITICAL) {
      onDiskCritical.run();
    }
    String summary = "disk " + path + " " + Text.oneDecimal(u.usedPercent()) + "% used";
    if (level != Level.OK) {
      summary += " (" + (level == Level.CRITICAL ? "critical" : "warn") + " > "
          + (level == Level.CRITICAL ? d.criticalPercent() : d.warnPercent()) + "%)";
    }
    return HealthSample.newBuilder().setProbe(Probe.DISK).setTarget(path.toString()).setLevel(level).setSummary(summary)
        .setDisk(DiskUsage.newBuilder().setPath(path.toString()).setTotalBytes(u.totalBytes()).setUsedBytes(u.usedBytes())
            .setAvailableBytes(u.availableBytes()).setUsedPercent(u.usedPercent()))
        .build();
  }

  private Optional<HealthSample> staleness(AgentConfig.LogWatch l) throws IOException {
    Path newest = null;
    Instant mtime = null;
    for (Path p : LogTailer.expand(l.path())) {
      Instant m = Files.getLastModifiedTime(p).toInstant();
      if (mtime == null || m.isAfter(mtime)) {
        mtime = m;
        newest = p;
      }
    }
    if (newest == null) {
      return Optional.empty();
    }
    Duration age = Duration.between(mtime, clock.instant());
    if (age.isNegative()) {
      age = Duration.ZERO;
    }
    AgentConfig.Staleness s = config.staleness();
    Level level = age.compareTo(s.criticalAfter()) >= 0 ? Level.CRITICAL
        : age.compareTo(s.warnAfter()) >= 0 ? Level.WARN : Level.OK;
    LogStaleness.Builder st = LogStaleness.newBuilder().setPath(newest.toString()).setStaleSeconds(age.toSeconds());
    String snapshotNote = "";
    if (level != Level.OK) {
      for (AgentConfig.ProcessWatch w : config.processes()) {
        if (l.path().equals(w.log())) {
          List<ProcFs.Proc> found = find(w);
          if (!found.isEmpty()) {
            st.setProcessSnapshot(ProcFs.snapshot(found.get(0).pid(), clock.instant(), SNAPSHOT_BYTES));
            snapshotNote = "; process " + w.name() + " pid " + found.get(0).pid() + " exists (snapshot attached)";
            dev.lockstep.agent.remediate.Remediator r = remediator;
            if (r != null && w.remediate() != null && level == Level.CRITICAL) {
              ProcFs.Proc stuck = found.get(0);
              LogStats stats = logStats.apply(w.log());
              List<String> errors = stats == null ? List.of() : stats.recentErrors();
              String assessment = stats == null ? "" : errors.isEmpty() ? "CLEAN" : "CRASH";
              remediations.add(() -> r.logStale(w.name(), stuck.pid(), stuck.startedAt(), assessment,
                  errors.subList(Math.max(0, errors.size() - 5), errors.size()), stats, l.path()));
            }
          } else {
            snapshotNote = "; process " + w.name() + " not running";
          }
        }
      }
    }
    String summary = level == Level.OK ? "log " + newest + " updated " + age.toSeconds() + " s ago"
        : "log " + newest + " stale for " + age.toSeconds() + " s (" + (level == Level.CRITICAL ? "critical" : "warn")
        + " after " + (level == Level.CRITICAL ? s.criticalAfter() : s.warnAfter()).toSeconds() + " s)" + snapshotNote;
    return Optional.of(HealthSample.newBuilder().setProbe(Probe.LOG_STALENESS).setTarget(l.path()).setLevel(level)
        .setSummary(summary).setStaleness(st).build());
  }
}
