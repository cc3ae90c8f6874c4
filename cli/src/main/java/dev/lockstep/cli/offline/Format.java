package dev.lockstep.cli.offline;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** How an offline command prints: aligned text for people, or stable JSON for scripts. */
enum Format {
  TABLE,
  JSON;

  /** {@code -o/--output/--format table|json}; a file name there gets a pointer to {@code --out}. */
  static final class Converter implements ITypeConverter<Format> {
    @Override
    public Format convert(String value) {
      try {
        return Format.valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException("expected table or json, got '" + value + "'"
            + (value.contains(".") || value.contains("/") ? " (-o/--output is the format; to write a file use --out FILE)" : ""));
      }
    }
  }
}
