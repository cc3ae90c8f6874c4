package dev.lockstep.agent.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class AgentMetricsTest {
  @Test
  void scrapeIsPrometheusTextWithFamiliesInNameOrderAndEscapedLabels() {
    AgentMetrics m = new AgentMetrics();
    m.eventsSpooled.labelValues("golden").inc(3);
    m.probeLevel.labelValues("disk", "/a \"quoted\"\\path").set(2);
    m.gaugeCallback("lockstep_certificate_expiry_seconds", "expiry", new String[] {"file", "subject"},
        sink -> sink.sample(1.7e9, "/ca.pem", "CN=ca"));
    String text = m.scrape();
    assertThat(text).contains("# HELP lockstep_agent_events_spooled_total Events written to the durable spool, by kind\n"
        + "# TYPE lockstep_agent_events_spooled_total counter\n"
        + "lockstep_agent_events_spooled_total{kind=\"golden\"} 3.0\n");
    assertThat(text).contains("lockstep_agent_probe_level{probe=\"disk\",target=\"/a \\\"quoted\\\"\\\\path\"} 2.0\n");
    assertThat(text).contains("lockstep_agent_connected 0.0\n");
    assertThat(text).contains("lockstep_certificate_expiry_seconds{file=\"/ca.pem\",subject=\"CN=ca\"} 1.7E9\n");
    assertThat(text).as("labelled families without series are left out").doesNotContain("hook_failures");
    assertThat(text.indexOf("lockstep_agent_acked_seq")).isLessThan(text.indexOf("lockstep_agent_connected"));
    assertThat(text.indexOf("lockstep_agent_spool_bytes")).isLessThan(text.indexOf("lockstep_certificate_expiry"));
  }

  @Test
  void theEndpointServesMetricsAndNothingElse() throws Exception {
    try (AgentMetrics m = new AgentMetrics()) {
      m.connected.set(1);
      int port = m.serve("127.0.0.1", freePort());
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> ok = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
          .header("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.headers().firstValue("Content-Type")).contains("text/plain; version=0.0.4; charset=utf-8");
      assertThat(ok.body()).contains("lockstep_agent_connected 1.0");
      HttpResponse<String> other = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/x")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(other.statusCode()).isEqualTo(404);
      HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(405);
    }
  }

  @Test
  void aClientTricklingItsRequestDoesNotKeepScrapersOut() throws Exception {
    // one connection is served at a time: a local user sending a byte every 2 s (each read within
    // the 5 s read timeout) held the endpoint for as long as it liked
    try (AgentMetrics m = new AgentMetrics(); java.net.Socket slow = new java.net.Socket()) {
      int port = m.serve("127.0.0.1", freePort());
      slow.connect(new java.net.InetSocketAddress("127.0.0.1", port));
      Thread trickle = new Thread(() -> {
        try {
          for (int i = 0; i < 15; i++) {
            slow.getOutputStream().write('G');
            slow.getOutputStream().flush();
            Thread.sleep(2000);
          }
        } catch (Exception e) {
          // closed by the server or the test
        }
      });
      trickle.setDaemon(true);
      trickle.start();
      Thread.sleep(500);
      long t0 = System.nanoTime();
      HttpResponse<String> ok = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(java.time.Duration.ofSeconds(15)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat((System.nanoTime() - t0) / 1_000_000).as("ms until the scrape was answered").isLessThan(8_000);
    }
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
