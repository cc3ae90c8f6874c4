package dev.lockstep.agent.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Crash-safe file replacement: write a temp file, fsync it, rename it over the target, fsync the dir. */
public final class AtomicFiles {
  private AtomicFiles() {}

  public static void write(Path target, byte[] content) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve("." + target.getFileName() + ".tmp");
    try (FileChannel ch = createNew(tmp)) {
      ByteBuffer b = ByteBuffer.wrap(content);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
    syncDir(dir);
  }

  /**
   * Replaces the target atomically (temp file + rename) without waiting for the disk: a kill -9
   * keeps it (the page cache survives), a power cut may lose the newest version but never leaves
   * a torn one. For state that is cheap to rebuild and written often.
   */
  public static void replace(Path target, byte[] content) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Path tmp = dir.resolve("." + target.getFileName() + ".tmp");
    try (FileChannel ch = createNew(tmp)) {
      ByteBuffer b = ByteBuffer.wrap(content);
      while (b.hasRemaining()) {
        ch.write(b);
      }
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * Creates {@code tmp} afresh (O_EXCL) after removing whatever is at its name. The directory may be
   * one a workload writes (the stop file's is watched by the workloads): a symbolic link planted
   * there must never be written through by a root agent (truncating the file it names), and a FIFO
   * never opened (open(2) would wait for a reader for good, and with it the stop).
   */
  public static FileChannel createNew(Path tmp) throws IOException {
    for (int attempt = 0; ; attempt++) {
      Files.deleteIfExists(tmp); // a link itself, never what it names
      try {
        return FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        if (attempt >= 2) {
          throw e; // planted again and again: the caller's write fails, it is never misdirected
        }
      }
    }
  }

  /** Deletes the file (if present) and makes the removal durable. Returns whether it existed. */
  public static boolean delete(Path target) throws IOException {
    boolean existed = Files.deleteIfExists(target);
    Path dir = target.toAbsolutePath().getParent();
    if (existed && dir != null) {
      syncDir(dir);
    }
    return existed;
  }

  /** fsync of a directory, so a rename or delete in it survives a crash. Best effort. */
  public static void syncDir(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // some file systems refuse to open directories; the rename is still atomic there
    }
  }
}
