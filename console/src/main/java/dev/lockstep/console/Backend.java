package dev.lockstep.console;

import dev.lockstep.security.Caller;
import io.grpc.Channel;
import io.grpc.Status;

/**
 * How the console reaches the Operator API as the person at the browser. {@code lockstep console}
 * returns its one channel (the operator's own certificate is the identity); the collector returns
 * an in-process channel that carries the identity verified from the browser's client certificate.
 * Either way the API decides what the caller may do, and audits it.
 */
public interface Backend {
  /** The channel whose calls are made as {@code caller}. */
  Channel channel(Caller caller);

  /** One line for a failed call, for the page (e.g. a TLS problem on the way to the collector). */
  default String explain(Status status) {
    return status.getCode() + ": " + (status.getDescription() == null ? "" : status.getDescription());
  }
}
