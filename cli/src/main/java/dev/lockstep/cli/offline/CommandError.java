package dev.lockstep.cli.offline;

/** A failure an offline command reports as one line on stderr with its own exit code. */
final class CommandError extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int exitCode;

  CommandError(int exitCode, String message) {
    super(message, null, false, false);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }
}
