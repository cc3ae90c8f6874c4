package dev.lockstep.golden;

import java.math.BigInteger;

/** What {@link StrictParser} reports while it walks a document it has already validated token by token. */
interface JsonEvents {
  void startObject();

  /** A member name; its value's events follow. Duplicates have already been refused. */
  void key(String key);

  void endObject();

  void startArray();

  void endArray();

  void string(char[] chars, int offset, int length);

  /** An integer literal that fits a long. */
  void integer(long value);

  /** An integer literal beyond long (finite as a double). */
  void bigInteger(BigInteger value);

  /** A number with a fraction or exponent, finite. */
  void decimal(double value);

  void bool(boolean value);

  void nul();
}
