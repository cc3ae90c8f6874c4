package dev.lockstep.agent.probe;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads processes, memory and disks from /proc and the file system: what the playbook gets from
 * {@code pgrep -f}, {@code ps}, {@code ls /proc/PID/fd}, {@code free} and {@code df}.
 */
public final class ProcFs {
  /** Clock ticks per second of /proc/PID/stat times (USER_HZ; 100 on Linux). */
  static final long HZ = 100;
  private static final Path PROC = Path.of("/proc");

  private ProcFs() {}

  /** One process as /proc/PID shows it. */
  public record Proc(long pid, long ppid, char state, String comm, String cmdline, int uid, long rssKb,
      long vszKb, long startTicks, long cpuTicks) {
    public Instant startedAt() {
      return bootTime().plusMillis(startTicks * 1000 / HZ);
    }
  }

  public static Optional<Proc> read(long pid) {
    Path dir = PROC.resolve(Long.toString(pid));
    try {
      String stat = Files.readString(dir.resolve("stat"), StandardCharsets.UTF_8);
      int open = stat.indexOf('(');
      int close = stat.lastIndexOf(')');
      String comm = stat.substring(open + 1, close);
      String[] f = stat.substring(close + 2).trim().split(" ");
      byte[] cmd = Files.readAllBytes(dir.resolve("cmdline"));
      String cmdline = new String(cmd, StandardCharsets.UTF_8).replace('\0', ' ').trim();
      int uid = -1;
      for (String line : Files.readAllLines(dir.resolve("status"), StandardCharsets.UTF_8)) {
        if (line.startsWith("Uid:")) {
          uid = Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
          break;
        }
      }
      return Optional.of(new Proc(pid, Long.parseLong(f[1]), f[0].charAt(0), comm, cmdline, uid,
          Long.parseLong(f[21]) * 4, Long.parseLong(f[20]) / 1024, Long.parseLong(f[19]),
          Long.parseLong(f[11]) + Long.parseLong(f[12])));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  public static List<Proc> all() {
    List<Proc> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(PROC)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (!n.isEmpty() && Character.isDigit(n.charAt(0))) {
          read(Long.parseLong(n)).ifPresent(out::add);
        }
      }
    } catch (IOException e) {
      // no /proc: no processes visible
    }
    out.sort((a, b) -> Long.compare(a.pid(), b.pid()));
    return out;
  }

  /** Like {@code pgrep -f}: processes whose full command line matches, not this JVM. */
  public static List<Proc> matching(Pattern pattern) {
    long self = ProcessHandle.current().pid();
    List<Proc> out = new ArrayList<>();
    for (Proc p : all()) {
      if (p.pid() != self && !p.cmdline().isEmpty() && pattern.matcher(p.cmdline()).find()) {
        out.add(p);
      }
    }
    return out;
  }

  static Instant bootTime() {
    try {
      for (String line : Files.readAllLines(PROC.resolve("stat"), StandardCharsets.UTF_8)) {
        if (line.startsWith("btime ")) {
          return Instant.ofEpochSecond(Long.parseLong(line.substring(6).trim()));
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return Instant.EPOCH;
  }

  /**
   * The playbook's stuck-process look: state and elapsed time, children (zombies marked), the first
   * open files, and the kernel stack when readable. Bounded to maxBytes.
   */
  public static String snapshot(long pid, Instant now, int maxBytes) {
    StringBuilder s = new StringBuilder();
    Optional<Proc> p = read(pid);
    if (p.isEmpty()) {
      return "pid " + pid + ": gone";
    }
    Proc pr = p.get();
    Duration et = Duration.between(pr.startedAt(), now);
    s.append(String.format(Locale.ROOT, "pid %d state %c etime %s cmd %s%n", pid, pr.state(), etime(et), pr.cmdline()));
    try {
      String wchan = Files.readString(PROC.resolve(pid + "/wchan")).trim();
      if (!wchan.isEmpty() && !wchan.equals("0")) {
        s.append("wchan ").append(wchan).append('\n');
      }
    } catch (IOException e) {
      // not readable
    }
    List<Proc> children = all().stream().filter(c -> c.ppid() == pid).toList();
    long zombies = children.stream().filter(c -> c.state() == 'Z').count();
    s.append("children ").append(children.size()).append(" (zombies ").append(zombies).append(")\n");
    for (Proc c : children.subList(0, Math.min(children.size(), 20))) {
      s.append(String.format(Locale.ROOT, "  %d %c %s%s%n", c.pid(), c.state(), c.cmdline().isEmpty() ? "[" + c.comm() + "]" : c.cmdline(),
          c.state() == 'Z' ? "  <zombie>" : ""));
    }
    Path fd = PROC.resolve(pid + "/fd");
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(fd)) {
      List<String> fds = new ArrayList<>();
      int total = 0;
      for (Path f : ds) {
        total++;
        if (fds.size() < 20) {
          try {
            fds.add(f.getFileName() + " -> " + Files.readSymbolicLink(f));
          } catch (IOException e) {
            fds.add(f.getFileName() + " -> ?");
          }
        }
      }
      s.append("open fds ").append(total).append('\n');
      fds.sort(null);
      for (String f : fds) {
        s.append("  ").append(f).append('\n');
      }
    } catch (IOException e) {
      s.append("open fds: not readable (").append(e.getClass().getSimpleName()).append(")\n");
    }
    try {
      String stack = Files.readString(PROC.resolve(pid + "/stack"));
      if (!stack.isBlank()) {
        s.append("stack\n").append(stack);
      }
    } catch (IOException e) {
      // needs root
    }
    return s.length() > maxBytes ? s.substring(0, maxBytes) + "\n[cut]" : s.toString();
  }

  static String etime(Duration d) {
    long sec = Math.max(0, d.toSeconds());
    long days = sec / 86400;
    return (days > 0 ? days + "-" : "") + String.format(Locale.ROOT, "%02d:%02d:%02d", (sec % 86400) / 3600, (sec % 3600) / 60, sec % 60);
  }

  /** {@code ps aux}-like listing. */
  public static String psAux(Instant now) {
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%-8s %7s %7s %4s %10s %10s %12s %s%n",
        "UID", "PID", "PPID", "STAT", "RSS_KB", "VSZ_KB", "ELAPSED", "COMMAND"));
    for (Proc p : all()) {
      s.append(String.format(Locale.ROOT, "%-8d %7d %7d %4c %10d %10d %12s %s%n", p.uid(), p.pid(), p.ppid(), p.state(),
          p.rssKb(), p.vszKb(), etime(Duration.between(p.startedAt(), now)),
          p.cmdline().isEmpty() ? "[" + p.comm() + "]" : p.cmdline()));
    }
    return s.toString();
  }

  /** {@code free}-like memory summary from /proc/meminfo (KiB). */
  public static String memory() {
    Map<String, Long> m = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(PROC.resolve("meminfo"))) {
        String[] f = line.split(":\\s+");
        if (f.length == 2) {
          m.put(f[0], Long.parseLong(f[1].replace(" kB", "").trim()));
        }
      }
    } catch (IOException | RuntimeException e) {
      return "memory: /proc/meminfo not readable\n";
    }
    long total = m.getOrDefault("MemTotal", 0L);
    long free = m.getOrDefault("MemFree", 0L);
    long avail = m.getOrDefault("MemAvailable", free);
    long buffCache = m.getOrDefault("Buffers", 0L) + m.getOrDefault("Cached", 0L) + m.getOrDefault("SReclaimable", 0L);
    long used = total - free - buffCache;
    long swapTotal = m.getOrDefault("SwapTotal", 0L);
    long swapFree = m.getOrDefault("SwapFree", 0L);
    return String.format(Locale.ROOT, "%-6s %12s %12s %12s %12s %12s%n", "", "total", "used", "free", "buff/cache", "available")
        + String.format(Locale.ROOT, "%-6s %12s %12s %12s %12s %12s%n", "Mem:", human(total), human(used), human(free), human(buffCache), human(avail))
        + String.format(Locale.ROOT, "%-6s %12s %12s %12s%n", "Swap:", human(swapTotal), human(swapTotal - swapFree), human(swapFree))
        + "\n/proc/meminfo (kB):\n" + m.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
        .reduce("", (a, b) -> a + b + "\n");
  }

  /** {@code df -h}-like listing of every mounted file system, watched paths first. */
  public static String diskUsage(List<Path> watched) {
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%-28s %10s %10s %10s %5s  %s%n",
        "Filesystem", "Size", "Used", "Avail", "Use%", "Path/Type"));
    for (Path p : watched) {
      try {
        DiskProbe.Usage u = DiskProbe.usage(p);
        s.append(String.format(Locale.ROOT, "%-28s %10s %10s %10s %4.0f%%  %s%n", Files.getFileStore(p).name(),
            human(u.totalBytes() / 1024), human(u.usedBytes() / 1024), human(u.availableBytes() / 1024), u.usedPercent(), p));
      } catch (IOException e) {
        s.append(p).append(": ").append(e.getMessage()).append('\n');
      }
    }
    for (FileStore fs : FileSystems.getDefault().getFileStores()) {
      try {
        long total = fs.getTotalSpace();
        if (total == 0) {
          continue;
        }
        long used = total - fs.getUnallocatedSpace();
        long avail = fs.getUsableSpace();
        double pct = used + avail == 0 ? 0 : used * 100.0 / (used + avail);
        s.append(String.format(Locale.ROOT, "%-28s %10s %10s %10s %4.0f%%  %s%n", fs.name(), human(total / 1024),
            human(used / 1024), human(avail / 1024), pct, fs.toString().replace(" (" + fs.name() + ")", "") + " " + fs.type()));
      } catch (IOException e) {
        // unreadable mount
      }
    }
    return s.toString();
  }

  static String human(long kib) {
    double v = kib;
    String[] u = {"K", "M", "G", "T"};
    int i = 0;
    while (v >= 1024 && i < u.length - 1) {
      v /= 1024;
      i++;
    }
    return String.format(Locale.ROOT, v < 10 ? "%.1f%s" : "%.0f%s", v, u[i]);
  }
}
