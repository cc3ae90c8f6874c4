package dev.lockstep.agent.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
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
import dev.lockstep.golden.GoldenConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads agent.yaml into an {@link AgentConfig}; every error names the key it is about. */
final class ConfigFile {
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KB|KiB|MB|MiB|GB|GiB)?", Pattern.CASE_INSENSITIVE);

  private static final YAMLMapper YAML = new YAMLMapper();

  private final String file;

  private ConfigFile(String file) {
    this.file = file;
  }

  static AgentConfig load(Path path, java.util.Map<String, String> env) throws ConfigException {
    String name = path.getFileName() == null ? path.toString() : path.getFileName().toString();
    JsonNode root;
    try {
      root = new YAMLMapper().readTree(Files.readAllBytes(path));
    } catch (NoSuchFileException e) {
      throw new ConfigException(name + ": no such file: " + path);
    } catch (IOException e) {
      String msg = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      throw new ConfigException(name + ": not valid YAML: " + msg);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      throw new ConfigException(name + ": the file is empty");
    }
    if (!root.isObject()) {
      throw new ConfigException(name + ": the top level must be a mapping");
    }
    try {
      dev.lockstep.golden.ConfigVariables.expand(root, env);
    } catch (dev.lockstep.golden.ConfigVariables.UnsetVariableException e) {
      throw new ConfigException(name + ": " + e.getMessage());
    }
    AgentConfig c = new ConfigFile(name).read(root);
    // Everything but the TLS requirement, which flags (--ca/--cert/--key, --insecure) may still
    // satisfy; Agent.start validates the final config, TLS included.
    List<String> problems = c.collector().insecure() ? c.problems() : c.withInsecure(true).problems();
    if (!problems.isEmpty()) {
      throw new ConfigException(name + ": " + problems.get(0));
    }
    return c;
  }

  private AgentConfig read(JsonNode root) throws ConfigException {
    keys(root, "", Set.of("agent_id", "collector", "labels", "state_dir", "golden", "logs", "processes",
        "disk", "staleness", "probes", "stop", "spool", "retention", "metrics", "evidence"));
    JsonNode col = section(root, "collector");
    keys(col, "collector", Set.of("address", "addresses", "insecure", "tls", "reconnect_initial",
        "reconnect_max"));
    String agentId = text(root, "agent_id", "agent_id", null);
    String address = text(col, "address", "collector.address", null);
    if (col.has("addresses")) {
      // collectors of one cluster: the agent reconnects to the next one after a stream ends
      if (address != null) {
        throw new ConfigException(file + ": collector.address and collector.addresses are exclusive");
      }
      JsonNode list = col.get("addresses");
      if (!list.isArray() || list.isEmpty()) {
        throw new ConfigException(file + ": collector.addresses must be a non-empty list of HOST:PORT");
      }
      List<String> all = new ArrayList<>();
      for (JsonNode n : list) all.add(n.asText().trim());
      address = String.join(",", all);
    }
    Path stateDir = path(root, "state_dir", "state_dir", null);
    if (stateDir == null) {
      throw new ConfigException(file + ": state_dir is required");
    }
    AgentConfig d = AgentConfig.defaults(agentId == null ? "" : agentId, address, stateDir);

    JsonNode tls = section(col, "tls");
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
    JsonNode lab = section(root, "labels");
    for (Map.Entry<String, JsonNode> e : lab.properties()) {
      if (!e.getValue().isValueNode()) {
        throw new ConfigException(file + ": labels." + e.getKey() + " must be a string");
      }
      labels.put(e.getKey(), e.getValue().asText());
    }

    JsonNode g = section(root, "golden");
    keys(g, "golden", Set.of("dirs", "file_glob", "settle", "rescan_interval", "malformed_grace",
        "limits", "volatile", "mapping", "diff"));
    GoldenWatch golden = new GoldenWatch(
        strings(g, "dirs", "golden.dirs"),
        text(g, "file_glob", "golden.file_glob", d.golden().fileGlob()),
        duration(g, "settle", "golden.settle", d.golden().settle()),
        duration(g, "rescan_interval", "golden.rescan_interval", d.golden().rescanInterval()),
        duration(g, "malformed_grace", "golden.malformed_grace", d.golden().malformedGrace()));
    GoldenConfig goldenConfig = goldenConfig(g);

    List<LogWatch> logs = new ArrayList<>();
    JsonNode ls = list(root, "logs", "logs");
    for (int i = 0; i < ls.size(); i++) {
      JsonNode l = ls.get(i);
      String key = "logs[" + i + "]";
      if (!l.isObject()) {
        throw new ConfigException(file + ": " + key + " must be a mapping with a path");
      }
      keys(l, key, Set.of("path", "rules", "default_rules", "rotated_suffixes", "run_id_regex", "staleness"));
      List<LogRule> rules = new ArrayList<>();
      if (bool(l, "default_rules", key + ".default_rules", true)) {
        rules.addAll(AgentConfig.DEFAULT_RULES);
      }
      JsonNode rs = list(l, "rules", key + ".rules");
      for (int r = 0; r < rs.size(); r++) {
        JsonNode rule = rs.get(r);
        String rk = key + ".rules[" + r + "]";
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
      List<String> suffixes = l.has("rotated_suffixes") ? strings(l, "rotated_suffixes", key + ".rotated_suffixes") : List.of(".1");
      logs.add(new LogWatch(text(l, "path", key + ".path", null), rules, suffixes,
          text(l, "run_id_regex", key + ".run_id_regex", AgentConfig.DEFAULT_RUN_ID_REGEX),
          bool(l, "staleness", key + ".staleness", true)));
    }

    List<ProcessWatch> processes = new ArrayList<>();
    JsonNode ps = list(root, "processes", "processes");
    for (int i = 0; i < ps.size(); i++) {
      JsonNode p = ps.get(i);
      String key = "processes[" + i + "]";
      keys(p, key, Set.of("name", "pattern", "pidfile", "log"));
      processes.add(new ProcessWatch(text(p, "name", key + ".name", null), text(p, "pattern", key + ".pattern", null),
          path(p, "pidfile", key + ".pidfile", null), text(p, "log", key + ".log", null)));
    }

    JsonNode dk = section(root, "disk");
    keys(dk, "disk", Set.of("paths", "warn_percent", "critical_percent"));
    List<Path> diskPaths = new ArrayList<>();
    for (String s : strings(dk, "paths", "disk.paths")) {
      diskPaths.add(Path.of(s));
    }
    Disk disk = new Disk(diskPaths, integer(dk, "warn_percent", "disk.warn_percent", d.disk().warnPercent()),
        integer(dk, "critical_percent", "disk.critical_percent", d.disk().criticalPercent()));

    JsonNode st = section(root, "staleness");
    keys(st, "staleness", Set.of("warn_after", "critical_after"));
    Staleness staleness = new Staleness(duration(st, "warn_after", "staleness.warn_after", d.staleness().warnAfter()),
        duration(st, "critical_after", "staleness.critical_after", d.staleness().criticalAfter()));

    JsonNode pr = section(root, "probes");
    keys(pr, "probes", Set.of("interval", "heartbeat"));
    Probes probes = new Probes(duration(pr, "interval", "probes.interval", d.probes().interval()),
        duration(pr, "heartbeat", "probes.heartbeat", d.probes().heartbeat()));

    JsonNode sp = section(root, "stop");
    keys(sp, "stop", Set.of("file", "on_stop", "on_resume", "verify", "hook_timeout", "hook_output_bytes", "failsafe_after"));
    JsonNode fs = sp.get("failsafe_after");
    // YAML 1.1 reads a bare off as false
    Duration failsafe = fs != null && (fs.isBoolean() && !fs.booleanValue() || fs.asText().equalsIgnoreCase("off"))
        ? null : duration(sp, "failsafe_after", "stop.failsafe_after", null);
    Stop stop = new Stop(path(sp, "file", "stop.file", d.stop().file()), text(sp, "on_stop", "stop.on_stop", null),
        text(sp, "on_resume", "stop.on_resume", null), text(sp, "verify", "stop.verify", null),
        duration(sp, "hook_timeout", "stop.hook_timeout", d.stop().hookTimeout()),
        (int) size(sp, "hook_output_bytes", "stop.hook_output_bytes", d.stop().hookOutputBytes()), failsafe);

    JsonNode sl = section(root, "spool");
    keys(sl, "spool", Set.of("dir", "cap"));
    Spool spool = new Spool(path(sl, "dir", "spool.dir", d.spool().dir()), size(sl, "cap", "spool.cap", d.spool().capBytes()));

    JsonNode rt = section(root, "retention");
    keys(rt, "retention", Set.of("enabled", "archive_after", "archive_dir", "interval"));
    Retention retention = new Retention(bool(rt, "enabled", "retention.enabled", false),
        duration(rt, "archive_after", "retention.archive_after", d.retention().archiveAfter()),
        path(rt, "archive_dir", "retention.archive_dir", d.retention().archiveDir()),
        duration(rt, "interval", "retention.interval", d.retention().interval()));

    JsonNode mt = section(root, "metrics");
    keys(mt, "metrics", Set.of("port", "bind"));
    Metrics metrics = new Metrics(integer(mt, "port", "metrics.port", 0), text(mt, "bind", "metrics.bind", "127.0.0.1"));

    JsonNode ev = section(root, "evidence");
    keys(ev, "evidence", Set.of("max_bytes", "log_tail_lines"));
    Evidence evidence = new Evidence(size(ev, "max_bytes", "evidence.max_bytes", d.evidence().maxBytes()),
        integer(ev, "log_tail_lines", "evidence.log_tail_lines", d.evidence().defaultLogTailLines()));

    return new AgentConfig(agentId, collector, labels, stateDir, golden, logs, processes, disk, staleness, probes,
        stop, spool, retention, metrics, evidence, goldenConfig);
  }

  /** The hashing part of the golden section, read by the parser golden shares with collector and CLI. */
  private GoldenConfig goldenConfig(JsonNode g) throws ConfigException {
    Map<String, Object> section = new LinkedHashMap<>();
    for (String k : List.of("limits", "volatile", "mapping", "diff")) {
      if (g.has(k)) {
        section.put(k, YAML.convertValue(g.get(k), Object.class));
      }
    }
    try {
      return GoldenConfig.fromMap(section, file + ": golden");
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  // ---------------------------------------------------------------------------------- readers

  private void keys(JsonNode node, String where, Set<String> allowed) throws ConfigException {
    if (node.isMissingNode()) {
      return;
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!allowed.contains(k)) {
        throw new ConfigException(file + ": unknown key " + (where.isEmpty() ? "" : where + ".") + k
            + " (known: " + String.join(", ", allowed.stream().sorted().toList()) + ")");
      }
    }
  }

  private JsonNode section(JsonNode parent, String key) throws ConfigException {
    JsonNode n = parent.get(key);
    if (n == null || n.isNull()) {
      return MissingNode.getInstance();
    }
    if (!n.isObject()) {
      throw new ConfigException(file + ": " + key + " must be a mapping");
    }
    return n;
  }

  private JsonNode list(JsonNode parent, String key, String where) throws ConfigException {
    JsonNode n = parent.get(key);
    if (n == null || n.isNull()) {
      return com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
    }
    if (!n.isArray()) {
      throw new ConfigException(file + ": " + where + " must be a list");
    }
    return n;
  }

  private String text(JsonNode parent, String key, String where, String def) throws ConfigException {
    JsonNode n = parent.get(key);
    if (n == null || n.isNull()) {
      return def;
    }
    if (!n.isValueNode()) {
      throw new ConfigException(file + ": " + where + " must be a string");
    }
    return n.asText();
  }

  private List<String> strings(JsonNode parent, String key, String where) throws ConfigException {
    JsonNode n = parent.get(key);
    List<String> out = new ArrayList<>();
    if (n == null || n.isNull()) {
      return out;
    }
    if (n.isValueNode()) {
      out.add(n.asText());
      return out;
    }
    if (!n.isArray()) {
      throw new ConfigException(file + ": " + where + " must be a list of strings");
    }
    for (int i = 0; i < n.size(); i++) {
      if (!n.get(i).isValueNode()) {
        throw new ConfigException(file + ": " + where + "[" + i + "] must be a string");
      }
      out.add(n.get(i).asText());
    }
    return out;
  }

  private Path path(JsonNode parent, String key, String where, Path def) throws ConfigException {
    String s = text(parent, key, where, null);
    return s == null ? def : Path.of(s);
  }

  private boolean bool(JsonNode parent, String key, String where, boolean def) throws ConfigException {
    JsonNode n = parent.get(key);
    if (n == null || n.isNull()) {
      return def;
    }
    if (n.isBoolean()) {
      return n.booleanValue();
    }
    String s = n.asText().toLowerCase(Locale.ROOT);
    if (s.equals("true") || s.equals("yes") || s.equals("on")) {
      return true;
    }
    if (s.equals("false") || s.equals("no") || s.equals("off")) {
      return false;
    }
    throw new ConfigException(file + ": " + where + " must be true or false, got \"" + n.asText() + "\"");
  }

  private int integer(JsonNode parent, String key, String where, int def) throws ConfigException {
    JsonNode n = parent.get(key);
    if (n == null || n.isNull()) {
      return def;
    }
    if (n.isIntegralNumber()) {
      return n.intValue();
    }
    try {
      return Integer.parseInt(n.asText().trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(file + ": " + where + " must be a whole number, got \"" + n.asText() + "\"");
    }
  }

  private Duration duration(JsonNode parent, String key, String where, Duration def) throws ConfigException {
    JsonNode n = parent.get(key);
    if (n == null || n.isNull()) {
      return def;
    }
    try {
      return parseDuration(n.asText());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + where + " must be a duration like 500ms, 30s, 10m, 2h, 7d, got \"" + n.asText() + "\"");
    }
  }

  private long size(JsonNode parent, String key, String where, long def) throws ConfigException {
    JsonNode n = parent.get(key);
    if (n == null || n.isNull()) {
      return def;
    }
    try {
      return parseSize(n.asText());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + where + " must be a size like 65536, 512KiB, 256MiB, 1GiB, got \"" + n.asText() + "\"");
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
