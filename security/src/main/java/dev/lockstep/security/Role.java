package dev.lockstep.security;

import java.util.Locale;
import java.util.Optional;

/**
 * What a certificate holder may do. Carried in the certificate subject's OU, in lower case
 * ({@code OU=operator}).
 */
public enum Role {
  /** A worker host's agent: may only use the AgentGateway, and only as itself. */
  AGENT,
  /** A person who may stop, resume, acknowledge and resolve. */
  OPERATOR,
  /** A person who may only read. */
  VIEWER,
  /** The collector's own server certificate. */
  COLLECTOR;

  /** The OU value, e.g. {@code "operator"}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The role whose {@link #label()} is {@code label}, ignoring case. */
  public static Optional<Role> fromLabel(String label) {
    for (Role role : values()) {
      if (role.label().equalsIgnoreCase(label.trim())) {
        return Optional.of(role);
      }
    }
    return Optional.empty();
  }
}
