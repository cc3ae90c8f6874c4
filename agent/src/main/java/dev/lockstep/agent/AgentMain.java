package dev.lockstep.agent;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.config.ConfigException;
import dev.lockstep.security.Tls;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * {@code lockstep agent --config agent.yaml [flags]}: runs one agent until SIGTERM/SIGINT. Flags
 * override the file's common keys; without --config, --id, --collector and --state-dir are enough.
 * Bad configuration: one line on stderr and exit code 2.
 */
public final class AgentMain {
  private static final String USAGE = """
      usage: lockstep agent [--config agent.yaml] [flags]
        --collector HOST:PORT   collector address            --id ID            agent id
        --golden-dir DIR        golden directory (repeatable) --stop-file PATH   stop file
        --spool-dir DIR         spool directory              --state-dir DIR    state directory
        --on-stop CMD           hook run on STOPPED          --on-resume CMD    hook run on RUNNING
        --verify CMD            hook confirming the state    --metrics-port N   Prometheus port (0 = off)
        --label k=v             label (repeatable)
        --ca FILE --cert FILE --key FILE   mTLS files (ca.pem, ID.pem, ID-key.pem from lockstep certs init)
        --insecure              plaintext gRPC without TLS (loud warning); one of the two is required
      """;

  private AgentMain() {}

  /**
   * HH:mm:ssZ of a wall-clock time in UTC, the prefix of the agent's own lines. Written by hand:
   * java.time's local time loads the time-zone database (~0.3 MB of heap, ~25 classes) and keeps it.
   */
  static String clockTime(long epochMillis) {
    long s = Math.floorMod(Math.floorDiv(epochMillis, 1000), 86_400L);
    char[] c = {(char) ('0' + s / 36_000), (char) ('0' + s / 3_600 % 10), ':', (char) ('0' + s % 3_600 / 600),
        (char) ('0' + s % 600 / 60), ':', (char) ('0' + s % 60 / 10), (char) ('0' + s % 10), 'Z'};
    return new String(c);
  }

  public static void main(String[] args) {
    // netty probes JFR at start-up and loads ~100 classes for it; the agent has no use for them
    if (System.getProperty("io.grpc.netty.shaded.io.netty.jfr.enabled") == null) {
      System.setProperty("io.grpc.netty.shaded.io.netty.jfr.enabled", "false");
    }
    System.exit(run(args, System.out, System.err, true));
  }

  /** Parses args into a config, or throws with the one line to print. */
  static AgentConfig parse(String[] args) throws ConfigException {
    Map<String, String> single = new LinkedHashMap<>();
    List<String> goldenDirs = new ArrayList<>();
    Map<String, String> labels = new LinkedHashMap<>();
    boolean insecure = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String value = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0 && !a.equals("--insecure")) {
        value = a.substring(eq + 1);
        a = a.substring(0, eq);
      }
      switch (a) {
        case "--insecure" -> insecure = true;
        case "--help", "-h" -> throw new ConfigException(USAGE.strip());
        case "--config", "--collector", "--id", "--stop-file", "--spool-dir", "--state-dir", "--on-stop",
             "--on-resume", "--verify", "--metrics-port", "--golden-dir", "--label", "--ca", "--cert",
             "--key" -> {
          if (value == null) {
            if (i + 1 >= args.length) {
              throw new ConfigException("lockstep agent: " + a + " needs a value");
            }
            value = args[++i];
          }
          if (a.equals("--golden-dir")) {
            goldenDirs.add(value);
          } else if (a.equals("--label")) {
            int e = value.indexOf('=');
            if (e <= 0) {
              throw new ConfigException("lockstep agent: --label must be k=v, got \"" + value + "\"");
            }
            labels.put(value.substring(0, e), value.substring(e + 1));
          } else {
            single.put(a, value);
          }
        }
        default -> throw new ConfigException("lockstep agent: unknown argument \"" + a + "\" (see --help)");
      }
    }
    AgentConfig c;
    if (single.containsKey("--config")) {
      c = AgentConfig.load(Path.of(single.get("--config")));
    } else {
      if (!single.containsKey("--id") || !single.containsKey("--collector") || !single.containsKey("--state-dir")) {
        throw new ConfigException("lockstep agent: give --config FILE, or at least --id, --collector and --state-dir");
      }
      c = AgentConfig.defaults(single.get("--id"), single.get("--collector"), Path.of(single.get("--state-dir")))
          .withInsecure(false);
    }
    if (single.containsKey("--state-dir")) {
      c = c.withStateDir(Path.of(single.get("--state-dir")));
    }
    if (single.containsKey("--id")) {
      c = c.withAgentId(single.get("--id"));
    }
    if (single.containsKey("--collector")) {
      c = c.withCollectorTarget(single.get("--collector"));
    }
    if (single.containsKey("--ca") || single.containsKey("--cert") || single.containsKey("--key")) {
      c = c.withTlsFiles(pathOrNull(single.get("--ca")), pathOrNull(single.get("--cert")),
          pathOrNull(single.get("--key")));
    }
    if (insecure) {
      c = c.withInsecure(true);
    }
    if (!goldenDirs.isEmpty()) {
      c = c.withGoldenDirs(goldenDirs);
    }
    if (single.containsKey("--stop-file")) {
      c = c.withStopFile(Path.of(single.get("--stop-file")));
    }
    if (single.containsKey("--spool-dir")) {
      c = c.withSpoolDir(Path.of(single.get("--spool-dir")));
    }
    String onStop = single.getOrDefault("--on-stop", c.stop().onStop());
    String onResume = single.getOrDefault("--on-resume", c.stop().onResume());
    String verify = single.getOrDefault("--verify", c.stop().verify());
    c = c.withHooks(onStop, onResume, verify);
    if (single.containsKey("--metrics-port")) {
      try {
        c = c.withMetricsPort(Integer.parseInt(single.get("--metrics-port")));
      } catch (NumberFormatException e) {
        throw new ConfigException("lockstep agent: --metrics-port must be a number, got \"" + single.get("--metrics-port") + "\"");
      }
    }
    for (Map.Entry<String, String> l : labels.entrySet()) {
      c = c.withLabel(l.getKey(), l.getValue());
    }
    List<String> problems = c.problems();
    if (!problems.isEmpty()) {
      throw new ConfigException("lockstep agent: " + problems.get(0));
    }
    return c;
  }

  private static Path pathOrNull(String p) {
    return p == null ? null : Path.of(p);
  }

  static int run(String[] args, PrintStream out, PrintStream err, boolean waitForSignal) {
    for (String a : args) {
      if (a.equals("--help") || a.equals("-h")) {
        out.print(USAGE);
        return 0;
      }
    }
    AgentConfig config;
    try {
      config = parse(args);
    } catch (ConfigException e) {
      err.println(e.getMessage());
      return 2;
    }
    if (config.collector().insecure()) {
      err.println(Tls.insecureWarning("lockstep-agent"));
    }
    Agent agent;
    try {
      agent = Agent.start(config, Clock.systemUTC(), line -> {
        synchronized (out) {
          out.println(clockTime(System.currentTimeMillis()) + " agent " + config.agentId() + ": " + line);
          out.flush();
        }
      });
    } catch (ConfigException e) {
      err.println(e.getMessage());
      return 2;
    } catch (IOException | RuntimeException e) {
      err.println("lockstep agent: cannot start: " + e.getMessage());
      return 1;
    }
    CountDownLatch done = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      out.println(clockTime(System.currentTimeMillis()) + " agent " + config.agentId() + ": shutting down");
      agent.close();
      done.countDown();
    }, "lockstep-agent-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    if (waitForSignal) {
      try {
        done.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return 0;
  }
}
