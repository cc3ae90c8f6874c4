package dev.lockstep.collector.incident;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentState;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IncidentsTest {
  @TempDir Path dir;

  static Incident incident(String id, long lastSeenSeconds, IncidentState state, String... runs) {
    return Incident.newBuilder().setId(id).setSignature("sig-" + id).setState(state)
        .setLastSeen(Timestamp.newBuilder().setSeconds(lastSeenSeconds)).addAllRunIds(List.of(runs))
        .build();
  }

  @Test
  void openRunIdsComeNewestFirstWithoutResolvedIncidents() throws Exception {
    try (Store store = Store.open(dir.resolve("db"), true, 8 << 20, 8 << 20)) {
      Incidents book = new Incidents(store);
      book.applied(incident("INC-000001", 300, IncidentState.OPEN, "run-a", "run-b"));
      book.applied(incident("INC-000002", 100, IncidentState.ACKNOWLEDGED, "run-c"));
      book.applied(incident("INC-000003", 200, IncidentState.OPEN, "run-d", "run-a"));
      book.applied(incident("INC-000004", 400, IncidentState.RESOLVED, "run-e"));

      assertThat(book.openRunIds()).as("by last seen, the run added last first")
          .containsExactly("run-b", "run-a", "run-d", "run-c");
    }
  }
}
