package dev.lockstep.security;

import java.time.Instant;
import java.util.Objects;

/**
 * One audited operator action or refused attempt.
 *
 * @param at when it happened
 * @param who the caller's identity name (certificate CN), {@code anonymous} in insecure mode
 * @param role the caller's role label ({@code operator}, {@code viewer}, {@code agent},
 *     {@code collector}), or {@code insecure} / {@code none}
 * @param action what was attempted, e.g. the gRPC method name {@code EnableStop}
 * @param target what it was aimed at (an incident id, a scope, a claimed agent id), or empty
 * @param remoteAddress the peer's {@code ip:port}, or {@code unknown}
 * @param outcome what happened
 * @param detail a one-line human explanation (the refusal's status description, say)
 */
public record AuditEntry(
    Instant at,
    String who,
    String role,
    String action,
    String target,
    String remoteAddress,
    Outcome outcome,
    String detail) {

  /** What happened to the attempt. */
  public enum Outcome {
    /** Refused before it ran: wrong role, forged identity, bad certificate. */
    REFUSED,
    /** Ran and succeeded. */
    SUCCEEDED,
    /** Ran and failed. */
    FAILED
  }

  public AuditEntry {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(who, "who");
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(action, "action");
    target = target == null ? "" : target;
    remoteAddress = remoteAddress == null ? "unknown" : remoteAddress;
    Objects.requireNonNull(outcome, "outcome");
    detail = detail == null ? "" : detail;
  }
}
