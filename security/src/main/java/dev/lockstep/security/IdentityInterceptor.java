package dev.lockstep.security;

import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Puts the caller's {@link Identity} and address into the gRPC {@link Context} of every call
 * ({@link Identity#current()}, {@link Caller#current()}).
 *
 * <p>In mTLS mode the identity comes from the peer's certificate, which the TLS handshake has
 * already verified against the CA; a call without a TLS session, without a client certificate, or
 * whose certificate has no usable CN/OU is closed with UNAUTHENTICATED and audited. In insecure
 * mode every caller is {@link Identity#anonymousInsecure()}. Install it once on the server:
 * {@code serverBuilder.intercept(interceptor)}.
 */
public final class IdentityInterceptor implements ServerInterceptor {
  private final boolean insecure;
  private final Authorizer auditor;

  private IdentityInterceptor(boolean insecure, Authorizer auditor) {
    this.insecure = insecure;
    this.auditor = auditor;
  }

  /** For a server with {@link Tls#serverCredentials} credentials; refusals go to {@code audit}. */
  public static IdentityInterceptor mtls(AuditSink audit, Clock clock) {
    return new IdentityInterceptor(false, new Authorizer(audit, clock));
  }

  /** For a plaintext server started with {@code --insecure}: everyone is anonymous. */
  public static IdentityInterceptor insecure() {
    return new IdentityInterceptor(true, new Authorizer(AuditSink.NONE, Clock.systemUTC()));
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String address = Caller.format(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
    Identity identity;
    if (insecure) {
      identity = Identity.anonymousInsecure();
    } else {
      List<String> problems = new ArrayList<>();
      Optional<Identity> verified = verifiedIdentity(call.getAttributes(), problems);
      if (verified.isEmpty()) {
        String action = call.getMethodDescriptor().getBareMethodName();
        Status refused = Status.UNAUTHENTICATED.withDescription(problems.get(0));
        auditor.audit(new Caller(Identity.unidentified(), address), action == null ? "" : action,
            "", AuditEntry.Outcome.REFUSED, refused.getDescription());
        call.close(refused, new Metadata());
        return new ServerCall.Listener<>() { };
      }
      identity = verified.get();
    }
    Context context = Context.current()
        .withValue(Identity.CONTEXT_KEY, identity)
        .withValue(Caller.REMOTE_ADDRESS_KEY, address);
    return Contexts.interceptCall(context, call, headers, next);
  }

  /**
   * The identity in the verified client certificate of a call's transport
   * ({@code call.getAttributes()}), or empty if there is no TLS session, no client certificate,
   * or no usable CN/OU. For code that resolves identities itself (an {@code IdentityResolver});
   * {@link #interceptCall} uses it too.
   */
  public static Optional<Identity> verifiedIdentity(Attributes callAttributes) {
    return verifiedIdentity(callAttributes, new ArrayList<>());
  }

  static Optional<Identity> verifiedIdentity(Attributes callAttributes, List<String> problems) {
    SSLSession session = callAttributes.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      problems.add("this server requires mTLS, but the call has no TLS session");
      return Optional.empty();
    }
    return verifiedIdentity(session, problems);
  }

  /**
   * The identity in the client certificate the handshake of {@code session} verified (an HTTPS
   * server with the same trust, e.g. the collector's web console), or empty with the reason in
   * {@code problems}: no client certificate, not X.509, no usable CN/OU.
   */
  public static Optional<Identity> verifiedIdentity(SSLSession session, List<String> problems) {
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      problems.add("this server requires a client certificate, none was verified");
      return Optional.empty();
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
      problems.add("this server requires an X.509 client certificate");
      return Optional.empty();
    }
    return Identity.fromCertificate(Objects.requireNonNull(leaf), problems);
  }
}
