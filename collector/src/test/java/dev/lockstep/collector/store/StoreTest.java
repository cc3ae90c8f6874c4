package dev.lockstep.collector.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreTest {
  @TempDir Path dir;

  static List<Event> events(long from, long to) {
    List<Event> out = new ArrayList<>();
    for (long s = from; s <= to; s++) {
      out.add(Event.newBuilder().setSeq(s).setNotice(AgentNotice.newBuilder().setMessage("e" + s)).build());
    }
    return out;
  }

  static int count(Store store, String agent) {
    int[] n = {0};
    store.scanEvents(0, e -> {
      if (e.agentId().equals(agent)) n[0]++;
      return true;
    });
    return n[0];
  }

  /**
   * A call after close (a stream's cancel callback still running while the collector shuts down)
   * gets a StoreException; it used to reach freed RocksDB handles and crash the JVM. Closing
   * twice is harmless.
   */
  @Test
  void callsAfterCloseFailCleanly() throws Exception {
    Store store = Store.open(dir.resolve("closed"), true, 8 << 20, 8 << 20);
    store.put(Store.Family.META, "k", new byte[] {1}, true);
    store.close();
    store.close();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.put(Store.Family.META, "k", new byte[] {2}, true))
        .isInstanceOf(Store.StoreException.class).hasMessageContaining("is closed");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.get(Store.Family.AGENTS, "k"))
        .isInstanceOf(Store.StoreException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.ingest("a", events(1, 1), 1))
        .isInstanceOf(Store.StoreException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
      try (Store.Batch b = store.batch()) {
        b.put(Store.Family.META, "k", new byte[] {3}).commit(true);
      }
    }).isInstanceOf(Store.StoreException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.scan(Store.Family.META, "", (k, v) -> true))
        .isInstanceOf(Store.StoreException.class);
  }

  @Test
  void storedSeqsSentAgainAreDuplicatesAcrossReopen() throws Exception {
    Path db = dir.resolve("db");
    try (Store store = Store.open(db, true, 8 << 20, 8 << 20)) {
      Store.IngestResult r = store.ingest("a", events(1, 10), 1000);
      assertThat(r.stored()).hasSize(10);
      assertThat(r.highWaterMark()).isEqualTo(10);
      Store.IngestResult dup = store.ingest("a", events(5, 12), 1001);
      assertThat(dup.stored()).extracting(Event::getSeq).containsExactly(11L, 12L);
      assertThat(dup.duplicates()).isEqualTo(6);
      store.ingest("b", events(1, 3), 1002);
    }
    try (Store store = Store.open(db, true, 8 << 20, 8 << 20)) {
      assertThat(store.highWaterMark("a")).isEqualTo(12);
      assertThat(store.ingest("a", events(1, 12), 2000).stored()).isEmpty();
      assertThat(count(store, "a")).isEqualTo(12);
      assertThat(count(store, "b")).isEqualTo(3);
    }
  }

  @Test
  void aSeqSkippedBelowTheMarkIsRefusedAcrossReopenAndWritesNothing() throws Exception {
    Path db = dir.resolve("db");
    try (Store store = Store.open(db, true, 8 << 20, 8 << 20)) {
      store.ingest("a", events(1, 2), 1000);
      store.ingest("a", events(5, 5), 1001);
    }
    try (Store store = Store.open(db, true, 8 << 20, 8 << 20)) {
      List<Event> late = new ArrayList<>(events(3, 3));
      late.addAll(events(6, 6));
      Store.IngestResult r = store.ingest("a", late, 2000, x -> {
        throw new AssertionError("a refused batch is not handed on");
      });
      assertThat(r.refusal()).contains("event seq 3").contains("never stored");
      assertThat(r.stored()).isEmpty();
      assertThat(r.highWaterMark()).isEqualTo(5);
      assertThat(store.highWaterMark("a")).isEqualTo(5);
      assertThat(count(store, "a")).isEqualTo(3);
      assertThat(store.ingest("a", events(5, 6), 2001).stored()).extracting(Event::getSeq)
          .containsExactly(6L);
    }
  }

  @Test
  void retentionDeletesEventsIngestedBeforeTheCutoffOnly() throws Exception {
    try (Store store = Store.open(dir.resolve("db"), false, 8 << 20, 8 << 20)) {
      store.ingest("a", events(1, 5), 1_000);
      store.ingest("a", events(6, 8), 5_000);
      store.deleteEventsBefore(2_000);
      assertThat(count(store, "a")).isEqualTo(3);
      assertThat(store.highWaterMark("a")).isEqualTo(8);
    }
  }

  @Test
  void aBackupOfAClosedStoreIsACheckpoint() throws Exception {
    Path db = dir.resolve("db");
    try (Store store = Store.open(db, true, 8 << 20, 8 << 20)) {
      store.ingest("a", events(1, 50), 1000);
      store.put(Store.Family.STOP, "order/1", new byte[] {7}, true);
    }
    Store.backup(db, dir.resolve("backup"));
    try (Store restored = Store.open(dir.resolve("backup"), true, 8 << 20, 8 << 20)) {
      // both RocksDBs: the ingest one's events and marks, the main one's state
      assertThat(restored.highWaterMark("a")).isEqualTo(50);
      assertThat(count(restored, "a")).isEqualTo(50);
      assertThat(restored.get(Store.Family.STOP, "order/1")).containsExactly(7);
    }
  }

  @Test
  void aBackupOfARunningStoreOpensAsAStore() throws Exception {
    Path db = dir.resolve("db");
    try (Store store = Store.open(db, true, 8 << 20, 8 << 20)) {
      store.ingest("a", events(1, 100), 1000);
      store.put(Store.Family.STOP, "order/1", new byte[] {7}, true);
      Store.backup(db, dir.resolve("backup"));
      store.ingest("a", events(101, 120), 1000);
    }
    try (Store restored = Store.open(dir.resolve("backup"), true, 8 << 20, 8 << 20)) {
      assertThat(restored.highWaterMark("a")).isEqualTo(100);
      assertThat(count(restored, "a")).isEqualTo(100);
      assertThat(restored.get(Store.Family.STOP, "order/1")).containsExactly(7);
    }
  }
}
