package dev.lockstep.golden;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A parsed, validated golden file: the raw tree and its summary (identity plus canonical hashes of
 * the masked document and of each step). Immutable.
 */
public final class GoldenDocument {
  private final String source;
  private final JsonNode tree;
  private final RunSummary summary;
  private final long sizeBytes;

  GoldenDocument(String source, JsonNode tree, RunSummary summary, long sizeBytes) {
    this.source = source;
    this.tree = tree;
    this.summary = summary;
    this.sizeBytes = sizeBytes;
  }

  /** File name or other label the document came from. */
  public String source() { return source; }
  /** The document as written (not masked). Callers must not modify it. */
  public JsonNode tree() { return tree; }
  public RunSummary summary() { return summary; }
  public long sizeBytes() { return sizeBytes; }
}
