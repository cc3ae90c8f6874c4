package dev.lockstep.collector.auth;

import io.grpc.Context;
import java.util.Optional;

/** Who is calling: the authenticated identity (if any) and the remote address. */
public record Caller(Optional<String> identity, String remoteAddress) {
  static final Context.Key<Caller> KEY = Context.key("lockstep-caller");

  /** The caller of the current gRPC call (set by {@link CallerInterceptor}). */
  public static Caller current() {
    Caller c = KEY.get();
    return c == null ? new Caller(Optional.empty(), "") : c;
  }

  /** The identity for audit entries: the authenticated name or "anonymous". */
  public String who() {
    return identity.orElse("anonymous");
  }
}
