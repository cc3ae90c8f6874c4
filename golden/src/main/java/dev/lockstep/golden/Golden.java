package dev.lockstep.golden;

import java.nio.file.Path;

/** Entry point: read a golden file under limits and summarise it. */
public final class Golden {
  private Golden() {}

  /** Reads {@code file}; I/O failures are a {@link GoldenParseException} with code IO. */
  public static GoldenDocument read(Path file, GoldenConfig config) throws GoldenParseException {
    throw new UnsupportedOperationException("golden engine: not yet implemented");
  }

  /** Parses {@code bytes}; {@code source} names them in errors. */
  public static GoldenDocument parse(byte[] bytes, String source, GoldenConfig config)
      throws GoldenParseException {
    throw new UnsupportedOperationException("golden engine: not yet implemented");
  }
}
