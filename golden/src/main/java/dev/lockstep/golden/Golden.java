package dev.lockstep.golden;

import dev.lockstep.golden.GoldenParseException.Code;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Entry point: read a golden file under limits and summarise it (docs/golden-format.md). Reading
 * for a hash holds the file's bytes and a bounded buffer; reading for a diff keeps the canonical
 * form instead of the file.
 */
public final class Golden {
  private Golden() {}

  /**
   * Reads and summarises {@code file}; I/O failures are a {@link GoldenParseException} with code IO.
   * The size limit is checked against the file size before any byte is read.
   */
  public static GoldenDocument read(Path file, GoldenConfig config) throws GoldenParseException {
    byte[] bytes = readBytes(file, config);
    return parse(bytes, bytes.length, file.toString(), config);
  }

  /**
   * Reads {@code file} for a diff: the document keeps its canonical form (nothing masked) and lets
   * the file's bytes go, so two documents in memory take about their two files' size.
   */
  public static GoldenDocument readForDiff(Path file, GoldenConfig config) throws GoldenParseException {
    byte[] bytes = readBytes(file, config);
    String source = file.toString();
    Layout layout = JsonSyntax.check(bytes, bytes.length, source, config.limits(), Canonicalizer.BIG_BYTES);
    GoldenDocument.Canonical canonical = Canonicalizer.whole(bytes, bytes.length, layout, source);
    long size = bytes.length;
    bytes = null; // the canonical form replaces the file
    RunSummary summary = summarize(canonical.bytes(), canonical.length(), Layout.NONE, source, config, true);
    return new GoldenDocument(source, summary, size, config, canonical.bytes(), canonical.length(), true);
  }

  /** Parses and summarises {@code bytes}; {@code source} names them in errors. */
  public static GoldenDocument parse(byte[] bytes, String source, GoldenConfig config)
      throws GoldenParseException {
    return parse(bytes, bytes.length, source, config);
  }

  private static GoldenDocument parse(byte[] bytes, int len, String source, GoldenConfig config)
      throws GoldenParseException {
    Layout layout = JsonSyntax.check(bytes, len, source, config.limits(), Canonicalizer.BIG_BYTES);
    RunSummary summary = summarize(bytes, len, layout, source, config, false);
    return new GoldenDocument(source, summary, len, config, bytes, len, false);
  }

  /** The canonical hashes and mapped fields of validated bytes. */
  static RunSummary summarize(byte[] bytes, int len, Layout layout, String source, GoldenConfig config,
      boolean canonicalInput) throws GoldenParseException {
    SummaryBuilder builder = new SummaryBuilder(config);
    java.security.MessageDigest document = Hashes.sha256();
    new Canonicalizer(Slots.forHashing(config), builder, canonicalInput, document)
        .walk(bytes, len, layout, source);
    return builder.summary(source, Hashes.format(document));
  }

  /**
   * The run hash alone ({@link RunSummary#canonicalHash()}) of {@code json}: the masked document's
   * canonical bytes streamed into SHA-256, without the step, output, rng and response hashes.
   */
  public static String canonicalHash(byte[] json, String source, GoldenConfig config) throws GoldenParseException {
    Layout layout = JsonSyntax.check(json, json.length, source, config.limits(), Canonicalizer.BIG_BYTES);
    java.security.MessageDigest document = Hashes.sha256();
    new Canonicalizer(Slots.forHashing(config), null, false, document).walk(json, json.length, layout, source);
    return Hashes.format(document);
  }

  /**
   * The canonical form of {@code json} (a golden document): with {@code masked}, volatile fields,
   * the role and the engine's hashes left out (the bytes the run hash covers), else nothing left
   * out (the bytes documents are diffed in).
   */
  public static byte[] canonicalBytes(byte[] json, String source, GoldenConfig config, boolean masked)
      throws GoldenParseException {
    Layout layout = JsonSyntax.check(json, json.length, source, config.limits(), Canonicalizer.BIG_BYTES);
    if (!masked) {
      GoldenDocument.Canonical c = Canonicalizer.whole(json, json.length, layout, source);
      return Arrays.copyOf(c.bytes(), c.length());
    }
    Canonicalizer c = new Canonicalizer(Slots.forHashing(config), new SummaryBuilder(config), false, null);
    c.walk(json, json.length, layout, source);
    return Arrays.copyOf(c.o.out, c.o.pos);
  }

  /** The canonical text of one JSON value (any type), e.g. a value read back from a report. */
  static String canonicalValue(String json) {
    byte[] wrapped = ("{\"v\":" + json + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    try {
      byte[] c = canonicalBytes(wrapped, "value", GoldenConfig.DEFAULT, false);
      return new String(c, 5, c.length - 6, java.nio.charset.StandardCharsets.UTF_8);
    } catch (GoldenParseException e) {
      throw new IllegalArgumentException("not a JSON value: " + e.reason(), e);
    }
  }

  static byte[] readBytes(Path file, GoldenConfig config) throws GoldenParseException {
    String source = file.toString();
    long max = config.limits().maxBytes();
    byte[] bytes;
    try {
      long size = Files.size(file);
      if (size > max) {
        throw tooLarge(source, size, max);
      }
      try (InputStream in = Files.newInputStream(file)) {
        // An array of exactly the file's size; a file that grows while it is read is read on, up
        // to the limit (and refused beyond it).
        bytes = readFully(in, (int) size);
        if (bytes.length == size) {
          byte[] rest = in.readNBytes((int) (max + 1 - size));
          if (rest.length > 0) {
            bytes = concat(bytes, rest);
            if (bytes.length > max) {
              throw tooLarge(source, bytes.length, max);
            }
          }
        }
      }
    } catch (NoSuchFileException e) {
      throw new GoldenParseException(source, 0, 0, Code.IO, "no such file");
    } catch (IOException e) {
      throw new GoldenParseException(source, 0, 0, Code.IO, "cannot read: " + e.getMessage());
    }
    return bytes;
  }

  /**
   * Reads up to {@code size} bytes straight into one array of that size (InputStream.readNBytes
   * would gather chunks and copy them), 1 MiB per read so the channel's native buffer stays small.
   */
  private static byte[] readFully(InputStream in, int size) throws IOException {
    byte[] bytes = new byte[size];
    int n = 0;
    while (n < size) {
      int r = in.read(bytes, n, Math.min(size - n, 1 << 20));
      if (r < 0) {
        return Arrays.copyOf(bytes, n); // the file shrank while it was read
      }
      n += r;
    }
    return bytes;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] all = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  static GoldenParseException tooLarge(String source, long size, long max) {
    return new GoldenParseException(source, 0, 0, Code.TOO_LARGE,
        "file is " + size + " bytes, over the limit of " + max + " bytes");
  }
}
