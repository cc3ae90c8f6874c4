package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.Durations;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d} as a picocli option value. */
final class DurationConverter implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    try {
      Duration d = Durations.parse(value);
      if (d.isNegative() || d.isZero()) {
        throw new TypeConversionException("expected a positive duration, got '" + value + "'");
      }
      return d;
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
