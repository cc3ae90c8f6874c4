package dev.lockstep.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Context;
import io.grpc.Status;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Role rules without a network: the loopback tests in MtlsTest cover the wiring. */
class AuthorizerTest {
  final List<AuditEntry> audited = new ArrayList<>();
  final Clock clock = Clock.fixed(Instant.parse("2026-03-01T12:00:00Z"), ZoneOffset.UTC);
  final Authorizer authorizer = new Authorizer(audited::add, clock);

  static Caller caller(Identity identity) {
    return new Caller(identity, "10.1.2.3:5555");
  }

  @Test
  void aViewerMayReadButNotResume() {
    Caller bob = caller(Identity.of("bob", Role.VIEWER));
    assertThat(authorizer.require(bob, "ListIncidents", "", Role.OPERATOR, Role.VIEWER)).isEqualTo(Status.OK);

    Status resume = authorizer.require(bob, "DisableStop", "epoch 4", Role.OPERATOR);

    assertThat(resume.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(resume.getDescription()).isEqualTo("operator role required for DisableStop; caller bob is viewer");
    assertThat(audited).containsExactly(new AuditEntry(clock.instant(), "bob", "viewer", "DisableStop",
        "epoch 4", "10.1.2.3:5555", AuditEntry.Outcome.REFUSED,
        "operator role required for DisableStop; caller bob is viewer"));
  }

  @Test
  void severalAllowedRolesAreListedInTheRefusal() {
    Status status = authorizer.require(caller(Identity.of("h1", Role.AGENT)), "ListIncidents", "",
        Role.OPERATOR, Role.VIEWER);
    assertThat(status.getDescription()).isEqualTo("operator or viewer role required for ListIncidents; caller h1 is agent");
  }

  @Test
  void anUnidentifiedCallerIsRefusedEverything() {
    Status status = authorizer.require(caller(Identity.unidentified()), "ListIncidents", "", Role.VIEWER);
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(authorizer.requireAgent(caller(Identity.unidentified()), "Connect", "h1").getCode())
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(audited).hasSize(2).allSatisfy(e -> assertThat(e.role()).isEqualTo("none"));
  }

  @Test
  void theInsecureAnonymousCallerMayDoEverythingUnaudited() {
    Caller anonymous = caller(Identity.anonymousInsecure());
    assertThat(authorizer.require(anonymous, "EnableStop", "fleet", Role.OPERATOR)).isEqualTo(Status.OK);
    assertThat(authorizer.requireAgent(anonymous, "Connect", "any-host")).isEqualTo(Status.OK);
    assertThat(audited).isEmpty();
  }

  @Test
  void aLookAlikeOfTheAnonymousIdentityGetsNothing() {
    Caller lookAlike = caller(new Identity("anonymous", null, false));
    assertThat(authorizer.require(lookAlike, "EnableStop", "fleet", Role.OPERATOR).getCode())
        .isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void outsideAnyCallTheCurrentCallerIsUnidentified() {
    assertThat(Identity.current()).isEqualTo(Identity.unidentified());
    assertThat(Caller.current().remoteAddress()).isEqualTo("unknown");
    assertThat(authorizer.require("EnableStop", "fleet", Role.OPERATOR).getCode())
        .isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void theCurrentCallerComesFromTheGrpcContext() throws Exception {
    Context context = Context.current()
        .withValue(Identity.CONTEXT_KEY, Identity.of("alice", Role.OPERATOR))
        .withValue(Caller.REMOTE_ADDRESS_KEY, "127.0.0.1:40000");

    Status status = context.call(() -> authorizer.require("EnableStop", "fleet", Role.OPERATOR));
    context.run(() -> authorizer.audit("EnableStop", "fleet", AuditEntry.Outcome.SUCCEEDED, "epoch 5"));

    assertThat(status.isOk()).isTrue();
    assertThat(audited).containsExactly(new AuditEntry(clock.instant(), "alice", "operator",
        "EnableStop", "fleet", "127.0.0.1:40000", AuditEntry.Outcome.SUCCEEDED, "epoch 5"));
  }

  @Test
  void aFailingAuditSinkDoesNotBreakTheDecision() {
    Authorizer withBrokenSink = new Authorizer(entry -> {
      throw new IllegalStateException("disk full");
    }, clock);
    Status status = withBrokenSink.require(caller(Identity.of("bob", Role.VIEWER)), "EnableStop", "", Role.OPERATOR);
    assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
  }

  @Test
  void identitiesKeepTheirInvariant() {
    assertThatThrownBy(() -> new Identity("x", null, true)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Identity("x", Role.AGENT, false)).isInstanceOf(IllegalArgumentException.class);
    assertThat(Identity.anonymousInsecure().describe()).isEqualTo("anonymous (insecure)");
    assertThat(Identity.of("bob", Role.VIEWER).describe()).isEqualTo("bob (viewer)");
    assertThat(Role.fromLabel(" Operator ")).contains(Role.OPERATOR);
    assertThat(Role.fromLabel("admin")).isEmpty();
  }

  @Test
  void theInsecureWarningIsOneLoudLine() {
    assertThat(Tls.insecureWarning("lockstep-collector"))
        .startsWith("WARNING: lockstep-collector is running WITHOUT TLS (--insecure): anyone who can"
            + " reach the collector's port can stop the fleet")
        .doesNotContain("\n");
  }
}
