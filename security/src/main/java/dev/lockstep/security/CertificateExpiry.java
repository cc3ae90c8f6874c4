package dev.lockstep.security;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
  private static final System.Logger LOG = System.getLogger(CertificateExpiry.class.getName());
  /** The metric's name. */
  public static final String METRIC = "lockstep_certificate_expiry_seconds";

  private record Expiry(String subject, long notAfterSeconds) { }

  private record Read(long modified, long size, List<Expiry> expiries) { }

  private final List<Path> files;
  private final Map<Path, Read> cache = new ConcurrentHashMap<>();

  private CertificateExpiry(List<Path> files) {
    this.files = List.copyOf(files);
  }

  /** Registers the gauge for {@code files} (typically the CA file and the own certificate). */
  public static void register(PrometheusRegistry registry, Path... files) {
    CertificateExpiry expiry = new CertificateExpiry(List.of(files));
    GaugeWithCallback.builder().name(METRIC)
        .help("Unix time at which each certificate in the component's TLS files expires (notAfter)")
        .labelNames("file", "subject")
        .callback(cb -> {
          for (Path file : expiry.files) {
            for (Expiry e : expiry.read(file)) {
              cb.call(e.notAfterSeconds(), file.toString(), e.subject());
            }
          }
        })
        .register(registry);
  }

  private List<Expiry> read(Path file) {
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(file, BasicFileAttributes.class);
    } catch (IOException e) {
      return failed(file, -1, -1, file + ": cannot read: " + e.getMessage());
    }
    long modified = attributes.lastModifiedTime().toMillis();
    Read cached = cache.get(file);
    if (cached != null && cached.modified() == modified && cached.size() == attributes.size()) {
      return cached.expiries();
    }
    try {
      List<Expiry> expiries = new ArrayList<>();
      for (X509Certificate c : Pem.certificates(Pem.readBytes(file, "certificate"), file, "certificate")) {
        expiries.add(new Expiry(c.getSubjectX500Principal().getName(),
            c.getNotAfter().toInstant().getEpochSecond()));
      }
      cache.put(file, new Read(modified, attributes.size(), List.copyOf(expiries)));
      return expiries;
    } catch (SecuritySetupException e) {
      return failed(file, modified, attributes.size(), e.getMessage());
    }
  }

  private List<Expiry> failed(Path file, long modified, long size, String reason) {
    Read before = cache.put(file, new Read(modified, size, List.of()));
    if (before == null || before.modified() != modified || before.size() != size
        || !before.expiries().isEmpty()) {
      LOG.log(System.Logger.Level.WARNING, METRIC + ": no series for " + reason);
    }
    return List.of();
  }
}
