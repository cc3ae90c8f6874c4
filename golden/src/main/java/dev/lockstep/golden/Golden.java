package dev.lockstep.golden;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockstep.golden.GoldenParseException.Code;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Entry point: read a golden file under limits and summarise it. */
public final class Golden {
  private Golden() {}

  /**
   * Reads {@code file}; I/O failures are a {@link GoldenParseException} with code IO. The size limit
   * is checked against the file size before any byte is read. The tree is built on first use.
   */
  public static GoldenDocument read(Path file, GoldenConfig config) throws GoldenParseException {
    return parse(readBytes(file, config), file.toString(), config);
  }

  /** Like {@link #read} but builds the tree in the same pass: for callers that will diff. */
  public static GoldenDocument readWithTree(Path file, GoldenConfig config) throws GoldenParseException {
    byte[] bytes = readBytes(file, config);
    String source = file.toString();
    StreamSummarizer summarizer = new StreamSummarizer(config, bytes.length);
    TreeBuilder tree = new TreeBuilder();
    new StrictParser(config.limits()).parse(bytes, source, new TeeEvents(summarizer, tree));
    return new GoldenDocument(source, tree.root(), summarizer.summary(source), bytes.length);
  }

  private static byte[] readBytes(Path file, GoldenConfig config) throws GoldenParseException {
    String source = file.toString();
    long max = config.limits().maxBytes();
    byte[] bytes;
    try {
      long size = Files.size(file);
      if (size > max) {
        throw tooLarge(source, size, max);
      }
      try (InputStream in = Files.newInputStream(file)) {
        // Read at most max + 1 bytes: a file growing while we read is still refused.
        bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
      }
    } catch (NoSuchFileException e) {
      throw new GoldenParseException(source, 0, 0, Code.IO, "no such file");
    } catch (IOException e) {
      throw new GoldenParseException(source, 0, 0, Code.IO, "cannot read: " + e.getMessage());
    }
    if (bytes.length > max) {
      throw tooLarge(source, bytes.length, max);
    }
    return bytes;
  }

  /** Parses {@code bytes}; {@code source} names them in errors. */
  public static GoldenDocument parse(byte[] bytes, String source, GoldenConfig config)
      throws GoldenParseException {
    if (bytes.length > config.limits().maxBytes()) {
      throw tooLarge(source, bytes.length, config.limits().maxBytes());
    }
    StreamSummarizer summarizer = new StreamSummarizer(config, bytes.length);
    new StrictParser(config.limits()).parse(bytes, source, summarizer);
    RunSummary summary = summarizer.summary(source);
    return new GoldenDocument(source, bytes, config.limits(), summary);
  }

  /** RFC 8785 canonical text of {@code node} (nothing masked). For display and tests. */
  public static String canonicalText(JsonNode node) {
    return Canonical.toText(node);
  }

  /** RFC 8785 canonical text of a document with volatile fields masked per {@code config}. */
  public static String maskedCanonicalText(JsonNode node, GoldenConfig config) {
    return Canonical.toText(node, Mask.volatileOnly(config));
  }

  private static GoldenParseException tooLarge(String source, long size, long max) {
    return new GoldenParseException(source, 0, 0, Code.TOO_LARGE,
        "file is " + size + " bytes, over the limit of " + max + " bytes");
  }
}
