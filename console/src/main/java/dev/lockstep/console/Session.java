package dev.lockstep.console;

import dev.lockstep.security.Identity;
import dev.lockstep.security.Role;
import java.time.Instant;

/**
 * One browser's session: who it is (never taken from anything the browser sends), the token its
 * state-changing requests must carry (so another site cannot make the browser act), and when it
 * was last used.
 */
record Session(String id, Identity identity, String csrf, Instant lastSeen) {

  /** Whether this caller may change the fleet: operators, and anyone on an --insecure collector. */
  boolean mayAct() {
    return identity.isAnonymousInsecure() || identity.role() == Role.OPERATOR;
  }

  Session seen(Instant at) {
    return new Session(id, identity, csrf, at);
  }
}
