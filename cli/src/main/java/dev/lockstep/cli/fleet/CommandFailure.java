package dev.lockstep.cli.fleet;

/** A failure a command reports as one line on stderr with its own exit code (no stack trace). */
final class CommandFailure extends RuntimeException {
  private final int exitCode;

  CommandFailure(int exitCode, String message) {
    super(message, null, false, false);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }
}
