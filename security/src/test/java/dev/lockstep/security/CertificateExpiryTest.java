package dev.lockstep.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateExpiryTest {
  @TempDir Path dir;

  /** One line per series: {@code file|subject value}. */
  static String scrape(PrometheusRegistry registry) {
    StringBuilder out = new StringBuilder();
    registry.scrape().forEach(m -> {
      for (GaugeSnapshot.GaugeDataPointSnapshot p : ((GaugeSnapshot) m).getDataPoints()) {
        out.append(p.getLabels().get("file")).append('|').append(p.getLabels().get("subject"))
            .append(' ').append((long) p.getValue()).append('\n');
      }
    });
    return out.toString();
  }

  @Test
  void eachCertificateReportsItsNotAfterAndARenewalShowsAtTheNextScrape() throws Exception {
    CertsInit.Result pki = CertsInit.run(dir, List.of("w1"), List.of(), List.of(), List.of(), Duration.ofDays(20));
    PrometheusRegistry registry = new PrometheusRegistry();
    CertificateExpiry.register(registry, pki.caCert(), dir.resolve("w1.pem"));

    long notAfter = pki.issued().stream().filter(i -> i.name().equals("w1")).findFirst().orElseThrow()
        .notAfter().getEpochSecond();
    String text = scrape(registry);
    assertThat(text).contains(dir.resolve("w1.pem") + "|CN=w1,OU=agent,O=Lockstep " + notAfter + "\n");
    assertThat(text).contains(pki.caCert() + "|CN=Lockstep CA");

    CertsDirectory.renew(dir, "w1", Duration.ofDays(90), java.time.Clock.systemUTC());
    assertThat(scrape(registry)).contains(dir.resolve("w1.pem") + "|").doesNotContain(" " + notAfter + "\n");
  }

  @Test
  void anUnreadableFileHasNoSeriesAndTheOthersStay() throws Exception {
    CertsInit.Result pki = CertsInit.run(dir, List.of("w1"), List.of(), List.of(), List.of(), Duration.ofDays(20));
    Path broken = Files.writeString(dir.resolve("broken.pem"), "not a certificate");
    PrometheusRegistry registry = new PrometheusRegistry();
    CertificateExpiry.register(registry, broken, dir.resolve("missing.pem"), pki.caCert());
    String text = scrape(registry);
    assertThat(text).doesNotContain("broken.pem", "missing.pem").contains(pki.caCert().toString());
  }
}
