package dev.lockstep.golden;

/**
 * What {@link Canonicalizer} reports about mapped fields while it walks a document (slots are
 * those of {@link Slots}). Values inside a masked member are never reported; a masked member that
 * is itself mapped is (role, the engine's hashes).
 */
interface Captures {
  /**
   * The value at a scalar slot: {@code src[start, end)} is its JSON text (a string with its quotes,
   * a number, a literal), or {@code end == -1} when the value is an object or array.
   */
  void scalar(int slot, byte[] src, int start, int end);

  /** The value at a region slot: {@code hash} of its canonical bytes, or null when it is masked. */
  void region(int slot, String hash);

  /** The value at the steps pointer starts with {@code first} ('[' for an array, 'n' for null, ...). */
  void steps(byte first);

  /** Element {@code position} of the steps array begins. */
  void stepStart(int position, boolean object);

  /** Element {@code position} of the steps array ends; {@code hash} of its canonical bytes. */
  void stepEnd(int position, String hash);
}
