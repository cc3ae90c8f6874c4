package dev.lockstep.cli.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import javax.net.ssl.SSLException;

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
        return new RpcFailure(
            ExitCode.COLLECTOR_ERROR,
            "cannot reach collector at " + address + " (" + unavailableReason(status, tls) + ")");
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

  private static String unavailableReason(Status status, boolean tls) {
    for (Throwable t = status.getCause(); t != null; t = t.getCause()) {
      String m = String.valueOf(t.getMessage());
      if (m.contains("CERTIFICATE_REQUIRED")) {
        return "the collector requires a client certificate: give --cert and --key";
      }
      if (m.contains("No subject alternative") || m.contains("No name matching")) {
        return "TLS handshake failed: the collector's certificate does not name this host";
      }
      if (t instanceof java.security.cert.CertificateException
          || t instanceof java.security.cert.CertPathValidatorException
          || m.contains("PKIX path") || m.contains("unable to find valid certification path")) {
        return "TLS handshake failed: the collector's certificate is not signed by --ca";
      }
    }
    for (Throwable t = status.getCause(); t != null; t = t.getCause()) {
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
      if (t instanceof SSLException) {
        return "TLS handshake failed: " + oneLine(String.valueOf(t.getMessage()));
      }
    }
    String d = status.getDescription();
    if (d == null || d.isBlank()) {
      return "unavailable";
    }
    String lower = d.toLowerCase();
    if (!tls && (lower.equals("io exception") || lower.contains("network closed"))) {
      return "connection closed by the collector; if it serves TLS, give --ca (and --cert/--key)";
    }
    if (lower.contains("unable to resolve host")) {
      return "unknown host";
    }
    if (lower.contains("refused")) {
      return "connection refused";
    }
    return oneLine(d);
  }

  private static String oneLine(String s) {
    String flat = s.replaceAll("\\s+", " ").trim();
    return flat.length() > 200 ? flat.substring(0, 197) + "..." : flat;
  }
}
