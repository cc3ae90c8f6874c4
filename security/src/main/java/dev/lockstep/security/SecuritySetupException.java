package dev.lockstep.security;

/**
 * A certificate, key, CA or secret file cannot be used. Thrown only at start-up (or by
 * {@code certs init}); the message names the file and the reason and is meant to be printed as
 * one line, without a stack trace.
 */
public final class SecuritySetupException extends Exception {
  public SecuritySetupException(String message) {
    super(message);
  }

  public SecuritySetupException(String message, Throwable cause) {
    super(message, cause);
  }
}
