package dev.lockstep.golden;

/**
 * One difference between two documents at a JSON-Pointer path (in A's positions; an EXTRA element
 * in B's). {@code a}/{@code b} are canonical JSON of each side, or null where that side has
 * nothing; a value longer than {@link DiffReport#MAX_VALUE_BYTES} is shown as a JSON string naming
 * its size and hash. {@code volatileField}: the path is volatile (masked when hashing), so the
 * difference does not make a mismatch by itself.
 */
public record Difference(String path, Kind kind, String a, String b, boolean volatileField) {
  public enum Kind {
    /** Same type, other value. */
    VALUE,
    /** Different JSON types. */
    TYPE,
    /** Only A has this member or element. */
    MISSING,
    /** Only B has this member or element. */
    EXTRA,
    /** Arrays paired by position have different lengths ({@code a}/{@code b} are the lengths). */
    ARRAY_LENGTH,
    /** Paired elements (steps, keyed arrays) come in another order ({@code a}/{@code b}: positions). */
    ORDER
  }
}
