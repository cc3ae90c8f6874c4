package dev.lockstep.collector.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.Eventually;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store opened beside another (evidence beside the stop authority's store). */
class StoreBesideTest {
  @TempDir Path dir;

  /**
   * Bulk writes that stall the store beside (its memtables full, no flush can run) must not hold
   * up a synced commit to the main store: a stop decision is committed there while evidence
   * chunks pour in. In one RocksDB a write stall stops every writer of every column family.
   */
  @Test
  void aWriteStallBesideDoesNotHoldUpTheMainStoresCommits() throws Exception {
    ExecutorService writer = Executors.newSingleThreadExecutor();
    try (Store main = Store.open(dir.resolve("db"), true, 8 << 20, 8 << 20);
        Store beside = Store.openBeside(dir.resolve("evidence"), main, 8 << 20)) {
      beside.pauseBackgroundWork();
      boolean paused = true;
      try {
        AtomicLong written = new AtomicLong();
        byte[] chunk = new byte[256 << 10];
        new java.util.Random(1).nextBytes(chunk); // incompressible: the SST files hold it all
        CompletableFuture<Void> bulk = CompletableFuture.runAsync(() -> {
          for (int i = 0; i < 100; i++) {
            beside.put(Store.Family.EVIDENCE, "chunk/" + i, chunk, false);
            written.incrementAndGet();
          }
        }, writer);
        Eventually.await(Duration.ofSeconds(30), "the store beside stops writes",
            beside::writesStopped);
        assertThat(bulk).as("the bulk writer is held by the stall").isNotDone();
        // the main store still commits, synced, while the writer beside is held
        CompletableFuture.runAsync(() -> {
          try (Store.Batch b = main.batch()) {
            b.put(Store.Family.STOP, "order/1", new byte[] {1}).commit(true);
          }
        }).get(30, TimeUnit.SECONDS);
        assertThat(main.get(Store.Family.STOP, "order/1")).containsExactly(1);
        assertThat(main.writesStopped()).isFalse();
        assertThat(bulk).as("the writer beside was held while the main store committed").isNotDone();
        assertThat(beside.writesStopped()).isTrue();
        paused = false;
        beside.continueBackgroundWork();
        bulk.get(60, TimeUnit.SECONDS);
        assertThat(written.get()).isEqualTo(100);
        Eventually.await(Duration.ofSeconds(30), "the cap counts the SST files beside",
            () -> main.sstBytes() >= 16L << 20);
      } finally {
        if (paused) beside.continueBackgroundWork();
        writer.shutdown();
        writer.awaitTermination(60, TimeUnit.SECONDS); // before the stores close
      }
    } finally {
      writer.shutdownNow();
    }
  }
}
