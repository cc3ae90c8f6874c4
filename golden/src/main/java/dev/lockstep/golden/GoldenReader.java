package dev.lockstep.golden;

import dev.lockstep.golden.GoldenParseException.Code;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Reads and summarises golden files one after another, as {@link Golden#read} does, but reusing
 * its file buffer, canonical-output buffer and SHA-256 digests from one file to the next, and
 * reading each file with one open and as few reads as it takes (no size look-up of its own: the
 * caller usually knows the size from the stat it already made). For a program that reads many
 * small files, such as the agent. Not thread-safe.
 */
public final class GoldenReader {
  /** A file buffer larger than this is dropped after use rather than kept. */
  private static final int KEEP_BYTES = 1 << 20;

  private final GoldenConfig config;
  private final MessageDigest document = Hashes.sha256();
  private final Canonicalizer canonicalizer;
  private byte[] buffer = new byte[16 * 1024];

  public GoldenReader(GoldenConfig config) {
    this.config = config;
    this.canonicalizer = new Canonicalizer(Slots.forHashing(config), null, false, document);
  }

  /**
   * The summary of {@code file}, as {@code Golden.read(file, config).summary()} gives it.
   *
   * @param sizeHint the file's size if known (a buffer of that size is used), else 0
   * @throws GoldenParseException a typed error (I/O failures have code IO)
   */
  public RunSummary read(Path file, long sizeHint) throws GoldenParseException {
    String source = file.toString();
    int len = readFile(file, source, sizeHint);
    try {
      Layout layout = JsonSyntax.check(buffer, len, source, config.limits(), Canonicalizer.BIG_BYTES);
      SummaryBuilder builder = new SummaryBuilder(config);
      document.reset();
      canonicalizer.capturesTo(builder);
      canonicalizer.walk(buffer, len, layout, source);
      return builder.summary(source, Hashes.format(document));
    } finally {
      canonicalizer.capturesTo(null);
      if (buffer.length > KEEP_BYTES) {
        buffer = new byte[16 * 1024];
      }
    }
  }

  private int readFile(Path file, String source, long sizeHint) throws GoldenParseException {
    long max = config.limits().maxBytes();
    if (sizeHint > max) {
      throw Golden.tooLarge(source, sizeHint, max);
    }
    if (buffer.length < sizeHint + 1) {
      buffer = new byte[(int) Math.min(Integer.MAX_VALUE - 16, sizeHint + 1)];
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      int n = 0;
      while (true) {
        if (n == buffer.length) {
          if (n > max) {
            throw Golden.tooLarge(source, n, max);
          }
          buffer = Arrays.copyOf(buffer, (int) Math.min(max + 1, (long) n * 2));
        }
        int r = ch.read(ByteBuffer.wrap(buffer, n, Math.min(buffer.length - n, 1 << 20)));
        if (r < 0) {
          break;
        }
        n += r;
      }
      if (n > max) {
        throw Golden.tooLarge(source, n, max);
      }
      return n;
    } catch (NoSuchFileException e) {
      throw new GoldenParseException(source, 0, 0, Code.IO, "no such file");
    } catch (IOException e) {
      throw new GoldenParseException(source, 0, 0, Code.IO, "cannot read: " + e.getMessage());
    }
  }
}
