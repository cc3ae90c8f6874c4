package dev.lockstep.console;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsExchange;
import dev.lockstep.security.AuditEntry;
import dev.lockstep.security.AuditSink;
import dev.lockstep.security.Authorizer;
import dev.lockstep.security.Caller;
import dev.lockstep.security.Identity;
import dev.lockstep.security.IdentityInterceptor;
import dev.lockstep.security.Role;
import io.grpc.Status;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The collector's way in: the browser's client certificate, verified in the TLS handshake against
 * the fleet's CA and revocation list, names the person (CN) and role (OU) on every request; a
 * session only holds the token for state-changing requests and is dropped when the certificate
 * changes. A request without a usable certificate, or with one whose role may not read the Operator
 * API (an agent's, the collector's), is refused and audited, and opens no session: sessions are
 * capped, so any fleet certificate could otherwise evict every operator's.
 */
final class CertificateAccess implements Access {
  private final Sessions sessions;
  private final AuditSink audit;
  private final Authorizer authorizer;
  private final Clock clock;

  CertificateAccess(Sessions sessions, AuditSink audit, Clock clock) {
    this.sessions = sessions;
    this.audit = audit;
    this.authorizer = new Authorizer(audit, clock);
    this.clock = clock;
  }

  @Override
  public boolean secure() {
    return true;
  }

  @Override
  public Optional<Session> admit(HttpExchange ex) throws IOException {
    List<String> problems = new ArrayList<>();
    Optional<Identity> identity = ex instanceof HttpsExchange https
        ? IdentityInterceptor.verifiedIdentity(https.getSSLSession(), problems) : Optional.empty();
    String address = address(ex.getRemoteAddress());
    if (identity.isEmpty()) {
      String why = problems.isEmpty() ? "not an HTTPS request" : problems.get(0);
      audit.record(new AuditEntry(clock.instant(), "unidentified", "none", "ConsoleLogin", "", address,
          AuditEntry.Outcome.REFUSED, why));
      Http.html(ex, 401, "Lockstep console: a client certificate is needed",
          "This console identifies you by a client certificate signed by the fleet's CA (OU operator or viewer),"
              + " imported into the browser: " + why + ".");
      return Optional.empty();
    }
    // the roles the Operator API lets read (OperatorService); audited as REFUSED when not held
    Status reader = authorizer.require(new Caller(identity.get(), address), "ConsoleLogin", "",
        Role.OPERATOR, Role.VIEWER);
    if (!reader.isOk()) {
      Http.html(ex, 403, "Lockstep console: an operator or viewer certificate is needed",
          "This console is for people: it needs a client certificate signed by the fleet's CA with OU operator"
              + " or viewer (the roles that may use the Operator API), imported into the browser. The certificate"
              + " presented, " + identity.get().describe() + ", has role " + identity.get().roleLabel() + ".");
      return Optional.empty();
    }
    Optional<Session> existing = sessions.find(Http.cookie(ex, Sessions.COOKIE));
    if (existing.isPresent() && existing.get().identity().equals(identity.get())) {
      return existing;
    }
    Session s = sessions.open(identity.get());
    Access.setCookie(ex, s, true);
    return Optional.of(s);
  }

  static String address(InetSocketAddress a) {
    if (a == null) {
      return "unknown";
    }
    String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }
}
