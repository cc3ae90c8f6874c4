package dev.lockstep.collector.auth;

import io.grpc.Attributes;
import io.grpc.Grpc;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/** Under mTLS: the caller is the subject CN of its verified client certificate. */
public final class CertificateIdentity implements IdentityResolver {
  @Override
  public Optional<String> identity(Attributes callAttributes) {
    SSLSession ssl = callAttributes.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (ssl == null) return Optional.empty();
    try {
      Certificate[] chain = ssl.getPeerCertificates();
      if (chain.length == 0 || !(chain[0] instanceof X509Certificate x509)) return Optional.empty();
      return commonName(x509.getSubjectX500Principal().getName());
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
  }

  static Optional<String> commonName(String dn) {
    try {
      for (Rdn rdn : new LdapName(dn).getRdns()) {
        if ("CN".equalsIgnoreCase(rdn.getType())) return Optional.of(String.valueOf(rdn.getValue()));
      }
    } catch (InvalidNameException e) {
      return Optional.empty();
    }
    return Optional.empty();
  }
}
