package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.proto.v1.StopMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A collector started with collector/jvm.options (what ./lockstep collector and the installed
 * launcher use): the kernel sees its routine ingest threads at a lower priority (nice 4) than the
 * core thread and the urgent ingest threads (nice 0), and no thread above nice 0, read from /proc.
 */
class ThreadPriorityTest {
  @TempDir Path dir;
  Process process;

  @AfterEach
  void cleanup() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Nice values of the process's threads by thread name (as the kernel truncates it). */
  static Map<String, List<Integer>> niceByThread(long pid) throws IOException {
    Map<String, List<Integer>> out = new TreeMap<>();
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks.toList()) {
        try {
          String comm = Files.readString(task.resolve("comm")).trim();
          String stat = Files.readString(task.resolve("stat"));
          // fields after "(comm) ": state is field 3, nice is field 19
          String[] f = stat.substring(stat.lastIndexOf(") ") + 2).split(" ");
          out.computeIfAbsent(comm, k -> new ArrayList<>()).add(Integer.parseInt(f[16]));
        } catch (java.nio.file.NoSuchFileException gone) {
          // the thread ended while we looked
        }
      }
    }
    return out;
  }

  @Test
  void routineIngestThreadsRunAtALowerOsPriorityThanTheStopPath() throws Exception {
    Path options = Path.of("jvm.options").toAbsolutePath();
    Path portFile = dir.resolve("port");
    process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "@" + options, "-Xmx256m",
        "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
        "dev.lockstep.collector.CollectorMain", "--listen", "127.0.0.1:0", "--insecure",
        "--data-dir", dir.resolve("data").toString(), "--port-file", portFile.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("collector.log").toFile()).start();
    int port = CrashTest.port(portFile);
    try (RawAgent a = RawAgent.connect(port, "host-a")) {
      a.await("welcome", f -> f.hasWelcome());
      a.events(CrashTest.notice(1), CrashTest.notice(2));
      a.await("routine batch acked", f -> f.hasAck() && f.getAck().getUptoSeq() == 2);
      a.seq(2);
      a.report(Goldens.report("run-1", "wf", "primary", "a"), Goldens.report("run-1", "wf", "shadow", "b"));
      Eventually.await(Duration.ofSeconds(30), "the stop", () -> a.lastStop() != null
          && a.lastStop().getMode() == StopMode.STOPPED);
      // An urgent frame runs on the urgent pool unless the stream's routine drain is still running
      // (then that drain runs it, in order): the report may have. The stop's ack, sent again until
      // one finds the stream idle (acks are idempotent), starts the urgent pool's thread.
      Eventually.await(Duration.ofSeconds(30), "an urgent ingest thread", () -> {
        a.ack(a.lastStop(), true);
        try {
          return niceByThread(process.pid()).containsKey("lockstep-urgent");
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      Map<String, List<Integer>> nice = niceByThread(process.pid());
      assertThat(nice).as("threads of the collector (%s)", nice)
          .containsKeys("lockstep-ingest", "lockstep-urgent", "lockstep-core");
      assertThat(nice.get("lockstep-ingest")).as("routine ingest threads").containsOnly(4);
      assertThat(nice.get("lockstep-urgent")).as("urgent ingest threads").containsOnly(0);
      assertThat(nice.get("lockstep-core")).as("the core thread").containsOnly(0);
      // Priorities only go down. As root, ThreadPriorityPolicy=1 alone would also RAISE the JVM's
      // own threads (JIT compilers, GC, VM thread: nice -4, Reference Handler -5) above the stop
      // path, and a stop would wait for the JIT compiling its own code (measured in the fleet
      // bench: the C2 thread was the busiest collector thread while a stop went out). As any
      // other user the raise fails silently; the options make both the same.
      nice.forEach((thread, values) -> assertThat(values).as("nice of %s", thread)
          .allMatch(n -> n >= 0));
      assertThat(nice.get("C2 CompilerThre")).as("the JIT compiler").containsOnly(0);
    }
  }
}
