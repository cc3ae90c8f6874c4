package dev.lockstep.collector.evidence;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.EvidenceChunk;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Evidence kept in the main store by an earlier version moves to the evidence store. */
class EvidenceMoveTest {
  @TempDir Path dir;

  static EvidenceChunk chunk(String incident, String name, long offset, String data, boolean last) {
    return EvidenceChunk.newBuilder().setIncidentId(incident).setName(name).setOffset(offset)
        .setData(ByteString.copyFromUtf8(data)).setLast(last).build();
  }

  static List<String> keys(Store s, String prefix) {
    List<String> out = new ArrayList<>();
    s.scan(Store.Family.EVIDENCE, prefix, (k, v) -> {
      out.add(new String(k, StandardCharsets.UTF_8));
      return true;
    });
    return out;
  }

  @Test
  void evidenceInTheMainStoreMovesOnceAndCaptureRequestsStay() throws Exception {
    Path db = dir.resolve("db");
    try (Store main = Store.open(db, true, 8 << 20, 8 << 20)) {
      EvidenceStore old = new EvidenceStore(main, 1 << 20);
      old.accept("host-a", chunk("INC-000001", "primary.golden.json", 0, "{\"a\":", false));
      old.accept("host-a", chunk("INC-000001", "primary.golden.json", 5, "1}", true));
      old.accept("host-b", chunk("INC-000001", "log.txt", 0, "half", false));
      main.put(Store.Family.EVIDENCE, "capture/REQ-1", new byte[] {7}, true);
      assertThat(old.totalBytes()).isEqualTo(11);
    }
    try (Store main = Store.open(db, true, 8 << 20, 8 << 20);
        Store evidenceDb = Store.openBeside(dir.resolve("evidence"), main, 8 << 20)) {
      assertThat(EvidenceStore.moveFrom(main, evidenceDb)).isPositive();
      EvidenceStore moved = new EvidenceStore(evidenceDb, 1 << 20);
      assertThat(moved.totalBytes()).isEqualTo(11);
      assertThat(moved.completed("INC-000001", "host-a", "primary.golden.json")).isTrue();
      assertThat(new String(moved.read("INC-000001", "host-a", "primary.golden.json"),
          StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
      assertThat(keys(main, "")).as("only the capture request stays in the main store")
          .containsExactly("capture/REQ-1");
      assertThat(main.get(Store.Family.META, "evidence_total_bytes")).isNull();
      assertThat(EvidenceStore.moveFrom(main, evidenceDb)).as("a second start moves nothing").isZero();

      // a crash after the copy and before the delete: the records are in both stores
      for (String k : keys(evidenceDb, "")) {
        main.put(Store.Family.EVIDENCE, k, evidenceDb.get(Store.Family.EVIDENCE, k), true);
      }
      main.put(Store.Family.META, "evidence_total_bytes", Store.longBytes(11), true);
      assertThat(EvidenceStore.moveFrom(main, evidenceDb)).isPositive();
      assertThat(moved.totalBytes()).as("the total is not counted twice").isEqualTo(11);
      assertThat(keys(main, "")).containsExactly("capture/REQ-1");
      // a later chunk of the half-sent artifact still completes it
      moved.accept("host-b", chunk("INC-000001", "log.txt", 4, " done", true));
      assertThat(new String(moved.read("INC-000001", "host-b", "log.txt"), StandardCharsets.UTF_8))
          .isEqualTo("half done");
    }
  }
}
