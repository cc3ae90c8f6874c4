package dev.lockstep.collector.auth;

import io.grpc.Attributes;
import java.util.Optional;

/**
 * Resolves the authenticated identity of a caller from its call attributes (under mTLS: the
 * client certificate's name from the SSL session). Empty means unauthenticated; then an agent's
 * Hello is taken at its word and operators are "anonymous".
 */
@FunctionalInterface
public interface IdentityResolver {
  Optional<String> identity(Attributes callAttributes);

  static IdentityResolver unauthenticated() {
    return attributes -> Optional.empty();
  }
}
