package dev.lockstep.agent.config;

import dev.lockstep.agent.config.AgentConfig.Collector;
import dev.lockstep.agent.config.AgentConfig.Disk;
import dev.lockstep.agent.config.AgentConfig.Evidence;
import dev.lockstep.agent.config.AgentConfig.GoldenWatch;
import dev.lockstep.agent.config.AgentConfig.LogRule;
import dev.lockstep.agent.config.AgentConfig.LogWatch;
import dev.lockstep.agent.config.AgentConfig.Metrics;
import dev.lockstep.agent.config.AgentConfig.ProcessWatch;
import dev.lockstep.agent.config.AgentConfig.Probes;
import dev.lockstep.agent.config.AgentConfig.Retention;
import dev.lockstep.agent.config.AgentConfig.RuleKind;
import dev.lockstep.agent.config.AgentConfig.Spool;
import dev.lockstep.agent.config.AgentConfig.Staleness;
import dev.lockstep.agent.config.AgentConfig.Stop;
import dev.lockstep.agent.internal.Json;
import dev.lockstep.golden.ConfigValues;
import dev.lockstep.golden.ConfigVariables;
import dev.lockstep.golden.GoldenConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads agent.yaml into an {@link AgentConfig}; every error names the key it is about. The YAML is
 * read with jackson's streaming parser into plain maps and lists (no object mapping).
 */
final class ConfigFile {
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KB|KiB|MB|MiB|GB|GiB)?", Pattern.CASE_INSENSITIVE);

  private final String file;

  private ConfigFile(String file) {
    this.file = file;
  }

  static AgentConfig load(Path path, java.util.Map<String, String> env) throws ConfigException {
    String name = path.getFileName() == null ? path.toString() : path.getFileName().toString();
    Object root;
    try {
      root = Json.parseYaml(Files.readAllBytes(path));
    } catch (NoSuchFileException e) {
      throw new ConfigException(name + ": no such file: " + path);
    } catch (IOException e) {
      String msg = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      throw new ConfigException(name + ": not valid YAML: " + msg);
    }
    if (root == null) {
      throw new ConfigException(name + ": the file is empty");
    }
    if (!(root instanceof Map<?, ?>)) {
      throw new ConfigException(name + ": the top level must be a mapping");
    }
    try {
      ConfigValues.expand(root, env);
    } catch (ConfigVariables.UnsetVariableException e) {
      throw new ConfigException(name + ": " + e.getMessage());
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> top = (Map<String, Object>) root;
    AgentConfig c = new ConfigFile(name).read(top);
    // Everything but the TLS requirement, which flags (--ca/--cert/--key, --insecure) may still
    // satisfy; Agent.start validates the final config, TLS included.
    List<String> problems = c.collector().insecure() ? c.problems() : c.withInsecure(true).problems();
    if (!problems.isEmpty()) {
      throw new ConfigException(name + ": " + problems.get(0));
    }
    return c;
  }

  private AgentConfig read(Map<String, Object> root) throws ConfigException {
    keys(root, "", Set.of("agent_id", "collector", "labels", "state_dir", "golden", "logs", "processes",
        "disk", "staleness", "probes", "stop", "spool", "retention", "metrics", "evidence"));
    Map<String, Object> col = section(root, "collector");
    keys(col, "collector", Set.of("address", "addresses", "insecure", "tls", "reconnect_initial",
        "reconnect_max"));
    String agentId = text(root, "agent_id", "agent_id", null);
    String address = text(col, "address", "collector.address", null);
    if (col.get("addresses") != null) {
      // collectors of one cluster: the agent reconnects to the next one after a stream ends
      if (address != null) {
        throw new ConfigException(file + ": collector.address and collector.addresses are exclusive");
      }
      List<String> all = strings(col, "addresses", "collector.addresses");
      if (all.isEmpty()) {
        throw new ConfigException(file + ": collector.addresses must be a non-empty list of HOST:PORT");
      }
      address = String.join(",", all.stream().map(String::trim).toList());
    }
    Path stateDir = path(root, "state_dir", "state_dir", null);
    if (stateDir == null) {
      throw new ConfigException(file + ": state_dir is required");
    }
    AgentConfig d = AgentConfig.defaults(agentId == null ? "" : agentId, address, stateDir);

    Map<String, Object> tls = section(col, "tls");
    keys(tls, "collector.tls", Set.of("ca_file", "cert_file", "key_file"));
    Collector collector = new Collector(
        address,
        bool(col, "insecure", "collector.insecure", false),
        path(tls, "ca_file", "collector.tls.ca_file", null),
        path(tls, "cert_file", "collector.tls.cert_file", null),
        path(tls, "key_file", "collector.tls.key_file", null),
        duration(col, "reconnect_initial", "collector.reconnect_initial", d.collector().reconnectInitial()),
        duration(col, "reconnect_max", "collector.reconnect_max", d.collector().reconnectMax()));

    Map<String, String> labels = new LinkedHashMap<>();
    Map<String, Object> lab = section(root, "labels");
    for (Map.Entry<String, Object> e : lab.entrySet()) {
      if (e.getValue() instanceof Map || e.getValue() instanceof List) {
        throw new ConfigException(file + ": labels." + e.getKey() + " must be a string");
      }
      labels.put(e.getKey(), String.valueOf(e.getValue()));
    }

    Map<String, Object> g = section(root, "golden");
    keys(g, "golden", Set.of("dirs", "file_glob", "settle", "rescan_interval", "malformed_grace", "start_at",
        "limits", "volatile", "mapping", "diff"));
    GoldenWatch golden = new GoldenWatch(
        strings(g, "dirs", "golden.dirs"),
        text(g, "file_glob", "golden.file_glob", d.golden().fileGlob()),
        duration(g, "settle", "golden.settle", d.golden().settle()),
        duration(g, "rescan_interval", "golden.rescan_interval", d.golden().rescanInterval()),
        duration(g, "malformed_grace", "golden.malformed_grace", d.golden().malformedGrace()),
        startAt(g, "golden.start_at", AgentConfig.StartAt.BEGINNING));
    GoldenConfig goldenConfig = goldenConfig(g);

    List<LogWatch> logs = new ArrayList<>();
    List<Object> ls = list(root, "logs", "logs");
    for (int i = 0; i < ls.size(); i++) {
      String key = "logs[" + i + "]";
      if (!(ls.get(i) instanceof Map<?, ?>)) {
        throw new ConfigException(file + ": " + key + " must be a mapping with a path");
      }
      Map<String, Object> l = item(ls.get(i), key);
      keys(l, key, Set.of("path", "rules", "default_rules", "rotated_suffixes", "run_id_regex", "staleness", "start_at"));
      List<LogRule> rules = new ArrayList<>();
      if (bool(l, "default_rules", key + ".default_rules", true)) {
        rules.addAll(AgentConfig.DEFAULT_RULES);
      }
      List<Object> rs = list(l, "rules", key + ".rules");
      for (int r = 0; r < rs.size(); r++) {
        String rk = key + ".rules[" + r + "]";
        Map<String, Object> rule = item(rs.get(r), rk);
        keys(rule, rk, Set.of("name", "regex", "kind", "count_group"));
        String kind = text(rule, "kind", rk + ".kind", "CUSTOM").toUpperCase(Locale.ROOT);
        RuleKind rkind;
        try {
          rkind = RuleKind.valueOf(kind);
        } catch (IllegalArgumentException e) {
          throw new ConfigException(file + ": " + rk + ".kind must be one of MISMATCH_COUNT, CLEAN_CYCLE, ERROR, CYCLE, CUSTOM, got \"" + kind + "\"");
        }
        // user rules go first so they can refine the defaults
        rules.add(r, new LogRule(text(rule, "name", rk + ".name", null), text(rule, "regex", rk + ".regex", null),
            rkind, integer(rule, "count_group", rk + ".count_group", 0)));
      }
      List<String> suffixes = l.get("rotated_suffixes") != null ? strings(l, "rotated_suffixes", key + ".rotated_suffixes") : List.of(".1");
      logs.add(new LogWatch(text(l, "path", key + ".path", null), rules, suffixes,
          text(l, "run_id_regex", key + ".run_id_regex", AgentConfig.DEFAULT_RUN_ID_REGEX),
          bool(l, "staleness", key + ".staleness", true), startAt(l, key + ".start_at", AgentConfig.StartAt.END)));
    }

    List<ProcessWatch> processes = new ArrayList<>();
    List<Object> ps = list(root, "processes", "processes");
    for (int i = 0; i < ps.size(); i++) {
      String key = "processes[" + i + "]";
      Map<String, Object> p = item(ps.get(i), key);
      keys(p, key, Set.of("name", "pattern", "pidfile", "log", "remediate"));
      String name = text(p, "name", key + ".name", null);
      String log = text(p, "log", key + ".log", null);
      processes.add(new ProcessWatch(name, text(p, "pattern", key + ".pattern", null),
          path(p, "pidfile", key + ".pidfile", null), log,
          p.get("remediate") == null ? null : remediate(name, log, item(p.get("remediate"), key + ".remediate"),
              key + ".remediate")));
    }

    Map<String, Object> dk = section(root, "disk");
    keys(dk, "disk", Set.of("paths", "warn_percent", "critical_percent"));
    List<Path> diskPaths = new ArrayList<>();
    for (String s : strings(dk, "paths", "disk.paths")) {
      diskPaths.add(Path.of(s));
    }
    Disk disk = new Disk(diskPaths, integer(dk, "warn_percent", "disk.warn_percent", d.disk().warnPercent()),
        integer(dk, "critical_percent", "disk.critical_percent", d.disk().criticalPercent()));

    Map<String, Object> st = section(root, "staleness");
    keys(st, "staleness", Set.of("warn_after", "critical_after"));
    Staleness staleness = new Staleness(duration(st, "warn_after", "staleness.warn_after", d.staleness().warnAfter()),
        duration(st, "critical_after", "staleness.critical_after", d.staleness().criticalAfter()));

    Map<String, Object> pr = section(root, "probes");
    keys(pr, "probes", Set.of("interval", "heartbeat"));
    Probes probes = new Probes(duration(pr, "interval", "probes.interval", d.probes().interval()),
        duration(pr, "heartbeat", "probes.heartbeat", d.probes().heartbeat()));

    Map<String, Object> sp = section(root, "stop");
    keys(sp, "stop", Set.of("file", "on_stop", "on_resume", "verify", "hook_timeout", "hook_output_bytes", "failsafe_after"));
    Object fs = sp.get("failsafe_after");
    // YAML 1.1 reads a bare off as false
    Duration failsafe = fs != null && (Boolean.FALSE.equals(fs) || String.valueOf(fs).equalsIgnoreCase("off"))
        ? null : duration(sp, "failsafe_after", "stop.failsafe_after", null);
    Stop stop = new Stop(path(sp, "file", "stop.file", d.stop().file()), text(sp, "on_stop", "stop.on_stop", null),
        text(sp, "on_resume", "stop.on_resume", null), text(sp, "verify", "stop.verify", null),
        duration(sp, "hook_timeout", "stop.hook_timeout", d.stop().hookTimeout()),
        (int) size(sp, "hook_output_bytes", "stop.hook_output_bytes", d.stop().hookOutputBytes()), failsafe);

    Map<String, Object> sl = section(root, "spool");
    keys(sl, "spool", Set.of("dir", "cap"));
    Spool spool = new Spool(path(sl, "dir", "spool.dir", d.spool().dir()), size(sl, "cap", "spool.cap", d.spool().capBytes()));

    Map<String, Object> rt = section(root, "retention");
    keys(rt, "retention", Set.of("enabled", "archive_after", "archive_dir", "interval"));
    Retention retention = new Retention(bool(rt, "enabled", "retention.enabled", false),
        duration(rt, "archive_after", "retention.archive_after", d.retention().archiveAfter()),
        path(rt, "archive_dir", "retention.archive_dir", d.retention().archiveDir()),
        duration(rt, "interval", "retention.interval", d.retention().interval()));

    Map<String, Object> mt = section(root, "metrics");
    keys(mt, "metrics", Set.of("port", "bind"));
    Metrics metrics = new Metrics(integer(mt, "port", "metrics.port", 0), text(mt, "bind", "metrics.bind", "127.0.0.1"));

    Map<String, Object> ev = section(root, "evidence");
    keys(ev, "evidence", Set.of("max_bytes", "log_tail_lines"));
    Evidence evidence = new Evidence(size(ev, "max_bytes", "evidence.max_bytes", d.evidence().maxBytes()),
        integer(ev, "log_tail_lines", "evidence.log_tail_lines", d.evidence().defaultLogTailLines()));

    return new AgentConfig(agentId, collector, labels, stateDir, golden, logs, processes, disk, staleness, probes,
        stop, spool, retention, metrics, evidence, goldenConfig);
  }

  /** The hashing part of the golden section, read by the parser golden shares with collector and CLI. */
  private GoldenConfig goldenConfig(Map<String, Object> g) throws ConfigException {
    Map<String, Object> section = new LinkedHashMap<>();
    for (String k : List.of("limits", "volatile", "mapping", "diff")) {
      if (g.get(k) != null) {
        section.put(k, g.get(k));
      }
    }
    try {
      return GoldenConfig.fromMap(section, file + ": golden");
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  /** {@code processes[i].remediate}: restart (required) and unstick (optional). */
  private dev.lockstep.agent.remediate.Remediator.Policy remediate(String process, String log, Map<String, Object> r,
      String key) throws ConfigException {
    keys(r, key, Set.of("restart", "unstick"));
    if (r.get("restart") == null) {
      throw new ConfigException(file + ": " + key + ".restart is required (unstick ends with a restart too)");
    }
    if (log == null) {
      throw new ConfigException(file + ": " + key + " needs the process's log: (a clean exit is judged from it)");
    }
    Map<String, Object> rs = item(r.get("restart"), key + ".restart");
    String rk = key + ".restart";
    keys(rs, rk, Set.of("command", "clean_cycles", "cycles_per_hour", "run_hours", "max_per_day", "timeout",
        "start_wait", "settle"));
    dev.lockstep.agent.remediate.Remediator.Restart restart;
    try {
      restart = new dev.lockstep.agent.remediate.Remediator.Restart(text(rs, "command", rk + ".command", null),
          integer(rs, "clean_cycles", rk + ".clean_cycles", 5), integer(rs, "cycles_per_hour", rk + ".cycles_per_hour", 120),
          integer(rs, "run_hours", rk + ".run_hours", 24), integer(rs, "max_per_day", rk + ".max_per_day", 3),
          duration(rs, "timeout", rk + ".timeout", Duration.ofSeconds(60)),
          duration(rs, "start_wait", rk + ".start_wait", Duration.ofSeconds(30)),
          duration(rs, "settle", rk + ".settle", Duration.ofSeconds(3)));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + key + "." + e.getMessage());
    }
    dev.lockstep.agent.remediate.Remediator.Unstick unstick = null;
    if (r.get("unstick") != null) {
      Map<String, Object> u = item(r.get("unstick"), key + ".unstick");
      keys(u, key + ".unstick", Set.of("term_grace", "kill_grace"));
      unstick = new dev.lockstep.agent.remediate.Remediator.Unstick(
          duration(u, "term_grace", key + ".unstick.term_grace", Duration.ofSeconds(30)),
          duration(u, "kill_grace", key + ".unstick.kill_grace", Duration.ofSeconds(10)));
    }
    return new dev.lockstep.agent.remediate.Remediator.Policy(process, restart, unstick);
  }

  // ---------------------------------------------------------------------------------- readers

  private void keys(Map<String, Object> node, String where, Set<String> allowed) throws ConfigException {
    for (String k : node.keySet()) {
      if (!allowed.contains(k)) {
        throw new ConfigException(file + ": unknown key " + (where.isEmpty() ? "" : where + ".") + k
            + " (known: " + String.join(", ", allowed.stream().sorted().toList()) + ")");
      }
    }
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> section(Map<String, Object> parent, String key) throws ConfigException {
    Object n = parent.get(key);
    if (n == null) {
      return Map.of();
    }
    if (!(n instanceof Map<?, ?>)) {
      throw new ConfigException(file + ": " + key + " must be a mapping");
    }
    return (Map<String, Object>) n;
  }

  /** A list element that must be a mapping. */
  @SuppressWarnings("unchecked")
  private Map<String, Object> item(Object n, String where) throws ConfigException {
    if (!(n instanceof Map<?, ?>)) {
      throw new ConfigException(file + ": " + where + " must be a mapping");
    }
    return (Map<String, Object>) n;
  }

  @SuppressWarnings("unchecked")
  private List<Object> list(Map<String, Object> parent, String key, String where) throws ConfigException {
    Object n = parent.get(key);
    if (n == null) {
      return List.of();
    }
    if (!(n instanceof List<?>)) {
      throw new ConfigException(file + ": " + where + " must be a list");
    }
    return (List<Object>) n;
  }

  private static boolean scalar(Object n) {
    return !(n instanceof Map) && !(n instanceof List);
  }

  private String text(Map<String, Object> parent, String key, String where, String def) throws ConfigException {
    Object n = parent.get(key);
    if (n == null) {
      return def;
    }
    if (!scalar(n)) {
      throw new ConfigException(file + ": " + where + " must be a string");
    }
    return n.toString();
  }

  private List<String> strings(Map<String, Object> parent, String key, String where) throws ConfigException {
    Object n = parent.get(key);
    List<String> out = new ArrayList<>();
    if (n == null) {
      return out;
    }
    if (scalar(n)) {
      out.add(n.toString());
      return out;
    }
    if (!(n instanceof List<?> l)) {
      throw new ConfigException(file + ": " + where + " must be a list of strings");
    }
    for (int i = 0; i < l.size(); i++) {
      if (l.get(i) == null || !scalar(l.get(i))) {
        throw new ConfigException(file + ": " + where + "[" + i + "] must be a string");
      }
      out.add(l.get(i).toString());
    }
    return out;
  }

  private AgentConfig.StartAt startAt(Map<String, Object> parent, String where, AgentConfig.StartAt def)
      throws ConfigException {
    String s = text(parent, "start_at", where, null);
    if (s == null) {
      return def;
    }
    return switch (s.trim().toLowerCase(Locale.ROOT)) {
      case "end" -> AgentConfig.StartAt.END;
      case "beginning" -> AgentConfig.StartAt.BEGINNING;
      default -> throw new ConfigException(file + ": " + where + " must be end or beginning, got \"" + s + "\"");
    };
  }

  private Path path(Map<String, Object> parent, String key, String where, Path def) throws ConfigException {
    String s = text(parent, key, where, null);
    return s == null ? def : Path.of(s);
  }

  private boolean bool(Map<String, Object> parent, String key, String where, boolean def) throws ConfigException {
    Object n = parent.get(key);
    if (n == null) {
      return def;
    }
    if (n instanceof Boolean b) {
      return b;
    }
    String s = n.toString().toLowerCase(Locale.ROOT);
    if (s.equals("true") || s.equals("yes") || s.equals("on")) {
      return true;
    }
    if (s.equals("false") || s.equals("no") || s.equals("off")) {
      return false;
    }
    throw new ConfigException(file + ": " + where + " must be true or false, got \"" + n + "\"");
  }

  private int integer(Map<String, Object> parent, String key, String where, int def) throws ConfigException {
    Object n = parent.get(key);
    if (n == null) {
      return def;
    }
    if (n instanceof Integer || n instanceof Long || n instanceof java.math.BigInteger) {
      return ((Number) n).intValue();
    }
    try {
      return Integer.parseInt(n.toString().trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(file + ": " + where + " must be a whole number, got \"" + n + "\"");
    }
  }

  private Duration duration(Map<String, Object> parent, String key, String where, Duration def) throws ConfigException {
    Object n = parent.get(key);
    if (n == null) {
      return def;
    }
    try {
      return parseDuration(n.toString());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + where + " must be a duration like 500ms, 30s, 10m, 2h, 7d, got \"" + n + "\"");
    }
  }

  private long size(Map<String, Object> parent, String key, String where, long def) throws ConfigException {
    Object n = parent.get(key);
    if (n == null) {
      return def;
    }
    try {
      return parseSize(n.toString());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + where + " must be a size like 65536, 512KiB, 256MiB, 1GiB, got \"" + n + "\"");
    }
  }

  /** "500ms", "30s", "10m", "2h", "7d", "1h30m", "0", or ISO-8601 "PT10M". */
  static Duration parseDuration(String s) {
    String t = s.trim();
    if (t.equals("0")) {
      return Duration.ZERO;
    }
    if (t.startsWith("P") || t.startsWith("p")) {
      return Duration.parse(t);
    }
    Matcher m = DURATION.matcher(t);
    Duration total = Duration.ZERO;
    int at = 0;
    while (m.find() && m.start() == at) {
      long v = Long.parseLong(m.group(1));
      total = total.plus(switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(v);
        case "s" -> Duration.ofSeconds(v);
        case "m" -> Duration.ofMinutes(v);
        case "h" -> Duration.ofHours(v);
        default -> Duration.ofDays(v);
      });
      at = m.end();
      while (at < t.length() && t.charAt(at) == ' ') {
        at++;
      }
    }
    if (at != t.length() || at == 0) {
      throw new IllegalArgumentException(s);
    }
    return total;
  }

  /** "65536", "512KiB", "256MiB", "1GiB" (KB/MB/GB are taken as powers of 1024 too). */
  static long parseSize(String s) {
    Matcher m = SIZE.matcher(s.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(s);
    }
    long v = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "B" : m.group(2).toUpperCase(Locale.ROOT);
    return switch (unit) {
      case "KB", "KIB" -> v << 10;
      case "MB", "MIB" -> v << 20;
      case "GB", "GIB" -> v << 30;
      default -> v;
    };
  }
}
