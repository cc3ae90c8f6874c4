package dev.lockstep.agent.probe;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/** statvfs through java.nio: the usage of the file system holding a path, computed like df. */
public final class DiskProbe {
  private DiskProbe() {}

  /** used / (used + available) in percent, as df's Use% (root-reserved blocks excluded). */
  public record Usage(long totalBytes, long usedBytes, long availableBytes, double usedPercent) {}

  public static Usage usage(Path path) throws IOException {
    FileStore fs = Files.getFileStore(path);
    long total = fs.getTotalSpace();
    long used = total - fs.getUnallocatedSpace();
    long avail = fs.getUsableSpace();
    double pct = used + avail == 0 ? 0 : used * 100.0 / (used + avail);
    return new Usage(total, used, avail, pct);
  }
}
