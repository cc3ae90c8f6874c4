package dev.lockstep.cli.fleet;

import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** How a command prints: aligned columns for people, or stable JSON for scripts. */
enum OutputFormat {
  TABLE,
  JSON,
  /** Only {@code lockstep incident report} prints Markdown; other commands refuse it. */
  MARKDOWN;

  static final class Converter implements ITypeConverter<OutputFormat> {
    @Override
    public OutputFormat convert(String value) {
      String v = value.trim().toUpperCase(Locale.ROOT);
      if (v.equals("MD")) v = "MARKDOWN";
      try {
        return OutputFormat.valueOf(v);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException("expected table or json (markdown for incident report), got '" + value + "'");
      }
    }
  }

  static final class Names extends java.util.AbstractList<String> {
    private static final List<String> NAMES = List.of("table", "json", "markdown");

    @Override
    public String get(int index) {
      return NAMES.get(index);
    }

    @Override
    public int size() {
      return NAMES.size();
    }
  }
}
