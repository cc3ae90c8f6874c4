package dev.lockstep.golden;

/**
 * One difference between two documents at a JSON-Pointer path. {@code a}/{@code b} are canonical
 * JSON of each side, or null where that side has nothing.
 */
public record Difference(String path, Kind kind, String a, String b, boolean volatileField) {
  public enum Kind { VALUE, TYPE, MISSING, EXTRA, ARRAY_LENGTH }
}
