package dev.lockstep.console;

import dev.lockstep.security.Identity;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The console's sessions, by the random id in their cookie. A session unused for
 * {@link #IDLE} is forgotten; at most {@link #MAX} live at once (the least recently used goes).
 * Thread-safe.
 */
final class Sessions {
  static final Duration IDLE = Duration.ofHours(12);
  static final int MAX = 1000;
  static final String COOKIE = "lockstep_console";

  private final Map<String, Session> byId = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final Clock clock;

  Sessions(Clock clock) {
    this.clock = clock;
  }

  Session open(Identity identity) {
    if (byId.size() >= MAX) {
      byId.values().stream().min(Comparator.comparing(Session::lastSeen))
          .ifPresent(oldest -> byId.remove(oldest.id()));
    }
    Session s = new Session(token(), identity, token(), clock.instant());
    byId.put(s.id(), s);
    return s;
  }

  /** The live session with this id, touched; empty when unknown or idle too long. */
  Optional<Session> find(String id) {
    if (id == null) {
      return Optional.empty();
    }
    Session s = byId.get(id);
    if (s == null) {
      return Optional.empty();
    }
    if (s.lastSeen().plus(IDLE).isBefore(clock.instant())) {
      byId.remove(id);
      return Optional.empty();
    }
    Session touched = s.seen(clock.instant());
    byId.put(id, touched);
    return Optional.of(touched);
  }

  int size() {
    return byId.size();
  }

  /** 256 random bits, URL-safe. */
  String token() {
    byte[] b = new byte[32];
    random.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }
}
