package dev.lockstep.agent.config;

import dev.lockstep.golden.GoldenConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Everything one agent needs to run, as an immutable record tree. Loaded from {@code agent.yaml}
 * with {@link #load(Path)} or built in code from {@link #defaults(String, String, Path)} plus the
 * {@code with…} copy methods. Invariant: a config that {@link #validate()} accepts can be started.
 */
public record AgentConfig(
    String agentId,
    Collector collector,
    Map<String, String> labels,
    Path stateDir,
    GoldenWatch golden,
    List<LogWatch> logs,
    List<ProcessWatch> processes,
    Disk disk,
    Staleness staleness,
    Probes probes,
    Stop stop,
    Spool spool,
    Retention retention,
    Metrics metrics,
    Evidence evidence,
    GoldenConfig goldenConfig) {

  public AgentConfig {
    goldenConfig = goldenConfig == null ? GoldenConfig.DEFAULT : goldenConfig;
    labels = Map.copyOf(labels);
    logs = List.copyOf(logs);
    processes = List.copyOf(processes);
  }

  /**
   * Where the collector is and how to reach it. {@code target} is one HOST:PORT, or several
   * separated by commas (collectors of one cluster): after a stream ends the agent reconnects to
   * the next one. {@code insecure} means plaintext gRPC.
   */
  public record Collector(
      String target,
      boolean insecure,
      Path caFile,
      Path certFile,
      Path keyFile,
      Duration reconnectInitial,
      Duration reconnectMax) {
    /** Every collector address, in the order they are tried. */
    public List<String> targets() {
      List<String> out = new ArrayList<>();
      if (target == null) return out;
      for (String t : target.split(",")) {
        if (!t.isBlank()) out.add(t.trim());
      }
      return out;
    }
  }

  /**
   * Golden directories (paths, may contain glob characters such as {@code /tmp/sim_*}/golden),
   * the file name glob, how long size and mtime must stay unchanged before a file counts as
   * complete, the periodic rescan, and how long a file that fails to parse must stay unchanged
   * before it is reported as malformed (a writer may still be appending).
   */
  public record GoldenWatch(
      List<String> dirs,
      String fileGlob,
      Duration settle,
      Duration rescanInterval,
      Duration malformedGrace,
      StartAt startAt) {
    public GoldenWatch {
      dirs = List.copyOf(dirs);
      startAt = startAt == null ? StartAt.BEGINNING : startAt;
    }

    /** Files already in the directories at the first start are reported (start_at: beginning). */
    public GoldenWatch(List<String> dirs, String fileGlob, Duration settle, Duration rescanInterval,
        Duration malformedGrace) {
      this(dirs, fileGlob, settle, rescanInterval, malformedGrace, StartAt.BEGINNING);
    }
  }

  /**
   * Where reading starts for what a log file (or golden directory) already holds when the agent
   * first starts with it: at its end (history is never reported) or at its beginning. Anything
   * that appears later is read from its beginning.
   */
  public enum StartAt { END, BEGINNING }

  /** What a log rule reports; mirrors the wire's LogMatch.Kind. */
  public enum RuleKind { MISMATCH_COUNT, CLEAN_CYCLE, ERROR, CYCLE, CUSTOM }

  /** A regex over each log line; {@code countGroup} (1-based, 0 = none) holds a count. */
  public record LogRule(String name, String regex, RuleKind kind, int countGroup) {}

  /** The playbook's patterns, in the order they are tried (first match wins per line). */
  public static final List<LogRule> DEFAULT_RULES = List.of(
      new LogRule("mismatch_errors", "CRITICAL: (\\d+) mismatch errors found", RuleKind.MISMATCH_COUNT, 1),
      new LogRule("mismatches", "([1-9][0-9]*) mismatches", RuleKind.MISMATCH_COUNT, 1),
      new LogRule("clean_cycle", "\\b0 mismatches", RuleKind.CLEAN_CYCLE, 0),
      new LogRule("error", "(?i)error|fatal|killed|oom", RuleKind.ERROR, 0),
      new LogRule("cycle", "Running cycle", RuleKind.CYCLE, 0));

  /** Default pattern for the run id nearest to a log line. */
  public static final String DEFAULT_RUN_ID_REGEX = "run_id[=:\\s\"]+([A-Za-z0-9._-]+)";

  /**
   * A watched log (path may be a glob: every match is tailed). {@code rules} are tried in order;
   * {@code rotatedSuffixes} name where copytruncate/rename rotation puts the previous content.
   */
  public record LogWatch(
      String path, List<LogRule> rules, List<String> rotatedSuffixes, String runIdRegex,
      boolean staleness, StartAt startAt) {
    public LogWatch {
      rules = List.copyOf(rules);
      rotatedSuffixes = List.copyOf(rotatedSuffixes);
      startAt = startAt == null ? StartAt.END : startAt;
    }

    /** A log whose lines already there at the first start are not read (start_at: end). */
    public LogWatch(String path, List<LogRule> rules, List<String> rotatedSuffixes, String runIdRegex,
        boolean staleness) {
      this(path, rules, rotatedSuffixes, runIdRegex, staleness, StartAt.END);
    }

    /** A log watched with the default rules (start_at: end). */
    public static LogWatch of(String path) {
      return new LogWatch(path, DEFAULT_RULES, List.of(".1"), DEFAULT_RUN_ID_REGEX, true);
    }

    public LogWatch withStartAt(StartAt s) {
      return new LogWatch(path, rules, rotatedSuffixes, runIdRegex, staleness, s);
    }
  }

  /**
   * A watched process: by command-line regex over /proc/PID/cmdline (like {@code pgrep -f}) or by
   * pidfile. {@code log} names the log (path or glob as in {@code logs}) that tells how it ended.
   */
  public record ProcessWatch(String name, String pattern, Path pidfile, String log,
      dev.lockstep.agent.remediate.Remediator.Policy remediate) {
    public ProcessWatch(String name, String pattern, Path pidfile, String log) {
      this(name, pattern, pidfile, log, null);
    }
  }

  /** Disk paths and thresholds in percent used; critical means used > criticalPercent. */
  public record Disk(List<Path> paths, int warnPercent, int criticalPercent) {
    public Disk {
      paths = List.copyOf(paths);
    }
  }

  /** A log unmodified for warnAfter is WARN, for criticalAfter CRITICAL (P2). */
  public record Staleness(Duration warnAfter, Duration criticalAfter) {}

  /** How often probes run, and how often an unchanged state is re-reported. */
  public record Probes(Duration interval, Duration heartbeat) {}

  /**
   * The stop file and hooks (run with {@code /bin/sh -c}); null hook = none. {@code failsafeAfter}
   * null or zero = off: otherwise the agent stops on its own after that long without a collector.
   */
  public record Stop(
      Path file,
      String onStop,
      String onResume,
      String verify,
      Duration hookTimeout,
      int hookOutputBytes,
      Duration failsafeAfter) {}

  /** The durable event spool and its soft cap in bytes. */
  public record Spool(Path dir, long capBytes) {}

  /** Archive golden files older than archiveAfter into tar.gz under archiveDir. */
  public record Retention(boolean enabled, Duration archiveAfter, Path archiveDir, Duration interval) {}

  /** Prometheus endpoint; port 0 = off. */
  public record Metrics(int port, String bind) {}

  /** Bounds on evidence sent for one capture request. */
  public record Evidence(long maxBytes, int defaultLogTailLines) {}

  // ------------------------------------------------------------------------------------------

  /**
   * A config with every default, watching nothing yet. Plaintext gRPC ({@code insecure = true}),
   * as used on loopback by tests and the demo; YAML files default to TLS.
   */
  public static AgentConfig defaults(String agentId, String collectorTarget, Path stateDir) {
    return new AgentConfig(
        agentId,
        new Collector(collectorTarget, true, null, null, null, Duration.ofSeconds(1), Duration.ofSeconds(120)),
        Map.of(),
        stateDir,
        new GoldenWatch(List.of(), "*.json", Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(30)),
        List.of(),
        List.of(),
        new Disk(List.of(), 85, 95),
        new Staleness(Duration.ofMinutes(10), Duration.ofMinutes(30)),
        new Probes(Duration.ofSeconds(15), Duration.ofSeconds(60)),
        new Stop(stateDir.resolve("emergency-stop.json"), null, null, null, Duration.ofSeconds(60), 16 * 1024, null),
        new Spool(stateDir.resolve("spool"), 256L << 20),
        new Retention(false, Duration.ofDays(1), stateDir.resolve("archive"), Duration.ofHours(1)),
        new Metrics(0, "127.0.0.1"),
        new Evidence(64L << 20, 200),
        GoldenConfig.DEFAULT);
  }

  /** Reads and validates an agent.yaml; {@code ${env:NAME}} values come from the environment. */
  public static AgentConfig load(Path file) throws ConfigException {
    return ConfigFile.load(file, System.getenv());
  }

  /** Reads and validates an agent.yaml with {@code ${env:NAME}} values taken from {@code env}. */
  public static AgentConfig load(Path file, java.util.Map<String, String> env) throws ConfigException {
    return ConfigFile.load(file, env);
  }

  /** Checks every key; throws with a message naming the first bad key. */
  public AgentConfig validate() throws ConfigException {
    List<String> errors = problems();
    if (!errors.isEmpty()) {
      throw new ConfigException("agent.yaml: " + errors.get(0));
    }
    return this;
  }

  /** Every problem, each naming its key; empty when the config is usable. */
  public List<String> problems() {
    List<String> p = new ArrayList<>();
    if (agentId == null || !agentId.matches("[A-Za-z0-9._:-]{1,128}")) {
      p.add("agent_id must be 1-128 characters of [A-Za-z0-9._:-], got " + quote(agentId));
    }
    if (collector.target() == null || collector.target().isBlank()) {
      p.add("collector.address is required (HOST:PORT)");
    } else {
      for (String t : collector.targets()) {
        if (!t.matches("[^\\s,]+:\\d{1,5}") && !t.contains("///")) {
          p.add("collector.address must be HOST:PORT (or several, comma-separated), got " + quote(t));
        }
      }
    }
    if (!collector.insecure()) {
      List<String> missing = new ArrayList<>();
      if (collector.caFile() == null) missing.add("collector.tls.ca_file (--ca)");
      if (collector.certFile() == null) missing.add("collector.tls.cert_file (--cert)");
      if (collector.keyFile() == null) missing.add("collector.tls.key_file (--key)");
      if (!missing.isEmpty()) {
        p.add("no TLS configured: missing " + String.join(", ", missing)
            + "; plaintext only with collector.insecure: true or --insecure");
      }
    }
    positive(p, "collector.reconnect_initial", collector.reconnectInitial());
    positive(p, "collector.reconnect_max", collector.reconnectMax());
    if (stateDir == null) {
      p.add("state_dir is required");
    }
    for (int i = 0; i < golden.dirs().size(); i++) {
      if (golden.dirs().get(i) == null || golden.dirs().get(i).isBlank()) {
        p.add("golden.dirs[" + i + "] must not be empty");
      }
    }
    if (golden.fileGlob() == null || golden.fileGlob().isBlank()) {
      p.add("golden.file_glob must not be empty");
    }
    positive(p, "golden.settle", golden.settle());
    positive(p, "golden.rescan_interval", golden.rescanInterval());
    positive(p, "golden.malformed_grace", golden.malformedGrace());
    for (int i = 0; i < logs.size(); i++) {
      LogWatch l = logs.get(i);
      String key = "logs[" + i + "]";
      if (l.path() == null || l.path().isBlank()) {
        p.add(key + ".path is required");
      }
      for (int r = 0; r < l.rules().size(); r++) {
        LogRule rule = l.rules().get(r);
        String rk = key + ".rules[" + r + "]";
        if (rule.name() == null || rule.name().isBlank()) {
          p.add(rk + ".name is required");
        }
        int groups = regexGroups(p, rk + ".regex", rule.regex());
        if (rule.countGroup() < 0 || (groups >= 0 && rule.countGroup() > groups)) {
          p.add(rk + ".count_group must be between 0 and " + Math.max(groups, 0) + ", got " + rule.countGroup());
        }
        if (rule.kind() == null) {
          p.add(rk + ".kind is required");
        }
      }
      regexGroups(p, key + ".run_id_regex", l.runIdRegex());
    }
    for (int i = 0; i < processes.size(); i++) {
      ProcessWatch w = processes.get(i);
      String key = "processes[" + i + "]";
      if (w.name() == null || w.name().isBlank()) {
        p.add(key + ".name is required");
      }
      if ((w.pattern() == null || w.pattern().isBlank()) == (w.pidfile() == null)) {
        p.add(key + " needs exactly one of pattern or pidfile");
      }
      if (w.pattern() != null && !w.pattern().isBlank()) {
        regexGroups(p, key + ".pattern", w.pattern());
      }
    }
    percent(p, "disk.warn_percent", disk.warnPercent());
    percent(p, "disk.critical_percent", disk.criticalPercent());
    if (disk.warnPercent() > disk.criticalPercent()) {
      p.add("disk.warn_percent must not exceed disk.critical_percent, got " + disk.warnPercent() + " > " + disk.criticalPercent());
    }
    positive(p, "staleness.warn_after", staleness.warnAfter());
    positive(p, "staleness.critical_after", staleness.criticalAfter());
    if (staleness.warnAfter() != null && staleness.criticalAfter() != null
        && staleness.warnAfter().compareTo(staleness.criticalAfter()) > 0) {
      p.add("staleness.warn_after must not exceed staleness.critical_after");
    }
    positive(p, "probes.interval", probes.interval());
    positive(p, "probes.heartbeat", probes.heartbeat());
    if (stop.file() == null) {
      p.add("stop.file is required");
    }
    positive(p, "stop.hook_timeout", stop.hookTimeout());
    if (stop.hookOutputBytes() < 256) {
      p.add("stop.hook_output_bytes must be at least 256, got " + stop.hookOutputBytes());
    }
    if (stop.failsafeAfter() != null && stop.failsafeAfter().isNegative()) {
      p.add("stop.failsafe_after must not be negative, got " + stop.failsafeAfter());
    }
    if (spool.dir() == null) {
      p.add("spool.dir is required");
    }
    if (spool.capBytes() < 64 * 1024) {
      p.add("spool.cap must be at least 64KiB, got " + spool.capBytes() + " bytes");
    }
    positive(p, "retention.archive_after", retention.archiveAfter());
    positive(p, "retention.interval", retention.interval());
    if (retention.enabled() && retention.archiveDir() == null) {
      p.add("retention.archive_dir is required when retention.enabled is true");
    }
    if (metrics.port() < 0 || metrics.port() > 65535) {
      p.add("metrics.port must be between 0 and 65535, got " + metrics.port());
    }
    if (evidence.maxBytes() < 1024) {
      p.add("evidence.max_bytes must be at least 1KiB, got " + evidence.maxBytes());
    }
    if (evidence.defaultLogTailLines() < 1) {
      p.add("evidence.log_tail_lines must be at least 1, got " + evidence.defaultLogTailLines());
    }
    return p;
  }

  /**
   * What the agent starts with but should be told: labels over the collector's limits
   * (docs/protocol.md, section 11), which it bounds instead of keeping them whole. Not problems:
   * an agent that does not start cannot be stopped.
   */
  public List<String> warnings() {
    return dev.lockstep.golden.LabelLimits.over(labels);
  }

  private static void positive(List<String> p, String key, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      p.add(key + " must be a positive duration, got " + d);
    }
  }

  private static void percent(List<String> p, String key, int v) {
    if (v < 1 || v > 100) {
      p.add(key + " must be between 1 and 100, got " + v);
    }
  }

  private static int regexGroups(List<String> p, String key, String regex) {
    if (regex == null || regex.isEmpty()) {
      p.add(key + " is required");
      return -1;
    }
    try {
      return Pattern.compile(regex).matcher("").groupCount();
    } catch (PatternSyntaxException e) {
      p.add(key + " is not a valid regex: " + e.getDescription() + " near index " + e.getIndex());
      return -1;
    }
  }

  private static String quote(String s) {
    return s == null ? "nothing" : "\"" + s + "\"";
  }

  // ------------------------------------------------------------------------------ copy methods

  public AgentConfig withCollector(Collector c) {
    return new AgentConfig(agentId, c, labels, stateDir, golden, logs, processes, disk, staleness, probes, stop, spool, retention, metrics, evidence, goldenConfig);
  }

  public AgentConfig withCollectorTarget(String target) {
    return withCollector(new Collector(target, collector.insecure(), collector.caFile(), collector.certFile(), collector.keyFile(), collector.reconnectInitial(), collector.reconnectMax()));
  }

  /** Sets the mTLS files (null keeps the current one). */
  public AgentConfig withTlsFiles(Path ca, Path cert, Path key) {
    return withCollector(new Collector(collector.target(), collector.insecure(),
        ca != null ? ca : collector.caFile(), cert != null ? cert : collector.certFile(),
        key != null ? key : collector.keyFile(), collector.reconnectInitial(), collector.reconnectMax()));
  }

  public AgentConfig withInsecure(boolean insecure) {
    return withCollector(new Collector(collector.target(), insecure, collector.caFile(), collector.certFile(), collector.keyFile(), collector.reconnectInitial(), collector.reconnectMax()));
  }

  public AgentConfig withReconnect(Duration initial, Duration max) {
    return withCollector(new Collector(collector.target(), collector.insecure(), collector.caFile(), collector.certFile(), collector.keyFile(), initial, max));
  }

  public AgentConfig withAgentId(String id) {
    return new AgentConfig(id, collector, labels, stateDir, golden, logs, processes, disk, staleness, probes, stop, spool, retention, metrics, evidence, goldenConfig);
  }

  public AgentConfig withLabels(Map<String, String> l) {
    return new AgentConfig(agentId, collector, l, stateDir, golden, logs, processes, disk, staleness, probes, stop, spool, retention, metrics, evidence, goldenConfig);
  }

  /** Adds or replaces one label. */
  public AgentConfig withLabel(String key, String value) {
    Map<String, String> l = new LinkedHashMap<>(labels);
    l.put(key, value);
    return withLabels(l);
  }

  /**
   * Moves the state dir; the spool dir, stop file and archive dir follow it when they were the
   * defaults under the old state dir.
   */
  public AgentConfig withStateDir(Path dir) {
    Path oldDefaultStop = stateDir.resolve("emergency-stop.json");
    Stop s = stop.file().equals(oldDefaultStop)
        ? new Stop(dir.resolve("emergency-stop.json"), stop.onStop(), stop.onResume(), stop.verify(), stop.hookTimeout(), stop.hookOutputBytes(), stop.failsafeAfter())
        : stop;
    Spool sp = spool.dir().equals(stateDir.resolve("spool")) ? new Spool(dir.resolve("spool"), spool.capBytes()) : spool;
    Retention r = Objects.equals(retention.archiveDir(), stateDir.resolve("archive"))
        ? new Retention(retention.enabled(), retention.archiveAfter(), dir.resolve("archive"), retention.interval())
        : retention;
    return new AgentConfig(agentId, collector, labels, dir, golden, logs, processes, disk, staleness, probes, s, sp, r, metrics, evidence, goldenConfig);
  }

  public AgentConfig withGolden(GoldenWatch g) {
    return new AgentConfig(agentId, collector, labels, stateDir, g, logs, processes, disk, staleness, probes, stop, spool, retention, metrics, evidence, goldenConfig);
  }

  /** How golden files are read and hashed; must match the collector's {@code golden:} section. */
  public AgentConfig withGoldenConfig(GoldenConfig g) {
    return new AgentConfig(agentId, collector, labels, stateDir, golden, logs, processes, disk, staleness, probes, stop, spool, retention, metrics, evidence, g);
  }

  public AgentConfig withGoldenDirs(List<String> dirs) {
    return withGolden(new GoldenWatch(dirs, golden.fileGlob(), golden.settle(), golden.rescanInterval(), golden.malformedGrace(), golden.startAt()));
  }

  public AgentConfig withGoldenDirs(Path... dirs) {
    List<String> d = new ArrayList<>();
    for (Path p : dirs) {
      d.add(p.toString());
    }
    return withGoldenDirs(d);
  }

  public AgentConfig withGoldenSettle(Duration settle) {
    return withGolden(new GoldenWatch(golden.dirs(), golden.fileGlob(), settle, golden.rescanInterval(), golden.malformedGrace(), golden.startAt()));
  }

  public AgentConfig withLogs(List<LogWatch> l) {
    return new AgentConfig(agentId, collector, labels, stateDir, golden, l, processes, disk, staleness, probes, stop, spool, retention, metrics, evidence, goldenConfig);
  }

  public AgentConfig withProcesses(List<ProcessWatch> p) {
    return new AgentConfig(agentId, collector, labels, stateDir, golden, logs, p, disk, staleness, probes, stop, spool, retention, metrics, evidence, goldenConfig);
  }

  public AgentConfig withDisk(Disk d) {
    return new AgentConfig(agentId, collector, labels, stateDir, golden, logs, processes, d, staleness, probes, stop, spool, retention, metrics, evidence, goldenConfig);
  }

  public AgentConfig withStaleness(Staleness s) {
    return new AgentConfig(agentId, collector, labels, stateDir, golden, logs, processes, disk, s, probes, stop, spool, retention, metrics, evidence, goldenConfig);
  }

  public AgentConfig withProbes(Probes pr) {
    return new AgentConfig(agentId, collector, labels, stateDir, golden, logs, processes, disk, staleness, pr, stop, spool, retention, metrics, evidence, goldenConfig);
  }

  public AgentConfig withStop(Stop s) {
    return new AgentConfig(agentId, collector, labels, stateDir, golden, logs, processes, disk, staleness, probes, s, spool, retention, metrics, evidence, goldenConfig);
  }

  public AgentConfig withStopFile(Path file) {
    return withStop(new Stop(file, stop.onStop(), stop.onResume(), stop.verify(), stop.hookTimeout(), stop.hookOutputBytes(), stop.failsafeAfter()));
  }

  /** Sets the three hooks (null = none). */
  public AgentConfig withHooks(String onStop, String onResume, String verify) {
    return withStop(new Stop(stop.file(), onStop, onResume, verify, stop.hookTimeout(), stop.hookOutputBytes(), stop.failsafeAfter()));
  }

  public AgentConfig withHookTimeout(Duration timeout) {
    return withStop(new Stop(stop.file(), stop.onStop(), stop.onResume(), stop.verify(), timeout, stop.hookOutputBytes(), stop.failsafeAfter()));
  }

  /** Null or zero turns the fail-safe off. */
  public AgentConfig withFailsafeAfter(Duration after) {
    return withStop(new Stop(stop.file(), stop.onStop(), stop.onResume(), stop.verify(), stop.hookTimeout(), stop.hookOutputBytes(), after));
  }

  public AgentConfig withSpool(Spool s) {
    return new AgentConfig(agentId, collector, labels, stateDir, golden, logs, processes, disk, staleness, probes, stop, s, retention, metrics, evidence, goldenConfig);
  }

  public AgentConfig withSpoolDir(Path dir) {
    return withSpool(new Spool(dir, spool.capBytes()));
  }

  public AgentConfig withSpoolCapBytes(long capBytes) {
    return withSpool(new Spool(spool.dir(), capBytes));
  }

  public AgentConfig withRetention(Retention r) {
    return new AgentConfig(agentId, collector, labels, stateDir, golden, logs, processes, disk, staleness, probes, stop, spool, r, metrics, evidence, goldenConfig);
  }

  public AgentConfig withMetricsPort(int port) {
    return new AgentConfig(agentId, collector, labels, stateDir, golden, logs, processes, disk, staleness, probes, stop, spool, retention, new Metrics(port, metrics.bind()), evidence, goldenConfig);
  }

  public AgentConfig withEvidence(Evidence e) {
    return new AgentConfig(agentId, collector, labels, stateDir, golden, logs, processes, disk, staleness, probes, stop, spool, retention, metrics, e, goldenConfig);
  }
}
