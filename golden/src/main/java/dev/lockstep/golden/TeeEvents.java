package dev.lockstep.golden;

import java.math.BigInteger;

/** Sends every event to two consumers, so one parse can both summarise and build the tree. */
final class TeeEvents implements JsonEvents {
  private final JsonEvents a;
  private final JsonEvents b;

  TeeEvents(JsonEvents a, JsonEvents b) {
    this.a = a;
    this.b = b;
  }

  @Override public void startObject() { a.startObject(); b.startObject(); }
  @Override public void key(String key) { a.key(key); b.key(key); }
  @Override public void endObject() { a.endObject(); b.endObject(); }
  @Override public void startArray() { a.startArray(); b.startArray(); }
  @Override public void endArray() { a.endArray(); b.endArray(); }
  @Override public void string(char[] chars, int offset, int length) { a.string(chars, offset, length); b.string(chars, offset, length); }
  @Override public void integer(long value) { a.integer(value); b.integer(value); }
  @Override public void bigInteger(BigInteger value) { a.bigInteger(value); b.bigInteger(value); }
  @Override public void decimal(double value) { a.decimal(value); b.decimal(value); }
  @Override public void bool(boolean value) { a.bool(value); b.bool(value); }
  @Override public void nul() { a.nul(); b.nul(); }
}
