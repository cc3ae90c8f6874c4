package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lockstep.agent.Agent;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.collector.Collector;
import dev.lockstep.collector.config.CollectorConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/playbook.md cannot drift: every command in its {@code bash} blocks is run, in order,
 * against a real collector with real agents after a real mismatch.
 */
class PlaybookDocTest {
  static final Path PLAYBOOK = Path.of("..", "docs", "playbook.md").toAbsolutePath().normalize();
  static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;
  Collector collector;
  String address;
  final List<Agent> agents = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    collector = Collector.start(CollectorConfig.defaults(dir.resolve("collector")).withInsecure(true).withListen("127.0.0.1", 0),
        Clock.systemUTC(), line -> {});
    address = "127.0.0.1:" + collector.port();
    for (String id : List.of("host-a", "host-b")) {
      Path root = dir.resolve("agents").resolve(id);
      Files.createDirectories(root.resolve("golden"));
      AgentConfig config = AgentConfig.defaults(id, address, root.resolve("state"))
          .withReconnect(Duration.ofMillis(100), Duration.ofMillis(400))
          .withGolden(new AgentConfig.GoldenWatch(List.of(root.resolve("golden").toString()), "*.json",
              Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(500)))
          .withStopFile(root.resolve("run/EMERGENCY_STOP"))
          .withHooks("true", "true", "true");
      agents.add(Agent.start(config, Clock.systemUTC(), line -> {}));
    }
    Eventually.await(WAIT, "2 agents connected", () -> collector.fleet().connectedCount() == 2);
  }

  @AfterEach
  void stop() {
    for (int i = agents.size() - 1; i >= 0; i--) agents.get(i).close();
    collector.close();
  }

  @Test
  void everyCommandInThePlaybookRunsAgainstARealFleet() throws Exception {
    golden("host-a", "primary", 42);
    golden("host-b", "shadow", 43);
    Eventually.await(WAIT, "the P0 and the automatic stop", () ->
        Cli.run("incidents", "--open", "--severity", "P0", "-o", "json", "--collector", address, "--insecure").out().contains("\"P0\""));
    String incident = new ObjectMapper().readTree(
            Cli.run("incidents", "--open", "--severity", "P0", "-o", "json", "--collector", address, "--insecure").out())
        .path("incidents").get(0).path("id").asText();

    // The recovery step re-runs "the workflow" 10x: a stand-in that writes the same golden file.
    Path workflow = dir.resolve("run-workflow.sh");
    Files.writeString(workflow, "#!/bin/sh\nmkdir -p '" + dir + "/out'\nprintf '%s' '{\"run_id\":\"r\",\"workflow\":\"'$1'\",\"seed\":1,"
        + "\"steps\":[{\"index\":0,\"name\":\"s\",\"output\":{\"n\":1}}]}' > '" + dir + "/out/run.golden.json'\n");
    assertThat(workflow.toFile().setExecutable(true)).isTrue();

    List<List<String>> commands = commandsIn(Files.readString(PLAYBOOK));
    assertThat(commands).as("commands found in %s", PLAYBOOK).hasSizeGreaterThanOrEqualTo(12);
    for (List<String> command : commands) {
      List<String> args = new ArrayList<>();
      for (String word : command.subList(1, command.size())) {
        if (word.equals("$ORDER")) {
          // the operator names each order `stop status` (the step before) showed
          List<String> ids = new ArrayList<>();
          new ObjectMapper().readTree(Cli.run("stop", "status", "-o", "json", "--collector", address,
              "--insecure").out()).path("orders").forEach(o -> ids.add(o.path("id").asText()));
          args.add(ids.get(0));
          for (String id : ids.subList(1, ids.size())) args.addAll(List.of("--order", id));
          continue;
        }
        args.add(word.replace("$INCIDENT", incident).replaceFirst("^\\./", dir.toString() + "/")
            .replaceFirst("^out/", dir.resolve("out").toString() + "/"));
      }
      boolean offline = command.get(1).equals("verify");
      if (!offline) {
        args.add("--collector");
        args.add(address);
        args.add("--insecure");
      }
      Cli.Result result = Cli.run(args.toArray(String[]::new));
      assertThat(result.exitCode())
          .as("`%s` from docs/playbook.md exited %d: %s%s", String.join(" ", command), result.exitCode(), result.out(), result.err())
          .isIn(0, 1);
    }

    String shown = Cli.run("incident", "show", incident, "-o", "json", "--collector", address, "--insecure").out();
    assertThat(shown).as("the playbook's resolve took effect").contains("RESOLVED");
    assertThat(dir.resolve("m4-incident-" + incident).resolve("manifest.json")).isRegularFile();
    Eventually.await(WAIT, "the playbook's resume reached every agent", () ->
        !Files.exists(dir.resolve("agents/host-a/run/EMERGENCY_STOP")) && !Files.exists(dir.resolve("agents/host-b/run/EMERGENCY_STOP")));
  }

  /** The {@code lockstep ...} lines of every {@code ```bash} block, split like a shell would. */
  static List<List<String>> commandsIn(String markdown) {
    List<List<String>> commands = new ArrayList<>();
    boolean inBash = false;
    for (String line : markdown.split("\n")) {
      if (line.startsWith("```")) {
        inBash = !inBash && line.trim().equals("```bash");
        continue;
      }
      if (!inBash) continue;
      List<String> words = shellWords(line);
      if (!words.isEmpty()) {
        assertThat(words.get(0)).as("bash blocks in the playbook hold only lockstep commands: %s", line).isEqualTo("lockstep");
        commands.add(words);
      }
    }
    return commands;
  }

  /** Splits on blanks, honours double quotes, drops a trailing {@code # comment}. */
  static List<String> shellWords(String line) {
    List<String> words = new ArrayList<>();
    StringBuilder word = null;
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '"') {
        quoted = !quoted;
        if (word == null) word = new StringBuilder();
      } else if (!quoted && c == '#' && word == null) {
        break;
      } else if (!quoted && Character.isWhitespace(c)) {
        if (word != null) words.add(word.toString());
        word = null;
      } else {
        if (word == null) word = new StringBuilder();
        word.append(c);
      }
    }
    if (word != null) words.add(word.toString());
    return words;
  }

  private void golden(String agent, String role, int total) throws Exception {
    Path d = dir.resolve("agents").resolve(agent).resolve("golden");
    Path tmp = d.resolve(".run-7." + role + ".tmp");
    Files.writeString(tmp, "{\"format\":\"lockstep.golden/v1\",\"run_id\":\"run-7\",\"workflow\":\"billing.reconcile\","
        + "\"role\":\"" + role + "\",\"seed\":42,\"steps\":[{\"index\":0,\"name\":\"load\",\"kind\":\"compute\","
        + "\"output\":{\"n\":3}}],\"output\":{\"total\":" + total + "}}", StandardCharsets.UTF_8);
    Files.move(tmp, d.resolve("run-7." + role + ".golden.json"), StandardCopyOption.ATOMIC_MOVE);
  }
}
