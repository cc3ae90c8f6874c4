package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.proto.v1.Welcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of a real collector process during ingest loses no acked event. */
class CrashTest {
  @TempDir Path dir;
  Process process;

  int launches;

  Process launch(Path portFile) throws IOException {
    Files.deleteIfExists(portFile);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC",
        "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
        "dev.lockstep.collector.CollectorMain", "--listen", "127.0.0.1:0",
        "--data-dir", dir.resolve("data").toString(), "--port-file", portFile.toString(), "--insecure")
        .redirectErrorStream(true).redirectOutput(dir.resolve("collector-" + ++launches + ".log").toFile());
    return pb.start();
  }

  static int port(Path portFile) {
    return Eventually.value(Duration.ofSeconds(30), "port file", () -> {
      try {
        String s = Files.exists(portFile) ? Files.readString(portFile).trim() : "";
        return s.isEmpty() ? null : Integer.parseInt(s);
      } catch (IOException e) {
        return null;
      }
    });
  }

  static Event notice(long seq) {
    return Event.newBuilder().setSeq(seq).setNotice(AgentNotice.newBuilder()
        .setKind(AgentNotice.Kind.RETENTION).setMessage("event " + seq)).build();
  }

  @AfterEach
  void cleanup() {
    if (process != null && process.isAlive()) process.destroyForcibly();
  }

  @Test
  void everyAckedEventSurvivesKillDashNine() throws Exception {
    Path portFile = dir.resolve("port");
    process = launch(portFile);
    int port = port(portFile);
    RawAgent a = RawAgent.connect(port, "host-a");
    a.await("welcome", f -> f.hasWelcome());
    // a mismatch first: incident + stop state must be intact after the crash
    a.report(Goldens.report("run-1", "wf", "primary", "a"), Goldens.report("run-1", "wf", "shadow", "b"));
    StopState stop = Eventually.value(Duration.ofSeconds(30), "stop issued", () -> a.stops().stream()
        .filter(s -> s.getMode() == StopMode.STOPPED).findFirst().orElse(null));
    long seq = a.lastSeq();
    // stream batches without waiting for acks, kill while they flow
    long killAfterAcked = seq + 3_000;
    while (a.ackedUpTo() < killAfterAcked) {
      List<Event> batch = new ArrayList<>();
      for (int i = 0; i < 100; i++) batch.add(notice(++seq));
      a.events(batch.toArray(new Event[0]));
      if (seq - Math.max(0, a.ackedUpTo()) > 2_000) {
        // at most ~2,000 events in flight, like a real agent's window: the resend after the
        // restart stays within the collector's per-agent rate limit
        long target = seq - 1_500;
        Eventually.await(Duration.ofSeconds(30), "acks catch up", () -> a.ackedUpTo() >= target);
      }
    }
    process.destroyForcibly();
    long acked = a.ackedUpTo();
    assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
    a.close();
    assertThat(acked).isGreaterThanOrEqualTo(killAfterAcked);

    process = launch(portFile);
    int port2 = port(portFile);
    RawAgent again = RawAgent.connect(port2, "host-a");
    Welcome w = again.await("welcome", f -> f.hasWelcome()).getWelcome();
    assertThat(w.getAckedSeq()).isGreaterThanOrEqualTo(acked);
    assertThat(w.getStop().getGeneration()).isEqualTo(stop.getGeneration());
    assertThat(w.getStop().getMode()).isEqualTo(StopMode.STOPPED);
    assertThat(w.getStop().getOrders(0).getIncidentId()).isEqualTo("INC-000001");
    // the agent resumes: resends what was not acked, plus more
    long resumeFrom = w.getAckedSeq();
    List<Event> rest = new ArrayList<>();
    for (long s = resumeFrom + 1; s <= seq + 10; s++) rest.add(notice(s));
    for (int i = 0; i < rest.size(); i += 400) {
      again.events(rest.subList(i, Math.min(rest.size(), i + 400)).toArray(new Event[0]));
    }
    long last = seq + 10;
    again.await("all acked", f -> f.hasAck() && f.getAck().getUptoSeq() == last);
    again.close();
    process.destroy();
    assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();

    Map<Long, Integer> counts = new HashMap<>();
    try (Store store = Store.open(dir.resolve("data").resolve("db"), true, 8 << 20, 8 << 20)) {
      store.scanEvents(0, e -> {
        if (e.agentId().equals("host-a")) counts.merge(e.event().getSeq(), 1, Integer::sum);
        return true;
      });
    }
    for (long s = 1; s <= last; s++) {
      assertThat(counts.get(s)).as("seq %d stored once", s).isEqualTo(1);
    }
    assertThat(counts).hasSize((int) last);
    assertThat(Files.readString(dir.resolve("collector-1.log"))).contains("listening on 127.0.0.1:")
        .contains("stop order " + stop.getOrders(0).getId() + " issued by collector");
    assertThat(Files.readString(dir.resolve("collector-2.log"))).contains("shutting down")
        .contains("stopped");
  }
}
