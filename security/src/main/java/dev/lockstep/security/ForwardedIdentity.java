package dev.lockstep.security;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingClientCall;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.inprocess.InProcessSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;

/**
 * Carries an identity that a gateway in the same process verified itself to an in-process gRPC
 * server: the collector's web console verifies the browser's client certificate (same CA, same
 * revocation list, audited refusals) and then calls the Operator service as that person, so roles
 * and audit are the service's own.
 *
 * <p>Invariant: the identity travels in headers that only {@link #interceptor} reads, and it reads
 * them only on calls that came over the in-process transport; a call from anywhere else, or
 * without the headers, is UNAUTHENTICATED and audited. Install the interceptor on an in-process
 * server only, never on a network one; set the headers ({@link #as}) only from a verified identity.
 */
public final class ForwardedIdentity {
  private static final Metadata.Key<byte[]> NAME =
      Metadata.Key.of("lockstep-forwarded-name-bin", Metadata.BINARY_BYTE_MARSHALLER);
  private static final Metadata.Key<String> ROLE =
      Metadata.Key.of("lockstep-forwarded-role", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<byte[]> ADDRESS =
      Metadata.Key.of("lockstep-forwarded-address-bin", Metadata.BINARY_BYTE_MARSHALLER);

  private ForwardedIdentity() { }

  /**
   * A client interceptor that calls as {@code identity} (authenticated, from a verified
   * certificate), seen from {@code remoteAddress} (recorded in the audit log).
   */
  public static ClientInterceptor as(Identity identity, String remoteAddress) {
    Objects.requireNonNull(identity, "identity");
    if (!identity.authenticated()) {
      throw new IllegalArgumentException("only a verified identity can be forwarded, not " + identity.describe());
    }
    byte[] name = identity.name().getBytes(StandardCharsets.UTF_8);
    byte[] address = Objects.requireNonNull(remoteAddress, "remoteAddress").getBytes(StandardCharsets.UTF_8);
    String role = identity.role().label();
    return new ClientInterceptor() {
      @Override
      public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method,
          CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<RespT> listener, Metadata headers) {
            headers.put(NAME, name);
            headers.put(ROLE, role);
            headers.put(ADDRESS, address);
            super.start(listener, headers);
          }
        };
      }
    };
  }

  /** The server side: puts the forwarded caller into the call's context, as {@link IdentityInterceptor} does. */
  public static ServerInterceptor interceptor(AuditSink audit, Clock clock) {
    Authorizer auditor = new Authorizer(audit, clock);
    return new ServerInterceptor() {
      @Override
      public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
          Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        SocketAddress transport = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        Optional<Caller> caller = transport instanceof InProcessSocketAddress
            ? caller(headers) : Optional.empty();
        if (caller.isEmpty()) {
          String action = call.getMethodDescriptor().getBareMethodName();
          Status refused = Status.UNAUTHENTICATED.withDescription(transport instanceof InProcessSocketAddress
              ? "no forwarded identity on an in-process call" : "forwarded identities are taken from in-process calls only");
          auditor.audit(new Caller(Identity.unidentified(), Caller.format(transport)),
              action == null ? "" : action, "", AuditEntry.Outcome.REFUSED, refused.getDescription());
          call.close(refused, new Metadata());
          return new ServerCall.Listener<>() { };
        }
        Context context = Context.current()
            .withValue(Identity.CONTEXT_KEY, caller.get().identity())
            .withValue(Caller.REMOTE_ADDRESS_KEY, caller.get().remoteAddress());
        return Contexts.interceptCall(context, call, headers, next);
      }
    };
  }

  private static Optional<Caller> caller(Metadata headers) {
    byte[] name = headers.get(NAME);
    String roleLabel = headers.get(ROLE);
    byte[] address = headers.get(ADDRESS);
    if (name == null || roleLabel == null || address == null || name.length == 0) {
      return Optional.empty();
    }
    Optional<Role> role = Role.fromLabel(roleLabel);
    return role.map(r -> new Caller(Identity.of(new String(name, StandardCharsets.UTF_8), r),
        new String(address, StandardCharsets.UTF_8)));
  }
}
