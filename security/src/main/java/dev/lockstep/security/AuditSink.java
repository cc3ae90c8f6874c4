package dev.lockstep.security;

/**
 * Receives audit entries: every refused attempt seen by {@link IdentityInterceptor} and
 * {@link Authorizer}, and every operator action the server reports through
 * {@link Authorizer#audit}. The collector implements it by writing to its RocksDB audit column
 * family.
 *
 * <p>Called on gRPC transport/handler threads: it must be quick (a local write or a queue offer)
 * and should not throw; anything it throws is logged and swallowed by the caller.
 */
@FunctionalInterface
public interface AuditSink {
  /** Discards every entry. */
  AuditSink NONE = entry -> { };

  void record(AuditEntry entry);
}
