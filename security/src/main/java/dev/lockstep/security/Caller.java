package dev.lockstep.security;

import io.grpc.Context;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * A gRPC caller: its {@link Identity} and the address it called from, as set by
 * {@link IdentityInterceptor} for the duration of a call. Capture {@link #current()} on the call's
 * thread when work moves to another executor, and pass it to the {@link Authorizer} overloads that
 * take a caller.
 */
public record Caller(Identity identity, String remoteAddress) {

  static final Context.Key<String> REMOTE_ADDRESS_KEY = Context.key("lockstep-remote-address");

  /** The current call's caller; {@link Identity#unidentified()} at {@code unknown} outside one. */
  public static Caller current() {
    String address = REMOTE_ADDRESS_KEY.get();
    return new Caller(Identity.current(), address == null ? "unknown" : address);
  }

  static String format(SocketAddress address) {
    if (address instanceof InetSocketAddress inet) {
      String host = inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
      return host.contains(":") ? "[" + host + "]:" + inet.getPort() : host + ":" + inet.getPort();
    }
    return address == null ? "unknown" : address.toString();
  }
}
