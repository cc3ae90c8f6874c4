package dev.lockstep.console;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.util.Optional;

/**
 * Who is at the browser. Each way into the console decides it its own way — a one-time link for
 * {@code lockstep console}, the browser's verified client certificate for the collector — and
 * never from a value the browser chose.
 */
interface Access {
  /**
   * The session this request belongs to, or empty when the request was refused or answered here
   * (a login redirect); then the response has been sent.
   */
  Optional<Session> admit(HttpExchange ex) throws IOException;

  /** Whether a session cookie must be marked Secure (HTTPS). */
  boolean secure();

  static void setCookie(HttpExchange ex, Session s, boolean secure) {
    ex.getResponseHeaders().add("Set-Cookie", Sessions.COOKIE + "=" + s.id()
        + "; Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : ""));
  }
}
