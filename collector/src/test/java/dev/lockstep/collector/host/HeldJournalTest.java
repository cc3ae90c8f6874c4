package dev.lockstep.collector.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.core.Change;
import dev.lockstep.collector.incident.Incidents;
import dev.lockstep.collector.store.AuditLog;
import dev.lockstep.collector.store.RocksRunStateStore;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.store.v1.ResumedOrder;
import dev.lockstep.proto.v1.AuditEntry;
import dev.lockstep.proto.v1.StopOrder;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeldJournalTest {
  @TempDir Path dir;

  static StopOrder order(String id) {
    return StopOrder.newBuilder().setId(id).setReason("r " + id).build();
  }

  /**
   * Orders, resumes and counters come back in order across a reopen; other changes are not kept;
   * the file is allocated whole at open; a torn record ends what is read back; a full journal
   * refuses; a cleared one reads back empty.
   */
  @Test
  void recordsComeBackInOrderUntilATornOneAndAFullJournalRefuses() throws Exception {
    Path f = dir.resolve("held.journal");
    HeldJournal j = HeldJournal.open(f);
    assertThat(Files.size(f)).isEqualTo(HeldJournal.SIZE);
    assertThat(j.isEmpty()).isTrue();
    assertThat(j.append(List.of(new Change.PutOrder(order("ORD-1")), new Change.DeleteIncident("INC-1"),
        new Change.PutCounter("orders", 1)))).isTrue();
    assertThat(j.append(List.of(new Change.ResumeOrder(ResumedOrder.newBuilder().setOrder(order("ORD-1")).build())))).isTrue();
    j.close();
    j = HeldJournal.open(f);
    assertThat(j.read()).containsExactly(new Change.PutOrder(order("ORD-1")), new Change.PutCounter("orders", 1),
        new Change.ResumeOrder(ResumedOrder.newBuilder().setOrder(order("ORD-1")).build()));
    assertThat(j.append(List.of(new Change.PutOrder(order("ORD-2"))))).isTrue();
    assertThat(j.read()).hasSize(4).last().isEqualTo(new Change.PutOrder(order("ORD-2")));
    j.close();

    // a write torn by a crash: the second record's last byte flipped
    int first = 9 + order("ORD-1").getSerializedSize();
    int second = 9 + 8 + "orders".length();
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.seek(first + second - 1);
      int b = raf.readByte();
      raf.seek(first + second - 1);
      raf.write(b ^ 1);
    }
    j = HeldJournal.open(f);
    assertThat(j.read()).containsExactly(new Change.PutOrder(order("ORD-1")));

    j.clear();
    assertThat(j.isEmpty()).isTrue();
    assertThat(j.read()).isEmpty();
    StopOrder big = StopOrder.newBuilder().setId("ORD-big").setReason("x".repeat(HeldJournal.SIZE / 2)).build();
    assertThat(j.append(List.of(new Change.PutOrder(big)))).isTrue();
    assertThat(j.append(List.of(new Change.PutOrder(big)))).as("no room left").isFalse();
    assertThat(j.read()).containsExactly(new Change.PutOrder(big));
    j.close();
  }

  /**
   * Read back at start-up into the store: an order resumed since stays resumed, a counter never
   * goes back, the rest is committed, and the journal is cleared once the store holds it.
   */
  @Test
  void replayCommitsWhatTheStoreLacksAndClearsTheJournal() throws Exception {
    Path f = dir.resolve("held.journal");
    HeldJournal j = HeldJournal.open(f);
    j.append(List.of(new Change.PutOrder(order("ORD-1")), new Change.PutOrder(order("ORD-2")),
        new Change.PutCounter("orders", 2), new Change.PutCounter("incidents", 9)));
    j.close();
    try (Store store = Store.open(dir.resolve("db"), true, 8 << 20, 8 << 20)) {
      StoreState state = state(store);
      state.commit(List.of(new Change.ResumeOrder(ResumedOrder.newBuilder().setOrder(order("ORD-2")).build()),
          new Change.PutCounter("orders", 5), new Change.PutCounter("incidents", 3)), true, Instant.EPOCH);
      assertThat(state.journal(f, Instant.EPOCH)).isEqualTo(2);
      state.closeJournal();
      StoreState reread = state(store);
      assertThat(reread.activeOrders()).extracting(StopOrder::getId).containsExactly("ORD-1");
      assertThat(reread.resumedOrder("ORD-2")).isPresent();
      assertThat(reread.counter("orders")).isEqualTo(5);
      assertThat(reread.counter("incidents")).isEqualTo(9);
    }
    HeldJournal again = HeldJournal.open(f);
    assertThat(again.read()).as("cleared once committed").isEmpty();
    again.close();
  }

  /**
   * Who issued a held order is journaled with it and stored at the next start, once: a journal
   * the previous run committed but could not zero stores its entries again only where missing.
   */
  @Test
  void theAuditEntriesOfHeldOrdersComeBackOnce() throws Exception {
    Path f = dir.resolve("held.journal");
    AuditEntry issued = AuditLog.entry(Instant.ofEpochMilli(1_000), "alice", "operator", "EnableStop",
        "ORD-1", "10.0.0.1", "OK", "drill");
    AuditEntry resumed = AuditLog.entry(Instant.ofEpochMilli(1_000), "bob", "operator", "ResumeStop",
        "ORD-1", "10.0.0.2", "OK", "fixed");
    HeldJournal j = HeldJournal.open(f);
    j.append(List.of(new Change.PutOrder(order("ORD-1")), new Change.Audit(issued)));
    j.append(List.of(new Change.ResumeOrder(ResumedOrder.newBuilder().setOrder(order("ORD-1")).build()),
        new Change.Audit(resumed)));
    AuditEntry confirmed = AuditLog.entry(Instant.ofEpochMilli(1_000), "collector", "system", "StopConfirmed",
        "host-1", "", "OK", "");
    j.append(List.of(new Change.Audit(confirmed))); // no order in it: not kept
    j.close();
    try (Store store = Store.open(dir.resolve("db"), true, 8 << 20, 8 << 20)) {
      AuditLog audit = new AuditLog(store, Clock.systemUTC());
      try (Store.Batch b = store.batch()) {
        audit.stage(b, issued); // the previous run stored this one before it died
        b.commit(true);
      }
      StoreState state = new StoreState(store, new RocksRunStateStore(store), new Incidents(store), audit);
      assertThat(state.journal(f, Instant.EPOCH)).as("the order, its resume and the missing entry").isEqualTo(3);
      state.closeJournal();
      assertThat(audit.list(0, 100)).containsExactlyInAnyOrder(issued, resumed);
    }
  }

  /**
   * Of a held transaction's audit entries only its orders' are kept (a batch of events also holds
   * incident and remediation entries), and only when they fit: the order itself always comes first.
   */
  @Test
  void onlyTheAuditEntriesOfOrdersAreKeptAndNeverInsteadOfAnOrder() throws Exception {
    Path f = dir.resolve("held.journal");
    HeldJournal j = HeldJournal.open(f);
    AuditEntry auto = AuditLog.entry(Instant.ofEpochMilli(1_000), "collector", "system", "AutoStop",
        "ORD-1", "", "OK", "fleet for INC-1");
    AuditEntry opened = AuditLog.entry(Instant.ofEpochMilli(1_000), "collector", "system", "incident.open",
        "INC-1", "", "OK", "P0 MISMATCH");
    assertThat(j.append(List.of(new Change.PutOrder(order("ORD-1")), new Change.Audit(opened), new Change.Audit(auto)))).isTrue();
    assertThat(j.read()).containsExactly(new Change.PutOrder(order("ORD-1")), new Change.Audit(auto));
    // nearly full: an order whose audit entry would not fit is kept without it
    StopOrder big = StopOrder.newBuilder().setId("ORD-big").setReason("x".repeat(HeldJournal.SIZE - 2_000)).build();
    AuditEntry huge = AuditLog.entry(Instant.ofEpochMilli(2_000), "alice", "operator", "EnableStop",
        "ORD-2", "", "OK", "y".repeat(4_000));
    assertThat(j.append(List.of(new Change.PutOrder(big)))).isTrue();
    assertThat(j.append(List.of(new Change.PutOrder(order("ORD-2")), new Change.Audit(huge)))).isTrue();
    assertThat(j.read()).endsWith(new Change.PutOrder(order("ORD-2")));
    j.close();
  }

  private static StoreState state(Store store) {
    return new StoreState(store, new RocksRunStateStore(store), new Incidents(store),
        new AuditLog(store, Clock.systemUTC()));
  }
}
