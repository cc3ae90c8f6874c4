package dev.lockstep.security;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code lockstep_certificate_expiry_seconds{file, subject}}: the notAfter, as Unix seconds, of
 * every certificate in a component's certificate and CA files, read from disk at each scrape (so
 * a renewed file shows at once). The alert LockstepCertificateExpiresSoon fires 14 days ahead:
 * when the collector's certificate or the CA expires, every agent disconnects at once.
 *
 * <p>A file that cannot be read or parsed has no series (and {@code up} stays 1); the reason is
 * logged once per change of the file.
 */
public final class CertificateExpiry {
  /** The metric's name. */
  public static final String METRIC = "lockstep_certificate_expiry_seconds";

  private CertificateExpiry() { }

  /** Registers the gauge for {@code files} (typically the CA file and the own certificate). */
  public static void register(PrometheusRegistry registry, Path... files) {
    CertificateDates dates = new CertificateDates(List.of(files));
    GaugeWithCallback.builder().name(METRIC)
        .help(HELP)
        .labelNames("file", "subject")
        .callback(cb -> dates.forEach(e -> cb.call(e.notAfterSeconds(), e.file().toString(), e.subject())))
        .register(registry);
  }

  /** The gauge's help text (the agent exports the same series without this library). */
  public static final String HELP =
      "Unix time at which each certificate in the component's TLS files expires (notAfter)";
}
