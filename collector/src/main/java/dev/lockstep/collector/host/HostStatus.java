package dev.lockstep.collector.host;

import dev.lockstep.collector.core.Refusal;
import io.grpc.Status;

/** gRPC status for a core refusal: the message is the refusal's, the code says "fix your call". */
public final class HostStatus {
  private HostStatus() {}

  public static Status of(Refusal r) {
    Status s = switch (r.code()) {
      case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
      case NOT_FOUND -> Status.NOT_FOUND;
      case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
      case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
    };
    return s.withDescription(r.getMessage());
  }
}
