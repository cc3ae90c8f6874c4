package dev.lockstep.agent.watch;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The watcher's file-system calls on golden directories: watch registration, listing, and one
 * stat per file that also yields the ctime. A test wraps it to make one directory fail the way a
 * permission change or the inotify watch limit does.
 */
interface Directories {
  /**
   * A file's stat, of the name itself (a symbolic link is not a regular file, so a link a workload
   * puts in a golden directory is never followed out of it): whether it is a regular file, its
   * size, mtime (ms) and ctime (ns).
   */
  record Attrs(boolean regular, long size, long mtimeMillis, long ctimeNanos) {}

  WatchKey register(Path dir, WatchService service) throws IOException;

  DirectoryStream<Path> list(Path dir) throws IOException;

  Attrs stat(Path file) throws IOException;

  /** The directory's own mtime (ns), for a polled directory: unchanged means no entry came or went. */
  long dirMtime(Path dir) throws IOException;

  /** The real file system. */
  Directories REAL = new Directories() {
    private volatile boolean unixView = true;

    @Override
    public WatchKey register(Path dir, WatchService service) throws IOException {
      return dir.register(service, ENTRY_CREATE, ENTRY_MODIFY);
    }

    @Override
    public DirectoryStream<Path> list(Path dir) throws IOException {
      return Files.newDirectoryStream(dir);
    }

    @Override
    public Attrs stat(Path file) throws IOException {
      if (unixView) {
        try {
          Map<String, Object> a = Files.readAttributes(file, "unix:isRegularFile,size,lastModifiedTime,ctime",
              java.nio.file.LinkOption.NOFOLLOW_LINKS);
          return new Attrs((Boolean) a.get("isRegularFile"), (Long) a.get("size"),
              ((FileTime) a.get("lastModifiedTime")).toMillis(), ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS));
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
          unixView = false; // not a Unix file system view: the mtime stands in for the ctime
        }
      }
      var a = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class,
          java.nio.file.LinkOption.NOFOLLOW_LINKS);
      return new Attrs(a.isRegularFile(), a.size(), a.lastModifiedTime().toMillis(),
          a.lastModifiedTime().to(TimeUnit.NANOSECONDS));
    }

    @Override
    public long dirMtime(Path dir) throws IOException {
      return Files.getLastModifiedTime(dir).to(TimeUnit.NANOSECONDS);
    }
  };
}
