package dev.lockstep.cli.demo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lockstep demo}: runs a local fleet through the whole incident loop. */
@Command(
    name = "demo",
    description = {
      "Run a local fleet through the whole incident loop, then exit.",
      "",
      "A collector and 3 agents run as separate processes on loopback, a simulated workflow",
      "engine per host writing primary and shadow",
      "golden files every second, a few clean cycles, then an injected divergence. It prints the",
      "incident, its category, the stop fan-out, each confirmation and the resume, and exits 0.",
      "The last line is one JSON object of figures.",
      "",
      "With --cluster: one Kafka broker (KRaft, started from the project's jars) and two",
      "collectors in cluster mode; each agent knows both. Right after the divergence is injected",
      "the second collector is SIGKILLed: the stop still reaches, and is confirmed by, every agent.",
      "",
      "Example:",
      "  ./lockstep demo",
      "  ./lockstep demo --cluster"
    })
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--agents", defaultValue = "3", description = "Agents to start (default ${DEFAULT-VALUE}).")
  int agents;

  @Option(names = "--clean-cycles", defaultValue = "3", description = "Clean cycles before the divergence (default ${DEFAULT-VALUE}).")
  int cleanCycles;

  @Option(names = "--dir", description = "Workspace to use (default: a new temp directory).")
  Path dir;

  @Option(names = "--timeout", description = "Give up after this long (ISO-8601, default PT55S; PT3M with --cluster).")
  Duration timeout;

  @Option(names = "--cluster", description = "Cluster mode on Kafka: one broker, two collectors, one of them killed mid-run.")
  boolean cluster;

  @Override
  public Integer call() throws Exception {
    String launcher = System.getenv("LOCKSTEP_LAUNCHER");
    if (launcher == null || launcher.isBlank()) {
      System.err.println("lockstep demo: run it through the ./lockstep launcher (LOCKSTEP_LAUNCHER is not set)");
      return 2;
    }
    Path workspace = dir != null ? dir : Files.createTempDirectory("lockstep-demo-");
    Duration limit = timeout != null ? timeout : Duration.ofSeconds(cluster ? 180 : 55);
    Demo.Result result = new Demo(List.of(launcher), workspace, agents, cleanCycles, limit, System.out, cluster).run();
    System.out.println(result.toJson());
    return result.stopConfirmed() == agents ? 0 : 1;
  }
}
