package dev.lockstep.golden;

import java.nio.charset.StandardCharsets;

/**
 * A parsed, validated golden file: its summary (identity plus canonical hashes of the masked
 * document and of each step) and the bytes a diff needs, either the file as read or, once
 * computed, its canonical form (nothing masked). Safe to share between threads.
 */
public final class GoldenDocument {
  private final String source;
  private final RunSummary summary;
  private final long sizeBytes;
  private final GoldenConfig config;
  private byte[] bytes; // guarded by this
  private int length;
  private boolean canonical;

  GoldenDocument(String source, RunSummary summary, long sizeBytes, GoldenConfig config, byte[] bytes,
      int length, boolean canonical) {
    this.source = source;
    this.summary = summary;
    this.sizeBytes = sizeBytes;
    this.config = config;
    this.bytes = bytes;
    this.length = length;
    this.canonical = canonical;
  }

  /** File name or other label the document came from. */
  public String source() { return source; }

  public RunSummary summary() { return summary; }

  /** Size of the file as read. */
  public long sizeBytes() { return sizeBytes; }

  /** The document's canonical text with nothing masked (docs/golden-format.md). */
  public String canonicalText() {
    Canonical c = canonical();
    return new String(c.bytes(), 0, c.length(), StandardCharsets.UTF_8);
  }

  /** Canonical bytes {@code [0, length)} of the whole document, nothing masked. */
  record Canonical(byte[] bytes, int length) {}

  /** The canonical form, computed from the file's bytes on first use (which are then let go). */
  synchronized Canonical canonical() {
    if (!canonical) {
      try {
        Layout layout = JsonSyntax.check(bytes, length, source, config.limits(), Canonicalizer.BIG_BYTES);
        Canonical c = Canonicalizer.whole(bytes, length, layout, source);
        bytes = c.bytes();
        length = c.length();
        canonical = true;
      } catch (GoldenParseException e) {
        throw new IllegalStateException("a validated document no longer canonicalises: " + e.getMessage(), e);
      }
    }
    return new Canonical(bytes, length);
  }
}
