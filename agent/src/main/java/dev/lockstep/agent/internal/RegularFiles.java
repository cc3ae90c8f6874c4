package dev.lockstep.agent.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Opens files that a workload may write (golden files, logs) for reading without following a
 * symbolic link in their last path component and without opening a FIFO or device: the agent
 * often runs as root, and such a name would make it read (and send) a file outside the watched
 * directories, or block in open(2) or read(2) for good.
 */
public final class RegularFiles {
  private RegularFiles() {}

  /** Whether {@code p} itself (not what a link names) is a regular file. */
  public static boolean isRegular(Path p) {
    return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Opens {@code p} for reading if it is itself a regular file. (A FIFO renamed over the name
   * between the check and the open still blocks the open: callers that must never block do not
   * open on a thread that matters.)
   */
  public static FileChannel open(Path p) throws IOException {
    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (!a.isRegularFile()) {
      throw new IOException(p + ": not a regular file ("
          + (a.isSymbolicLink() ? "a symbolic link" : a.isDirectory() ? "a directory" : "a FIFO, socket or device")
          + "); not read");
    }
    return FileChannel.open(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
  }
}
