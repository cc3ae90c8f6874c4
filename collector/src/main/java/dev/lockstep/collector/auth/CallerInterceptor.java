package dev.lockstep.collector.auth;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** Puts the {@link Caller} of every call into its gRPC Context. */
public final class CallerInterceptor implements ServerInterceptor {
  private final IdentityResolver identities;

  public CallerInterceptor(IdentityResolver identities) {
    this.identities = identities;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    String address = remote instanceof InetSocketAddress i
        ? i.getAddress().getHostAddress() + ":" + i.getPort()
        : String.valueOf(remote);
    Caller caller = new Caller(identities.identity(call.getAttributes()), address);
    return Contexts.interceptCall(Context.current().withValue(Caller.KEY, caller), call, headers, next);
  }
}
