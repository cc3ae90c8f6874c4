package dev.lockstep.golden;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A parsed, validated golden file: the raw tree and its summary (identity plus canonical hashes of
 * the masked document and of each step). Immutable.
 */
public final class GoldenDocument {
  private final String source;
  private final RunSummary summary;
  private final long sizeBytes;
  private volatile JsonNode tree;
  private byte[] bytes; // until the tree is built
  private final GoldenConfig.Limits limits;

  GoldenDocument(String source, JsonNode tree, RunSummary summary, long sizeBytes) {
    this.source = source;
    this.tree = tree;
    this.summary = summary;
    this.sizeBytes = sizeBytes;
    this.limits = null;
  }

  /** A document whose tree is built from {@code bytes} (already validated) on first use. */
  GoldenDocument(String source, byte[] bytes, GoldenConfig.Limits limits, RunSummary summary) {
    this.source = source;
    this.bytes = bytes;
    this.limits = limits;
    this.summary = summary;
    this.sizeBytes = bytes.length;
  }

  /** File name or other label the document came from. */
  public String source() { return source; }
  /** The document as written (not masked). Callers must not modify it. */
  public JsonNode tree() {
    JsonNode t = tree;
    if (t == null) {
      synchronized (this) {
        t = tree;
        if (t == null) {
          try {
            t = new StrictParser(limits).readTree(bytes, source);
          } catch (GoldenParseException e) {
            throw new IllegalStateException("validated document no longer parses: " + e.getMessage(), e);
          }
          tree = t;
          bytes = null;
        }
      }
    }
    return t;
  }
  public RunSummary summary() { return summary; }
  public long sizeBytes() { return sizeBytes; }
}
