package dev.lockstep.console;

import dev.lockstep.security.Identity;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The console's sessions, by the random id in their cookie. A session unused for
 * {@link #IDLE} is forgotten; at most {@link #MAX_PER_IDENTITY} live for one identity (its least
 * recently used goes, so one certificate opening sessions in a loop only evicts its own) and at most
 * {@link #MAX} in all (the least recently used goes). Thread-safe.
 */
final class Sessions {
  static final Duration IDLE = Duration.ofHours(12);
  static final int MAX = 1000;
  /** Browsers (or sessions a browser dropped: a cross-site link carries no SameSite=Strict cookie) per person. */
  static final int MAX_PER_IDENTITY = 16;
  static final String COOKIE = "lockstep_console";

  private final Map<String, Session> byId = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final Clock clock;

  Sessions(Clock clock) {
    this.clock = clock;
  }

  synchronized Session open(Identity identity) {
    List<Session> own = byId.values().stream().filter(s -> s.identity().equals(identity)).toList();
    if (own.size() >= MAX_PER_IDENTITY) {
      own.stream().min(Comparator.comparing(Session::lastSeen)).ifPresent(oldest -> byId.remove(oldest.id()));
    } else if (byId.size() >= MAX) {
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
    Instant now = clock.instant();
    // atomically, so a session evicted meanwhile is not put back
    return Optional.ofNullable(byId.computeIfPresent(id,
        (key, s) -> s.lastSeen().plus(IDLE).isBefore(now) ? null : s.seen(now)));
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
