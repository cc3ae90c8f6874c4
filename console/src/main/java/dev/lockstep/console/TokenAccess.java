package dev.lockstep.console;

import com.sun.net.httpserver.HttpExchange;
import dev.lockstep.security.Identity;
import java.io.IOException;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * {@code lockstep console}'s way in: the URL printed at start carries a one-time token; the first
 * request with it gets a session cookie and is redirected to the bare URL, and the token is then
 * spent. Everyone admitted is the operator whose certificate the console calls the collector with.
 * Requests must name this loopback server as their Host (a page elsewhere cannot reach it through
 * a DNS name that points here).
 */
final class TokenAccess implements Access {
  private final Sessions sessions;
  private final Identity operator;
  private final AtomicReference<String> token;
  private final Consumer<String> progress;
  private volatile int port;

  TokenAccess(Sessions sessions, Identity operator, Consumer<String> progress) {
    this.sessions = sessions;
    this.operator = operator;
    this.token = new AtomicReference<>(sessions.token());
    this.progress = progress;
  }

  void port(int port) {
    this.port = port;
  }

  /** The token of the login URL, or null once spent. */
  String token() {
    return token.get();
  }

  @Override
  public boolean secure() {
    return false;
  }

  @Override
  public Optional<Session> admit(HttpExchange ex) throws IOException {
    String host = ex.getRequestHeaders().getFirst("Host");
    if (host == null || !(host.equals("127.0.0.1:" + port) || host.equals("localhost:" + port)
        || host.equals("[::1]:" + port))) {
      Http.html(ex, 421, "Wrong host", "This console answers only as 127.0.0.1:" + port
          + " (the address lockstep console printed).");
      return Optional.empty();
    }
    Optional<Session> existing = sessions.find(Http.cookie(ex, Sessions.COOKIE));
    String offered = Http.query(ex).get("token");
    if (offered != null && ex.getRequestURI().getPath().equals("/")) {
      String expected = token.get();
      if (expected != null && MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
          offered.getBytes(StandardCharsets.UTF_8)) && token.compareAndSet(expected, null)) {
        Session s = sessions.open(operator);
        progress.accept("browser logged in from " + ex.getRemoteAddress().getAddress().getHostAddress()
            + " as " + operator.describe() + " (the one-time link is now spent)");
        Access.setCookie(ex, s, false);
        ex.getResponseHeaders().set("Location", "/");
        Http.send(ex, 303, "text/plain; charset=utf-8", new byte[0]);
        return Optional.empty();
      }
      if (existing.isEmpty()) {
        progress.accept("refused a login with a spent or wrong one-time link");
        Http.html(ex, 401, "Link already used",
            "This one-time link was used already (or is wrong). Start lockstep console again for a new link.");
        return Optional.empty();
      }
    }
    if (existing.isPresent()) {
      return existing;
    }
    Http.html(ex, 401, "Lockstep console: log in with the one-time link",
        "Open the URL lockstep console printed (it carries a one-time token); this address alone is refused.");
    return Optional.empty();
  }
}
