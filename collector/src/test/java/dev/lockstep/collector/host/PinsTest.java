package dev.lockstep.collector.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.correlate.Replica;
import dev.lockstep.collector.correlate.RunState;
import dev.lockstep.collector.correlate.Verdict;
import dev.lockstep.proto.v1.CollectorFrame;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class PinsTest {
  static final int AGENTS = 1_000;

  /** Connected agents: what each was sent. */
  static final class Fleet implements Pins.Streams {
    final Map<String, List<CollectorFrame>> sent = new LinkedHashMap<>();

    Fleet(int agents) {
      for (int i = 0; i < agents; i++) sent.put("host-" + i, new ArrayList<>());
    }

    @Override
    public void forEach(BiConsumer<String, Consumer<CollectorFrame>> action) {
      sent.forEach((id, frames) -> action.accept(id, frames::add));
    }

    @Override
    public Optional<Consumer<CollectorFrame>> of(String agentId) {
      return Optional.ofNullable(sent.get(agentId)).map(frames -> frames::add);
    }

    dev.lockstep.proto.v1.Pins last(String agentId) {
      List<CollectorFrame> frames = sent.get(agentId);
      assertThat(frames).as("frames sent to %s", agentId).isNotEmpty();
      return frames.get(frames.size() - 1).getPins();
    }
  }

  static RunState run(String runId, Replica... replicas) {
    return new RunState(runId, "billing.reconcile", 0, 0, List.of(replicas), Verdict.MISMATCH, 0,
        "EXTERNAL_CALL", "", "INC-000001");
  }

  static Replica replica(String agent, String role, String path) {
    return new Replica(agent, role, null, path, 0);
  }

  final Map<String, RunState> runs = Map.of(
      "run-1", run("run-1", replica("host-1", "primary", "/g/run-1.primary"),
          replica("host-2", "shadow", "/g/run-1.shadow")),
      "run-2", run("run-2", replica("host-1", "primary", "/g/run-2.primary"),
          replica("host-1", "shadow", ""), replica("host-3", "shadow", "/g/run-2.shadow")));
  final AtomicInteger reads = new AtomicInteger();

  Optional<RunState> read(String runId) {
    reads.incrementAndGet();
    return Optional.ofNullable(runs.get(runId));
  }

  @Test
  void aChangeReadsEachOpenRunOnceForTheWholeFleetAndSendsEachAgentItsOwnFiles() {
    Fleet fleet = new Fleet(AGENTS);
    Set<String> open = new TreeSet<>(List.of("run-1", "run-2", "run-gone"));
    Pins pins = new Pins(() -> open, this::read, fleet, Runnable::run);

    pins.changed();

    // once per open run (the one no longer stored included), not once per agent and run
    assertThat(reads.get()).isEqualTo(3);
    for (String agent : fleet.sent.keySet()) {
      assertThat(fleet.sent.get(agent)).as(agent).hasSize(1);
      assertThat(fleet.last(agent).getRunIdsList()).containsExactly("run-1", "run-2", "run-gone");
    }
    assertThat(fleet.last("host-1").getPathsList()).containsExactly("/g/run-1.primary", "/g/run-2.primary");
    assertThat(fleet.last("host-2").getPathsList()).containsExactly("/g/run-1.shadow");
    assertThat(fleet.last("host-3").getPathsList()).containsExactly("/g/run-2.shadow");
    assertThat(fleet.last("host-4").getPathsList()).isEmpty();

    // the same set again sends nothing and reads nothing
    pins.changed();
    assertThat(reads.get()).isEqualTo(3);
    assertThat(fleet.sent.get("host-4")).hasSize(1);
  }

  @Test
  void manyOpenRunsArePinnedWithinTheCapNewestFirst() {
    Fleet fleet = new Fleet(3);
    // 4,000 open runs, each a 250-character id and a 1,000-byte file: about 5 MB, newest first
    Set<String> open = new LinkedHashSet<>();
    Map<String, RunState> many = new HashMap<>();
    for (int i = 0; i < 4_000; i++) {
      String id = String.format("%05d", i) + "r".repeat(245);
      open.add(id);
      many.put(id, run(id, replica("host-" + i % 3, "primary", "/g/" + "p".repeat(990) + id.substring(0, 5))));
    }
    Pins pins = new Pins(() -> open, id -> Optional.ofNullable(many.get(id)), fleet, Runnable::run);

    pins.changed();
    pins.sendTo("host-1");

    List<String> newest = List.copyOf(open);
    for (String agent : fleet.sent.keySet()) {
      for (CollectorFrame f : fleet.sent.get(agent)) {
        assertThat(f.getSerializedSize()).as(agent).isLessThanOrEqualTo(Pins.MAX_PINS_BYTES + 8);
        List<String> runIds = f.getPins().getRunIdsList();
        assertThat(runIds).as("the newest runs that fit").hasSizeBetween(100, 3_999)
            .isEqualTo(newest.subList(0, runIds.size()));
        assertThat(f.getPins().getPathsList()).as(agent + ": its files of the pinned runs only")
            .allSatisfy(p -> assertThat(runIds).anyMatch(r -> p.endsWith(r.substring(0, 5))))
            .isNotEmpty();
      }
    }
    assertThat(fleet.sent.get("host-1")).hasSize(2);
  }

  @Test
  void aReconnectedAgentGetsTheCurrentPinsWithItsFiles() {
    Fleet fleet = new Fleet(5);
    Pins pins = new Pins(() -> Set.of("run-2"), this::read, fleet, Runnable::run);

    pins.sendTo("host-3");
    pins.sendTo("host-unknown");

    assertThat(fleet.last("host-3").getRunIdsList()).containsExactly("run-2");
    assertThat(fleet.last("host-3").getPathsList()).containsExactly("/g/run-2.shadow");
    assertThat(fleet.sent.get("host-1")).isEmpty();
  }
}
