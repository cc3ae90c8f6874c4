package dev.lockstep.golden;

/**
 * What the network carries about one step: its identity and canonical hashes, never its content.
 * Hashes are {@code "sha256:<hex>"} of RFC 8785 canonical bytes of the masked value; empty when the
 * step has no such part.
 */
public record StepSummary(
    int index,
    String name,
    String kind,
    boolean external,
    String canonicalHash,
    String engineHash,
    String rngHash,
    String responseHash) {

  /** Null strings become "", so comparisons never meet a null. */
  public StepSummary {
    name = name == null ? "" : name;
    kind = kind == null ? "" : kind;
    canonicalHash = canonicalHash == null ? "" : canonicalHash;
    engineHash = engineHash == null ? "" : engineHash;
    rngHash = rngHash == null ? "" : rngHash;
    responseHash = responseHash == null ? "" : responseHash;
  }
}
