package dev.lockstep.security;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A server-side trust manager that delegates the chain decision, then refuses a client
 * certificate its {@link RevocationList} names, and audits each client certificate refused
 * (unknown CA, expired, wrong key usage, revoked). Without it a refused handshake leaves no trace
 * on the server: the connection dies before any gRPC call exists.
 */
final class RefusalAuditingTrustManager extends X509ExtendedTrustManager {
  private static final System.Logger LOG = System.getLogger(RefusalAuditingTrustManager.class.getName());

  private final X509ExtendedTrustManager delegate;
  private final RevocationList revocations;
  private final AuditSink audit;
  private final Clock clock;

  RefusalAuditingTrustManager(X509ExtendedTrustManager delegate, RevocationList revocations,
      AuditSink audit, Clock clock) {
    this.delegate = delegate;
    this.revocations = revocations;
    this.audit = audit;
    this.clock = clock;
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    try {
      delegate.checkClientTrusted(chain, authType, engine);
      checkRevoked(chain);
    } catch (CertificateException | RuntimeException e) {
      refused(chain, engine == null ? null : engine.getPeerHost(),
          engine == null ? -1 : engine.getPeerPort(), e);
      throw e;
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    try {
      delegate.checkClientTrusted(chain, authType, socket);
      checkRevoked(chain);
    } catch (CertificateException | RuntimeException e) {
      refused(chain, socket == null ? null : socket.getInetAddress().getHostAddress(),
          socket == null ? -1 : socket.getPort(), e);
      throw e;
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    delegate.checkClientTrusted(chain, authType);
    checkRevoked(chain);
  }

  private void checkRevoked(X509Certificate[] chain) throws CertificateException {
    for (X509Certificate certificate : chain) {
      revocations.check(certificate);
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    delegate.checkServerTrusted(chain, authType, engine);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate.checkServerTrusted(chain, authType, socket);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    delegate.checkServerTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return delegate.getAcceptedIssuers();
  }

  private void refused(X509Certificate[] chain, String host, int port, Exception reason) {
    String subject = chain == null || chain.length == 0
        ? "(no certificate)" : chain[0].getSubjectX500Principal().getName();
    String issuer = chain == null || chain.length == 0
        ? "" : " issued by " + chain[0].getIssuerX500Principal().getName();
    String address = host == null ? "unknown" : (port > 0 ? host + ":" + port : host);
    String detail = "TLS handshake refused client certificate " + subject + issuer + ": "
        + rootMessage(reason);
    try {
      audit.record(new AuditEntry(clock.instant(), subject, "none", "TlsHandshake", "", address,
          AuditEntry.Outcome.REFUSED, detail));
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "audit sink failed to record a refused handshake: " + e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return String.valueOf(root.getMessage());
  }
}
