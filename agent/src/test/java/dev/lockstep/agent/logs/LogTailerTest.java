package dev.lockstep.agent.logs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.agent.spool.Spool;
import dev.lockstep.proto.lite.v1.Event;
import dev.lockstep.proto.lite.v1.LogMatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogTailerTest {
  @TempDir Path dir;
  Spool spool;
  Path log;
  Path state;
  AgentConfig.LogWatch watch;
  LogTailer tailer;
  final List<dev.lockstep.proto.lite.v1.AgentNotice> notices = new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    spool = Spool.open(dir.resolve("spool"), 64L << 20, new AgentMetrics(), Clock.systemUTC());
    log = dir.resolve("shadow_24h_1.log");
    state = Files.createDirectories(dir.resolve("state"));
    // every line is a match, so every line read shows up as an event
    watch = new AgentConfig.LogWatch(log.toString(),
        List.of(new AgentConfig.LogRule("line", "^line (\\d+)", AgentConfig.RuleKind.CUSTOM, 1)),
        List.of(".1"), AgentConfig.DEFAULT_RUN_ID_REGEX, true);
    tailer = new LogTailer(List.of(watch), state, spool, new AgentMetrics(), Clock.systemUTC(), notices::add);
  }

  @AfterEach
  void tearDown() throws IOException {
    tailer.close();
    spool.close();
  }

  private void append(Path f, int from, int to) throws IOException {
    StringBuilder s = new StringBuilder();
    for (int i = from; i < to; i++) {
      s.append("line ").append(i).append('\n');
    }
    Files.writeString(f, s, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private List<Long> numbersSeen() throws IOException {
    List<Long> out = new ArrayList<>();
    for (Event e : dev.lockstep.agent.spool.SpoolEvents.read(spool, 0, 100_000, Long.MAX_VALUE)) {
      if (e.hasLogMatch()) {
        out.add(e.getLogMatch().getCount());
      }
    }
    return out;
  }

  private static List<Long> range(int to) {
    List<Long> r = new ArrayList<>();
    for (long i = 0; i < to; i++) {
      r.add(i);
    }
    return r;
  }

  @Test
  void renameRotationLosesNoLineAndReadsNoneTwice() throws IOException {
    append(log, 0, 100);
    tailer.poll();
    append(log, 100, 150); // written before rotation, not yet read
    Files.move(log, dir.resolve("shadow_24h_1.log.1"));
    append(dir.resolve("shadow_24h_1.log.1"), 150, 160); // the writer still has the old file open
    append(log, 160, 200); // the writer reopened: a new file under the name
    tailer.poll();
    tailer.poll();
    append(log, 200, 210);
    tailer.poll();
    assertThat(numbersSeen()).containsExactlyElementsOf(range(210));
  }

  @Test
  void copytruncateLosesNoLineAndReadsNoneTwice() throws IOException {
    append(log, 0, 100);
    tailer.poll();
    append(log, 100, 130); // not yet read when logrotate copies
    Files.copy(log, dir.resolve("shadow_24h_1.log.1"), StandardCopyOption.REPLACE_EXISTING);
    try (var ch = java.nio.channels.FileChannel.open(log, StandardOpenOption.WRITE)) {
      ch.truncate(0);
    }
    append(log, 130, 300); // grows past the old offset before the next poll
    tailer.poll();
    tailer.poll();
    assertThat(numbersSeen()).containsExactlyElementsOf(range(300));
  }

  @Test
  void offsetsSurviveARestartWithoutRepeatsOrGaps() throws IOException {
    append(log, 0, 50);
    tailer.poll();
    tailer.close();
    append(log, 50, 80);
    tailer = new LogTailer(List.of(watch), state, spool, new AgentMetrics(), Clock.systemUTC(), notices::add);
    tailer.poll();
    assertThat(numbersSeen()).containsExactlyElementsOf(range(80));
  }

  @Test
  void rotationWhileTheAgentWasDownIsFinishedFromTheRotatedFile() throws IOException {
    append(log, 0, 40);
    tailer.poll();
    tailer.close();
    append(log, 40, 60);
    Files.move(log, dir.resolve("shadow_24h_1.log.1"));
    append(log, 60, 70);
    tailer = new LogTailer(List.of(watch), state, spool, new AgentMetrics(), Clock.systemUTC(), notices::add);
    tailer.poll();
    assertThat(numbersSeen()).containsExactlyElementsOf(range(70));
  }

  @Test
  void aPartialLastLineIsReadOnlyWhenComplete() throws IOException {
    Files.writeString(log, "line 0\nline 1");
    tailer.poll();
    assertThat(numbersSeen()).containsExactly(0L);
    Files.writeString(log, "23\n", StandardOpenOption.APPEND);
    tailer.poll();
    assertThat(numbersSeen()).containsExactly(0L, 123L);
  }

  @Test
  void defaultRulesFindThePlaybookPatternsWithContextAndNearestRunId() throws IOException {
    tailer.close();
    Path shadow = dir.resolve("monitor.log");
    AgentConfig.LogWatch defaults = AgentConfig.LogWatch.of(shadow.toString());
    Spool s2 = Spool.open(dir.resolve("spool2"), 64L << 20, new AgentMetrics(), Clock.systemUTC());
    LogTailer t = new LogTailer(List.of(defaults), Files.createDirectories(dir.resolve("state2")), s2,
        new AgentMetrics(), Clock.systemUTC(), notices::add);
    Files.writeString(shadow, String.join("\n",
        "Running cycle 1",
        "run_id=billing-7f3a-cycle-0001 started",
        "compare done: 0 mismatches",
        "Running cycle 2",
        "run_id: billing-7f3a-cycle-0002 started",
        "step 3 output differs",
        "compare done: 2 mismatches",
        "CRITICAL: 2 mismatch errors found",
        "worker killed by OOM killer",
        "") );
    t.poll();
    List<LogMatch> m = dev.lockstep.agent.spool.SpoolEvents.read(s2, 0, 100, Long.MAX_VALUE).stream().filter(Event::hasLogMatch)
        .map(Event::getLogMatch).toList();
    assertThat(m).extracting(LogMatch::getKind).containsExactly(LogMatch.Kind.CYCLE, LogMatch.Kind.CLEAN_CYCLE,
        LogMatch.Kind.CYCLE, LogMatch.Kind.MISMATCH_COUNT, LogMatch.Kind.MISMATCH_COUNT, LogMatch.Kind.ERROR);
    LogMatch mismatches = m.get(3);
    assertThat(mismatches.getCount()).isEqualTo(2);
    assertThat(mismatches.getLineNumber()).isEqualTo(7);
    assertThat(mismatches.getRunId()).isEqualTo("billing-7f3a-cycle-0002");
    assertThat(mismatches.getContextList()).hasSize(5).endsWith("step 3 output differs");
    assertThat(m.get(4).getRule()).isEqualTo("mismatch_errors");
    assertThat(m.get(4).getCapturesList()).containsExactly("2");
    assertThat(m.get(1).getRunId()).isEqualTo("billing-7f3a-cycle-0001");
    LogStats stats = t.stats(shadow.toString());
    assertThat(stats.cycles()).isEqualTo(2);
    assertThat(stats.cleanCycles()).isEqualTo(1);
    t.close();
    s2.close();
  }

  @Test
  void tailReturnsTheLastLines() throws IOException {
    append(log, 0, 1000);
    assertThat(new String(LogTailer.tail(log, 3, 1 << 20))).isEqualTo("line 997\nline 998\nline 999\n");
    assertThat(new String(LogTailer.tail(log, 5, 20))).hasSizeLessThanOrEqualTo(20);
  }

  @Test
  void onTheFirstStartALogsHistoryIsNotReadUnlessStartAtBeginning() throws IOException {
    tailer.close();
    Path old = dir.resolve("first.log");
    append(old, 0, 50);
    Files.writeString(old, "line 50 half", StandardOpenOption.APPEND); // a line still being written
    AgentConfig.LogWatch end = new AgentConfig.LogWatch(old.toString(), watch.rules(), List.of(".1"),
        AgentConfig.DEFAULT_RUN_ID_REGEX, true);
    Path state2 = Files.createDirectories(dir.resolve("first-state"));
    tailer = new LogTailer(List.of(end), state2, spool, new AgentMetrics(), Clock.systemUTC(), notices::add);
    tailer.poll();
    assertThat(numbersSeen()).as("history is not replayed").isEmpty();
    Files.writeString(old, "\n", StandardOpenOption.APPEND);
    append(old, 51, 53);
    tailer.poll();
    assertThat(numbersSeen()).as("the line being written at start, and what came after")
        .containsExactly(50L, 51L, 52L);
    tailer.close();
    // not the first start any more: a log that appears now is read whole
    Path later = dir.resolve("later.log");
    append(later, 0, 3);
    tailer = new LogTailer(List.of(end, end.withStartAt(AgentConfig.StartAt.END)), state2, spool, new AgentMetrics(),
        Clock.systemUTC(), notices::add);
    tailer.poll();
    assertThat(numbersSeen()).containsExactly(50L, 51L, 52L);

    Path third = dir.resolve("third.log");
    append(third, 0, 4);
    AgentConfig.LogWatch beginning = new AgentConfig.LogWatch(third.toString(), watch.rules(), List.of(".1"),
        AgentConfig.DEFAULT_RUN_ID_REGEX, true, AgentConfig.StartAt.BEGINNING);
    try (LogTailer t = new LogTailer(List.of(beginning), Files.createDirectories(dir.resolve("third-state")), spool,
        new AgentMetrics(), Clock.systemUTC(), notices::add)) {
      t.poll();
    }
    assertThat(numbersSeen()).containsExactly(50L, 51L, 52L, 0L, 1L, 2L, 3L);
  }

  @Test
  void aDeletedFileIsReadToItsEndClosedAndForgotten() throws IOException {
    tailer.close();
    AgentConfig.LogWatch glob = new AgentConfig.LogWatch(dir.resolve("app-*.log").toString(), watch.rules(),
        List.of(".1"), AgentConfig.DEFAULT_RUN_ID_REGEX, true);
    AgentMetrics m = new AgentMetrics();
    tailer = new LogTailer(List.of(glob), state, spool, m, Clock.systemUTC(), notices::add);
    Path app = dir.resolve("app-1.log");
    append(app, 0, 10);
    tailer.poll();
    assertThat(m.logFiles.get()).isEqualTo(1);
    assertThat(openFds()).anyMatch(l -> l.endsWith("app-1.log"));
    append(app, 10, 12); // written, then the file is deleted before the next poll
    Files.delete(app);
    tailer.poll();
    assertThat(numbersSeen()).containsExactlyElementsOf(range(12));
    assertThat(m.logFiles.get()).isZero();
    assertThat(openFds()).as("no descriptor keeps the deleted file's space").noneMatch(l -> l.contains("app-1.log"));
    assertThat(Files.readString(state.resolve("log-offsets.json"))).doesNotContain("app-1.log");
  }

  @Test
  void aRegexThatOverflowsTheStackCostsThatRuleThatLineAndIsReported() throws IOException {
    tailer.close();
    Path shadow = dir.resolve("overflow.log");
    List<AgentConfig.LogRule> rules = new ArrayList<>();
    rules.add(new AgentConfig.LogRule("greedy", "(a|aa)*b$", AgentConfig.RuleKind.CUSTOM, 0));
    rules.addAll(AgentConfig.DEFAULT_RULES);
    AgentConfig.LogWatch w = new AgentConfig.LogWatch(shadow.toString(), rules, List.of(".1"),
        AgentConfig.DEFAULT_RUN_ID_REGEX, true, AgentConfig.StartAt.BEGINNING);
    tailer = new LogTailer(List.of(w), Files.createDirectories(dir.resolve("overflow-state")), spool, new AgentMetrics(),
        Clock.systemUTC(), notices::add);
    Files.writeString(shadow, "a".repeat(60_000) + "\ncompare done: 3 mismatches\n" + "a".repeat(60_000) + "\n");
    tailer.poll();
    assertOneMismatchAndOneNotice(2, "rule greedy overflowed the stack", "60000 characters");
  }

  /** The only match is the mismatch count at {@code line}; one SOURCE_FAILED notice says {@code says}. */
  private void assertOneMismatchAndOneNotice(long line, String... says) throws IOException {
    List<LogMatch> matches = dev.lockstep.agent.spool.SpoolEvents.after(spool, 0).stream().filter(Event::hasLogMatch)
        .map(Event::getLogMatch).toList();
    assertThat(matches).extracting(LogMatch::getKind).containsExactly(LogMatch.Kind.MISMATCH_COUNT);
    assertThat(matches.get(0).getLineNumber()).isEqualTo(line);
    assertThat(notices).extracting(dev.lockstep.proto.lite.v1.AgentNotice::getKind)
        .containsExactly(dev.lockstep.proto.lite.v1.AgentNotice.Kind.SOURCE_FAILED);
    assertThat(notices.get(0).getMessage()).contains(says);
  }

  @Test
  void aLineThatMakesADefaultRuleBacktrackCostsThatRuleThatLineNotSecondsOfTheTailersThread() throws IOException {
    // "([1-9][0-9]*) mismatches" tries every start in a run of digits and backtracks over the rest
    // of it: quadratic, about 10 s for a 60,000-digit line that a workload writes into its log
    tailer.close();
    Path shadow = dir.resolve("redos.log");
    AgentConfig.LogWatch w = new AgentConfig.LogWatch(shadow.toString(), AgentConfig.DEFAULT_RULES, List.of(".1"),
        AgentConfig.DEFAULT_RUN_ID_REGEX, true, AgentConfig.StartAt.BEGINNING);
    tailer = new LogTailer(List.of(w), Files.createDirectories(dir.resolve("redos-state")), spool, new AgentMetrics(),
        Clock.systemUTC(), notices::add);
    String digits = "1".repeat(60_000) + "\n";
    Files.writeString(shadow, digits.repeat(3) + "compare done: 3 mismatches\n" + digits);
    long t0 = System.nanoTime();
    tailer.poll();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(ms).as("one poll over four such lines").isLessThan(3_000);
    assertOneMismatchAndOneNotice(4, "rule mismatches backtracked past its budget", "60000 characters");
  }

  private static List<String> openFds() throws IOException {
    List<String> out = new ArrayList<>();
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : fds.toList()) {
        try {
          out.add(Files.readSymbolicLink(fd).toString());
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    return out;
  }
}
