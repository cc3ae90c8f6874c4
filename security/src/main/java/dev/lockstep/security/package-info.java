/**
 * mTLS credentials, certificate identities, roles, audit hooks and webhook signatures shared by
 * agent, collector and CLI.
 *
 * <p>Entry points: {@link dev.lockstep.security.CertsInit} (make a CA and certificates),
 * {@link dev.lockstep.security.Tls} (gRPC credentials that reload from disk),
 * {@link dev.lockstep.security.IdentityInterceptor} (who is calling),
 * {@link dev.lockstep.security.Authorizer} (may they), {@link dev.lockstep.security.AuditSink}
 * (record it), {@link dev.lockstep.security.WebhookSigner} (sign outgoing webhooks).
 */
package dev.lockstep.security;
