package dev.lockstep.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The notAfter of every certificate in a component's PEM files (its own certificate, the CA),
 * read again whenever a file's size or mtime changes, so a renewed file shows at once. A file that
 * cannot be read or parsed has no dates; the reason is logged once per change of the file. Free
 * of any metrics library: {@link CertificateExpiry} and the agent's own endpoint both export it.
 */
public final class CertificateDates {
  private static final System.Logger LOG = System.getLogger(CertificateDates.class.getName());

  /** One certificate of one file. */
  public record Expiry(Path file, String subject, long notAfterSeconds) { }

  private record Read(long modified, long size, List<Expiry> expiries) { }

  private final List<Path> files;
  private final Map<Path, Read> cache = new ConcurrentHashMap<>();

  public CertificateDates(List<Path> files) {
    this.files = List.copyOf(files);
  }

  /** Every certificate of every file, as they are on disk now. */
  public void forEach(Consumer<Expiry> sink) {
    for (Path file : files) {
      read(file).forEach(sink);
    }
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
        expiries.add(new Expiry(file, c.getSubjectX500Principal().getName(),
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
      LOG.log(System.Logger.Level.WARNING, CertificateExpiry.METRIC + ": no series for " + reason);
    }
    return List.of();
  }
}
