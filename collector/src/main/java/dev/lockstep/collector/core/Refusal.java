package dev.lockstep.collector.core;

/**
 * The core refused an input (an operator asked for something the state does not allow, an agent
 * sent something it must not). Thrown before the input wrote anything that matters; the host rolls
 * the input back to its savepoint and reports the code and message to the caller.
 */
public final class Refusal extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** How the caller should read it (mapped to gRPC status codes by hosts). */
  public enum Code { INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, RESOURCE_EXHAUSTED }

  private final Code code;

  public Refusal(Code code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public Code code() {
    return code;
  }
}
