package dev.lockstep.collector.evidence;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.EvidenceChunk;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Evidence kept in the main store by an earlier version moves to the evidence store. */
class EvidenceMoveTest {
  @TempDir Path dir;

  static EvidenceChunk chunk(String incident, String name, long offset, String data, boolean last) {
    return EvidenceChunk.newBuilder().setIncidentId(incident).setName(name).setOffset(offset)
        .setData(ByteString.copyFromUtf8(data)).setLast(last).build();
  }

  /** Every EVIDENCE record of {@code s}, key to value. */
  static Map<String, String> records(Store s) {
    Map<String, String> out = new TreeMap<>();
    s.scan(Store.Family.EVIDENCE, "", (k, v) -> {
      out.put(new String(k, StandardCharsets.UTF_8), java.util.HexFormat.of().formatHex(v));
      return true;
    });
    return out;
  }

  Store openMain() throws Exception {
    return Store.open(dir.resolve("db"), true, 8 << 20, 8 << 20);
  }

  /**
   * What an earlier version left in the main store: an artifact of 300 chunks (more than one
   * part of the move), a half-sent one, one cut by the incident's bound, a diff and a side-by-side
   * view, next to a capture request (core state, which stays).
   */
  Map<String, String> earlierVersion() throws Exception {
    try (Store main = openMain()) {
      EvidenceStore old = new EvidenceStore(main, 3_000);
      for (int i = 0; i < 300; i++) {
        old.accept("host-a", chunk("INC-000001", "primary.golden.json", i * 5L, "abcde", i == 299));
      }
      old.accept("host-b", chunk("INC-000001", "log.txt", 0, "half", false));
      old.accept("host-b", chunk("INC-000001", "big.bin", 0, "x".repeat(2_000), false));
      old.accept("host-b", chunk("INC-000001", "big.bin", 2_000, "y", true));
      old.putDiff("INC-000001", "{\"diff\":1}");
      old.putSideBySide("INC-000001", "{\"rows\":[]}");
      main.put(Store.Family.EVIDENCE, "capture/REQ-1", new byte[] {'7'}, true);
      assertThat(old.totalBytes()).isEqualTo(1_505);
      Map<String, String> before = records(main);
      assertThat(before.keySet()).anyMatch(k -> k.startsWith("cut/"))
          .anyMatch(k -> k.startsWith("diff/")).anyMatch(k -> k.startsWith("side-by-side/"))
          .anyMatch(k -> k.startsWith("info/")).anyMatch(k -> k.startsWith("total/"));
      return before;
    }
  }

  @Test
  void everyEvidenceRecordMovesOnceAndCaptureRequestsStay() throws Exception {
    Map<String, String> before = earlierVersion();
    try (Store main = openMain();
        Store evidenceDb = Store.openBeside(dir.resolve("evidence"), main, 8 << 20)) {
      assertThat(EvidenceStore.hasEvidence(main)).isTrue();
      assertThat(EvidenceStore.moveFrom(main, evidenceDb)).isPositive();
      Map<String, String> expected = new TreeMap<>(before);
      expected.remove("capture/REQ-1");
      assertThat(records(evidenceDb)).isEqualTo(expected);
      assertThat(records(main)).as("only the capture request stays").containsOnlyKeys("capture/REQ-1");
      assertThat(EvidenceStore.hasEvidence(main)).isFalse();
      EvidenceStore moved = new EvidenceStore(evidenceDb, 3_000);
      assertThat(moved.totalBytes()).isEqualTo(1_505);
      assertThat(new String(moved.read("INC-000001", "host-a", "primary.golden.json"),
          StandardCharsets.UTF_8)).isEqualTo("abcde".repeat(300));
      assertThat(moved.diff("INC-000001")).contains("{\"diff\":1}");
      assertThat(EvidenceStore.moveFrom(main, evidenceDb)).as("a second start moves nothing").isZero();
      // a later chunk of the half-sent artifact still completes it
      moved.accept("host-b", chunk("INC-000001", "log.txt", 4, " done", true));
      assertThat(new String(moved.read("INC-000001", "host-b", "log.txt"), StandardCharsets.UTF_8))
          .isEqualTo("half done");
    }
  }

  /**
   * A crash after a part was copied and before it was deleted leaves records in both stores; an
   * old db restored beside a current evidence store holds another total. Either way the overall
   * total is the sum of the incidents' totals, never a count twice.
   */
  @Test
  void theOverallTotalIsTheSumOfTheIncidentsTotalsAfterACrashOrAnOldDbBesideNewEvidence()
      throws Exception {
    Map<String, String> before = earlierVersion();
    try (Store main = openMain();
        Store evidenceDb = Store.openBeside(dir.resolve("evidence"), main, 8 << 20)) {
      EvidenceStore current = new EvidenceStore(evidenceDb, 3_000);
      current.accept("host-c", chunk("INC-000002", "new.txt", 0, "12345", true));
      assertThat(current.totalBytes()).isEqualTo(5);
      // half the records were copied before the crash (and none deleted yet)
      int n = 0;
      for (Map.Entry<String, String> e : before.entrySet()) {
        if (e.getKey().startsWith("capture/") || n++ % 2 == 1) continue;
        evidenceDb.put(Store.Family.EVIDENCE, e.getKey(), java.util.HexFormat.of().parseHex(e.getValue()), true);
      }
      EvidenceStore.moveFrom(main, evidenceDb);
      assertThat(current.totalBytes()).isEqualTo(1_505 + 5);
      assertThat(records(main)).containsOnlyKeys("capture/REQ-1");
    }
  }
}
