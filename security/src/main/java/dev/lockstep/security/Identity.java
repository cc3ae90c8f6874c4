package dev.lockstep.security;

import io.grpc.Context;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * Who is calling: the verified certificate's subject CN ({@code name}: an agent id, an operator's
 * name) and its OU ({@code role}).
 *
 * <p>Invariant: {@code role} is null exactly when {@code authenticated} is false. There are two
 * such identities: {@link #anonymousInsecure()} (plaintext {@code --insecure} mode, where every
 * caller may do everything, by choice of whoever started the server) and {@link #unidentified()}
 * (no {@link IdentityInterceptor} ran; {@link Authorizer} refuses it everything).
 */
public record Identity(String name, Role role, boolean authenticated) {

  /** Where {@link IdentityInterceptor} puts the caller's identity for the call. */
  public static final Context.Key<Identity> CONTEXT_KEY = Context.key("lockstep-identity");

  private static final Identity ANONYMOUS_INSECURE = new Identity("anonymous", null, false);
  private static final Identity UNIDENTIFIED = new Identity("unidentified", null, false);

  public Identity {
    Objects.requireNonNull(name, "name");
    if (authenticated != (role != null)) {
      throw new IllegalArgumentException("an identity has a role exactly when it is authenticated");
    }
  }

  /** An authenticated identity read from a verified certificate. */
  public static Identity of(String name, Role role) {
    return new Identity(name, Objects.requireNonNull(role, "role"), true);
  }

  /** The caller of a server started with {@code --insecure}: unauthenticated, allowed everything. */
  public static Identity anonymousInsecure() {
    return ANONYMOUS_INSECURE;
  }

  /** The caller when no {@link IdentityInterceptor} ran: allowed nothing. */
  public static Identity unidentified() {
    return UNIDENTIFIED;
  }

  /**
   * The identity of the current gRPC call (set by {@link IdentityInterceptor}), or
   * {@link #unidentified()} outside of one. Call it on the call's thread (service method or
   * listener callback); capture it there if work continues on another executor.
   */
  public static Identity current() {
    Identity identity = CONTEXT_KEY.get();
    return identity == null ? UNIDENTIFIED : identity;
  }

  /** True only for the instance {@link #anonymousInsecure()} returns (not for look-alikes). */
  public boolean isAnonymousInsecure() {
    return this == ANONYMOUS_INSECURE;
  }

  /** The role label for logs and audit: {@code operator}, or {@code insecure}/{@code none}. */
  public String roleLabel() {
    if (role != null) {
      return role.label();
    }
    return isAnonymousInsecure() ? "insecure" : "none";
  }

  /** {@code bob (viewer)}, {@code anonymous (insecure)}. */
  public String describe() {
    return name + " (" + roleLabel() + ")";
  }

  /**
   * Reads name and role from a certificate subject: exactly one CN, and exactly one OU that is a
   * {@link Role} label (other OUs are ignored). The chain must already be verified.
   *
   * @return the identity, or empty with the reason in {@code problems}
   */
  public static Optional<Identity> fromCertificate(X509Certificate certificate, List<String> problems) {
    X500Name subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
    List<String> names = values(subject, BCStyle.CN);
    List<Role> roles = new ArrayList<>();
    for (String ou : values(subject, BCStyle.OU)) {
      Role.fromLabel(ou).ifPresent(roles::add);
    }
    if (names.size() != 1 || names.get(0).isBlank()) {
      problems.add("certificate subject \"" + subject + "\" must have exactly one CN (the identity)");
      return Optional.empty();
    }
    if (roles.size() != 1) {
      problems.add("certificate subject \"" + subject + "\" must have exactly one OU naming a role"
          + " (agent, operator, viewer or collector), found " + roles.size());
      return Optional.empty();
    }
    return Optional.of(Identity.of(names.get(0), roles.get(0)));
  }

  private static List<String> values(X500Name subject, ASN1ObjectIdentifier type) {
    List<String> out = new ArrayList<>();
    for (RDN rdn : subject.getRDNs(type)) {
      for (AttributeTypeAndValue tv : rdn.getTypesAndValues()) {
        if (tv.getType().equals(type)) {
          ASN1Encodable value = tv.getValue();
          out.add(value instanceof ASN1String text ? text.getString() : IETFUtils.valueToString(value));
        }
      }
    }
    return out;
  }
}
