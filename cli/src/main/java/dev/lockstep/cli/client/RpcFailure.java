package dev.lockstep.cli.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import dev.lockstep.security.Tls;

/**
 * A failed call as a value: the one line an operator reads and the exit code a script checks.
 * The line carries no "lockstep:" prefix; the printer adds it.
 */
public record RpcFailure(int exitCode, String message) {

  public static RpcFailure of(StatusRuntimeException e, CollectorAddress address, Duration timeout) {
    return of(e, address, timeout, true);
  }

  /** {@code tls}: whether the channel used TLS (a plaintext call to a TLS port gets a hint). */
  public static RpcFailure of(
      StatusRuntimeException e, CollectorAddress address, Duration timeout, boolean tls) {
    Status status = e.getStatus();
    String description = status.getDescription() == null ? "" : status.getDescription();
    switch (status.getCode()) {
      case UNAVAILABLE:
        String network = networkReason(status);
        return new RpcFailure(
            ExitCode.COLLECTOR_ERROR,
            network != null ? "cannot reach collector at " + address + " (" + network + ")"
                : oneLine(Tls.explain(status, address.toString(), !tls)));
      case DEADLINE_EXCEEDED:
        return new RpcFailure(
            ExitCode.COLLECTOR_ERROR,
            "collector at " + address + " did not answer within " + Durations.format(timeout));
      case NOT_FOUND:
      case INVALID_ARGUMENT:
      case FAILED_PRECONDITION:
      case ALREADY_EXISTS:
      case OUT_OF_RANGE:
        return new RpcFailure(
            ExitCode.USAGE, description.isEmpty() ? status.getCode().toString().toLowerCase() : description);
      case UNAUTHENTICATED:
      case PERMISSION_DENIED:
        return new RpcFailure(
            ExitCode.COLLECTOR_ERROR,
            "collector at " + address + " refused the call (" + status.getCode() + ")"
                + (description.isEmpty() ? "" : ": " + description));
      case UNIMPLEMENTED:
        return new RpcFailure(
            ExitCode.COLLECTOR_ERROR,
            "collector at " + address + " does not implement this call (older collector?)");
      default:
        return new RpcFailure(
            ExitCode.COLLECTOR_ERROR,
            "collector at " + address + " failed: " + status.getCode()
                + (description.isEmpty() ? "" : ": " + oneLine(description)));
    }
  }

  /** The reason when the network (not TLS) failed: refused, unknown host, no route; else null. */
  private static String networkReason(Status status) {
    for (Throwable t = status.getCause(); t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ConnectException) {
        String lower = t.getMessage() == null ? "" : t.getMessage().toLowerCase();
        return lower.contains("refused") || lower.isEmpty() ? "connection refused" : oneLine(t.getMessage());
      }
      if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
        return "unknown host";
      }
      if (t instanceof NoRouteToHostException) {
        return "no route to host";
      }
    }
    String d = status.getDescription() == null ? "" : status.getDescription().toLowerCase();
    if (d.contains("unable to resolve host")) {
      return "unknown host";
    }
    return null;
  }

  private static String oneLine(String s) {
    String flat = s.replaceAll("\\s+", " ").trim();
    return flat.length() > 200 ? flat.substring(0, 197) + "..." : flat;
  }
}
