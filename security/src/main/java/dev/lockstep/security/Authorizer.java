package dev.lockstep.security;

import io.grpc.Status;
import java.time.Clock;
import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Decides whether the current caller may do something, and audits every refusal. Answers with a
 * {@link Status} value (OK, PERMISSION_DENIED or UNAUTHENTICATED with a one-line description),
 * never by throwing, so a service method can write
 *
 * <pre>{@code
 * Status allowed = authorizer.require("EnableStop", scope, Role.OPERATOR);
 * if (!allowed.isOk()) { responseObserver.onError(allowed.asRuntimeException()); return; }
 * }</pre>
 *
 * <p>Rules: an authenticated caller needs one of the allowed roles; the insecure anonymous caller
 * ({@code --insecure}) is allowed everything; an unidentified caller (no
 * {@link IdentityInterceptor} installed) is allowed nothing. An agent may only report as itself
 * ({@link #requireAgent}). Thread-safe.
 */
public final class Authorizer {
  private static final System.Logger LOG = System.getLogger(Authorizer.class.getName());

  private final AuditSink audit;
  private final Clock clock;

  public Authorizer(AuditSink audit, Clock clock) {
    this.audit = Objects.requireNonNull(audit, "audit");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** {@link #require(Caller, String, String, Role...)} for the current call's caller. */
  public Status require(String action, String target, Role... allowed) {
    return require(Caller.current(), action, target, allowed);
  }

  /**
   * OK if {@code caller} holds one of the {@code allowed} roles; otherwise PERMISSION_DENIED
   * ({@code "operator role required for EnableStop; caller bob is viewer"}), audited as REFUSED.
   *
   * @param action what is attempted, e.g. the RPC name
   * @param target what it is aimed at (incident id, scope), may be empty
   */
  public Status require(Caller caller, String action, String target, Role... allowed) {
    if (allowed.length == 0) {
      throw new IllegalArgumentException("require at least one role");
    }
    Identity identity = caller.identity();
    if (identity.isAnonymousInsecure()) {
      return Status.OK;
    }
    if (!identity.authenticated()) {
      return refuse(caller, action, target, Status.UNAUTHENTICATED.withDescription(
          "caller is not identified (no IdentityInterceptor on this server); " + action + " refused"));
    }
    if (Arrays.asList(allowed).contains(identity.role())) {
      return Status.OK;
    }
    String roles = Arrays.stream(allowed).map(Role::label).collect(Collectors.joining(" or "));
    return refuse(caller, action, target, Status.PERMISSION_DENIED.withDescription(
        roles + " role required for " + action + "; caller " + identity.name() + " is "
            + identity.roleLabel()));
  }

  /** {@link #requireAgent(Caller, String, String)} for the current call's caller. */
  public Status requireAgent(String action, String claimedAgentId) {
    return requireAgent(Caller.current(), action, claimedAgentId);
  }

  /**
   * OK if the caller is the agent it claims to be: role agent and certificate name equal to
   * {@code claimedAgentId} (as in {@code Hello.agent_id}). Otherwise PERMISSION_DENIED
   * ({@code "certificate identity h2 (agent) may not report as agent h1"}), audited as REFUSED
   * with the claimed id as target. The insecure anonymous caller may claim any id.
   */
  public Status requireAgent(Caller caller, String action, String claimedAgentId) {
    Status role = require(caller, action, claimedAgentId, Role.AGENT);
    if (!role.isOk() || caller.identity().isAnonymousInsecure()) {
      return role;
    }
    Identity identity = caller.identity();
    if (identity.name().equals(claimedAgentId)) {
      return Status.OK;
    }
    return refuse(caller, action, claimedAgentId, Status.PERMISSION_DENIED.withDescription(
        "certificate identity " + identity.describe() + " may not report as agent "
            + claimedAgentId));
  }

  /**
   * Records an operator action that ran (or failed) for the current call's caller. Call it once
   * per state-changing operator RPC, after it took effect.
   */
  public void audit(String action, String target, AuditEntry.Outcome outcome, String detail) {
    audit(Caller.current(), action, target, outcome, detail);
  }

  /** {@link #audit(String, String, AuditEntry.Outcome, String)} for an explicit caller. */
  public void audit(Caller caller, String action, String target, AuditEntry.Outcome outcome,
      String detail) {
    Identity identity = caller.identity();
    record(new AuditEntry(clock.instant(), identity.name(), identity.roleLabel(), action, target,
        caller.remoteAddress(), outcome, detail));
  }

  private Status refuse(Caller caller, String action, String target, Status status) {
    audit(caller, action, target, AuditEntry.Outcome.REFUSED, status.getDescription());
    return status;
  }

  private void record(AuditEntry entry) {
    try {
      audit.record(entry);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "audit sink failed to record " + entry + ": " + e);
    }
  }
}
