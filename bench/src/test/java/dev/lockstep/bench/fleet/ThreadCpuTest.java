package dev.lockstep.bench.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class ThreadCpuTest {
  @Test
  void aBusyThreadShowsUpByItsNameWithoutItsNumber() throws Exception {
    long pid = ProcessHandle.current().pid();
    ThreadCpu before = ThreadCpu.of(pid);
    long[] id = new long[1];
    java.util.concurrent.CountDownLatch burnt = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Thread burner = new Thread(() -> {
      var mx = ManagementFactory.getThreadMXBean();
      long x = 0;
      // busy until the kernel counted 300 ms of this thread's CPU
      while (mx.getCurrentThreadCpuTime() < 300_000_000L) x += System.nanoTime() % 7;
      id[0] = x;
      burnt.countDown();
      try {
        release.await(); // alive while it is read: an ended thread leaves /proc
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "burner-7");
    burner.start();
    burnt.await();
    String line = ThreadCpu.of(pid).since(before, 3);
    release.countDown();
    burner.join();
    assertThat(line).matches("\\d+ ms \\(.*\\)").contains("burner ");
    long burnerMillis = Long.parseLong(line.replaceAll(".*burner (\\d+).*", "$1"));
    // ticks of 10 ms: the 300 ms it burned, give or take a tick
    assertThat(burnerMillis).isBetween(280L, 400L);
    assertThat(Long.parseLong(line.substring(0, line.indexOf(' ')))).isGreaterThanOrEqualTo(burnerMillis);
  }

  @Test
  void compilerTimeCountsOnlyTheJitThreads() {
    ThreadCpu before = new ThreadCpu(100, java.util.Map.of("C2 CompilerThre", 40L, "main", 10L));
    ThreadCpu after = new ThreadCpu(300, java.util.Map.of("C2 CompilerThre", 90L, "C1 CompilerThre", 20L,
        "main", 150L));
    assertThat(after.compilerMillisSince(before)).isEqualTo(70);
  }

  @Test
  void aStopsCpuIsSummedOverEveryProcessAndUnknownWhenOneCannotBeRead() {
    var before = java.util.List.of(new ThreadCpu(100, java.util.Map.of()), new ThreadCpu(50, java.util.Map.of()));
    var after = java.util.List.of(new ThreadCpu(160, java.util.Map.of()), new ThreadCpu(250, java.util.Map.of()));
    assertThat(FleetScale.cpuSince(after, before)).isEqualTo(60 + 200);
    var gone = java.util.List.of(new ThreadCpu(160, java.util.Map.of()), new ThreadCpu(-1, java.util.Map.of()));
    assertThat(FleetScale.cpuSince(gone, before)).isEqualTo(-1);
  }

  @Test
  void aProcessThatIsGoneReadsAsNotAvailable() {
    ThreadCpu gone = ThreadCpu.of(Long.MAX_VALUE);
    assertThat(gone.processMillis()).isEqualTo(-1);
    assertThat(gone.since(gone, 3)).isEqualTo("n/a");
  }
}
