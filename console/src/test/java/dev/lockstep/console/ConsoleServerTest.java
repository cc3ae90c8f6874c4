package dev.lockstep.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.lockstep.proto.v1.EvidenceFile;
import dev.lockstep.proto.v1.EvidenceInfo;
import dev.lockstep.proto.v1.ExportEvidenceRequest;
import dev.lockstep.proto.v1.FleetStatus;
import dev.lockstep.proto.v1.GetIncidentRequest;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.StatusRequest;
import dev.lockstep.security.AuditEntry;
import dev.lockstep.security.AuditSink;
import dev.lockstep.security.CertificateAuthority;
import dev.lockstep.security.CertsInit;
import dev.lockstep.security.Identity;
import dev.lockstep.security.RevocationList;
import dev.lockstep.security.Role;
import dev.lockstep.security.Tls;
import dev.lockstep.security.TlsFiles;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console's HTTP front without a browser, against a stand-in Operator API: the guards a
 * browser test cannot easily provoke (a foreign Host, a change without the page's token or from
 * another origin), the evidence export refusing an artifact that fails its size or SHA-256 check,
 * and the assets being self-contained and within the page-weight budget.
 */
class ConsoleServerTest {
  static final byte[] GOLDEN = "{\"format\": \"lockstep.golden/v1\"}\n".getBytes(StandardCharsets.UTF_8);

  /** What the stand-in collector streams for the artifact: its bytes and the SHA-256 it claims. */
  final AtomicReference<byte[]> served = new AtomicReference<>(GOLDEN);
  final AtomicInteger statusCalls = new AtomicInteger();
  Server grpc;
  ManagedChannel channel;
  ConsoleServer console;
  HttpClient http;
  String base;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    grpc = InProcessServerBuilder.forName(name).directExecutor().addService(new StandIn()).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    console = ConsoleServer.local(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), caller -> channel,
        Identity.of("alice", Role.OPERATOR), "stand-in:4317", Duration.ofSeconds(10), Clock.systemUTC(), line -> { });
    http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    base = "http://127.0.0.1:" + console.port() + "/";
  }

  @AfterEach
  void stop() {
    console.close();
    channel.shutdownNow();
    grpc.shutdownNow();
  }

  final class StandIn extends OperatorGrpc.OperatorImplBase {
    @Override
    public void getStatus(StatusRequest request, StreamObserver<FleetStatus> out) {
      statusCalls.incrementAndGet();
      out.onNext(FleetStatus.newBuilder().setAgentsConnected(3).build());
      out.onCompleted();
    }

    @Override
    public void getIncident(GetIncidentRequest request, StreamObserver<Incident> out) {
      out.onNext(Incident.newBuilder().setId(request.getId()).addEvidence(EvidenceInfo.newBuilder()
          .setName("golden/run-1.primary.golden.json").setKind("golden").setAgentId("host-a")
          .setSizeBytes(GOLDEN.length).setSha256(sha256(GOLDEN))).build());
      out.onCompleted();
    }

    @Override
    public void exportEvidence(ExportEvidenceRequest request, StreamObserver<EvidenceFile> out) {
      byte[] data = served.get();
      out.onNext(EvidenceFile.newBuilder().setName("host-a/golden/run-1.primary.golden.json").setKind("golden")
          .setAgentId("host-a").setOffset(0).setData(ByteString.copyFrom(data)).setLast(true)
          .setTotalBytes(GOLDEN.length).setSha256(sha256(GOLDEN)).build());
      out.onCompleted();
    }
  }

  /** Logs in with the one-time link; returns the session cookie. */
  String login() throws Exception {
    String url = console.loginUrl().orElseThrow();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(303);
    String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(cookie).contains("HttpOnly").contains("SameSite=Strict");
    assertThat(console.loginUrl()).as("the link is spent").isEmpty();
    return cookie.substring(0, cookie.indexOf(';'));
  }

  String csrf(String cookie) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "api/session")).header("Cookie", cookie).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    Matcher m = Pattern.compile("\"csrf\":\"([^\"]+)\"").matcher(r.body());
    assertThat(m.find()).as(r.body()).isTrue();
    return m.group(1);
  }

  HttpResponse<String> post(String cookie, String csrf, String origin) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "api/rpc/GetStatus")).header("Cookie", cookie)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}"));
    if (csrf != null) {
      b.header("X-Lockstep-Csrf", csrf);
    }
    if (origin != null) {
      b.header("Origin", origin);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void connectionsThatFinishTheTlsHandshakeAndSendNothingDoNotLockOthersOut(@TempDir Path dir) throws Exception {
    // the JDK's HTTPS server reads a request on a worker thread right after the handshake: each
    // idle connection (a browser's preconnect, a proxy's, anyone's: no certificate is needed for
    // the handshake) holds a worker until it sends something or goes
    CertsInit.run(dir, List.of(), List.of(), List.of(), List.of("localhost"), Duration.ofDays(1));
    ScheduledExecutorService reloader = Executors.newSingleThreadScheduledExecutor();
    List<SSLSocket> idle = new ArrayList<>();
    ConsoleServer https = null;
    try {
      SSLContext tls = Tls.httpsServerContext(TlsFiles.inDirectory(dir, CertsInit.COLLECTOR_NAME),
          RevocationList.NONE, reloader, Duration.ofMinutes(1), AuditSink.NONE, Clock.systemUTC());
      https = ConsoleServer.https(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), tls, caller -> channel,
          "stand-in:4317", Duration.ofSeconds(10), AuditSink.NONE, Clock.systemUTC(), line -> { });
      SSLContext anyone = SSLContext.getInstance("TLS");
      anyone.init(null, new TrustManager[] {new TrustEverything()}, null);
      for (int i = 0; i < 24; i++) { // four browsers' worth of spare connections
        SSLSocket s = (SSLSocket) anyone.getSocketFactory().createSocket("127.0.0.1", https.port());
        s.setSoTimeout(10_000);
        s.startHandshake();
        idle.add(s);
      }
      HttpClient client = HttpClient.newBuilder().sslContext(anyone).connectTimeout(Duration.ofSeconds(10)).build();
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + https.port() + "/"))
          .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("answered (no certificate: refused, but answered)").isEqualTo(401);
      assertThat(r.body()).contains("client certificate");
    } finally {
      for (SSLSocket s : idle) s.close();
      if (https != null) https.close();
      reloader.shutdownNow();
    }
  }

  /** The collector's console (HTTPS, client certificates of a real CA) in front of the stand-in API. */
  final class CollectorConsole implements AutoCloseable {
    final List<AuditEntry> audit = new CopyOnWriteArrayList<>();
    final ScheduledExecutorService reloader = Executors.newSingleThreadScheduledExecutor();
    final CertificateAuthority ca;
    final ConsoleServer https;
    final String base;

    CollectorConsole(Path dir) throws Exception {
      CertsInit.run(dir, List.of(), List.of(), List.of(), List.of("localhost"), Duration.ofDays(1));
      ca = CertificateAuthority.load(dir.resolve(CertsInit.CA_CERT_FILE), dir.resolve(CertsInit.CA_KEY_FILE),
          Clock.systemUTC());
      SSLContext tls = Tls.httpsServerContext(TlsFiles.inDirectory(dir, CertsInit.COLLECTOR_NAME),
          RevocationList.NONE, reloader, Duration.ofMinutes(1), audit::add, Clock.systemUTC());
      https = ConsoleServer.https(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), tls, caller -> channel,
          "stand-in:4317", Duration.ofSeconds(10), audit::add, Clock.systemUTC(), line -> { });
      base = "https://127.0.0.1:" + https.port() + "/";
    }

    /** A browser holding a certificate for {@code name} in {@code role}, signed by the fleet's CA. */
    HttpClient browser(String name, Role role) throws Exception {
      CertificateAuthority.Issued issued = ca.issue(name, role,
          role == Role.COLLECTOR ? List.of("localhost") : List.of(), Duration.ofDays(1));
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry(name, issued.privateKey(), new char[0], new Certificate[] {issued.certificate()});
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, new char[0]);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), new TrustManager[] {new TrustEverything()}, null);
      return HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(10))
          .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    HttpResponse<String> get(HttpClient browser, String path, String cookie) throws Exception {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20));
      if (cookie != null) {
        b.header("Cookie", cookie);
      }
      return browser.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A fresh session (no cookie sent): its cookie and the page's token. */
    String[] login(HttpClient browser) throws Exception {
      HttpResponse<String> r = get(browser, "api/session", null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
      cookie = cookie.substring(0, cookie.indexOf(';'));
      Matcher m = Pattern.compile("\"csrf\":\"([^\"]+)\"").matcher(r.body());
      assertThat(m.find()).as(r.body()).isTrue();
      return new String[] {cookie, m.group(1)};
    }

    /** GetStatus as the page makes it: the session's cookie and token. */
    HttpResponse<String> status(HttpClient browser, String[] session) throws Exception {
      return browser.send(HttpRequest.newBuilder(URI.create(base + "api/rpc/GetStatus")).timeout(Duration.ofSeconds(20))
          .header("Cookie", session[0]).header("X-Lockstep-Csrf", session[1]).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Runs {@code each} {@code times} times, 16 at once (over as many connections: one at a time,
     * each answer waits on the JDK server's Nagle and the client's delayed ACK, 40 ms).
     */
    void repeat(int times, Callable<Void> each) throws Exception {
      ExecutorService pool = Executors.newFixedThreadPool(16);
      try {
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int i = 0; i < times; i++) {
          tasks.add(each);
        }
        for (Future<Void> f : pool.invokeAll(tasks)) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
      }
    }

    @Override
    public void close() {
      https.close();
      reloader.shutdownNow();
    }
  }

  @Test
  void aFleetCertificateIsRefusedOpensNoSessionAndCannotEvictAnOperators(@TempDir Path dir) throws Exception {
    // any agent host holds a certificate the CA signed; sessions are capped (least recently used
    // goes), so if it opened one per request it could evict every operator's session in a loop
    SoftAssertions softly = new SoftAssertions();
    try (CollectorConsole c = new CollectorConsole(dir)) {
      HttpClient alice = c.browser("alice", Role.OPERATOR);
      String[] operator = c.login(alice);

      HttpClient agent = c.browser("host-1", Role.AGENT);
      HttpResponse<String> refused = c.get(agent, "", null);
      softly.assertThat(refused.statusCode()).isEqualTo(403);
      softly.assertThat(refused.body()).contains("host-1 (agent)").contains("has role agent")
          .contains("OU operator or viewer");
      softly.assertThat(refused.headers().firstValue("Set-Cookie")).as("no session opened").isEmpty();
      softly.assertThat(c.audit).as("the refusal audited").anyMatch(e -> e.who().equals("host-1")
          && e.role().equals("agent") && e.action().equals("ConsoleLogin")
          && e.outcome() == AuditEntry.Outcome.REFUSED && e.detail().contains("operator or viewer role required"));
      HttpResponse<String> collector = c.get(c.browser("collector", Role.COLLECTOR), "api/session", null);
      softly.assertThat(collector.statusCode()).isEqualTo(403);
      softly.assertThat(collector.body()).contains("has role collector");

      long refusedBefore = c.https.stats().refused();
      AtomicInteger admitted = new AtomicInteger();
      c.repeat(Sessions.MAX + 1, () -> {
        HttpResponse<String> r = c.get(agent, "api/session", null);
        if (r.statusCode() != 403 || r.headers().firstValue("Set-Cookie").isPresent()) {
          admitted.incrementAndGet();
        }
        return null;
      });
      softly.assertThat(admitted.get()).as("of %d requests by the agent, admitted", Sessions.MAX + 1).isZero();
      softly.assertThat(c.https.stats().refused() - refusedBefore).as("counted as refused").isEqualTo(Sessions.MAX + 1);

      HttpResponse<String> stillIn = c.status(alice, operator);
      softly.assertThat(stillIn.statusCode()).as("the operator's session survived: %s", stillIn.body()).isEqualTo(200);
      softly.assertThat(statusCalls.get()).isEqualTo(1);
      HttpResponse<String> viewer = c.get(c.browser("bob", Role.VIEWER), "api/session", null);
      softly.assertThat(viewer.statusCode()).isEqualTo(200);
      softly.assertThat(viewer.body()).contains("\"who\":\"bob\"").contains("\"role\":\"viewer\"");
    }
    softly.assertAll();
  }

  @Test
  void oneCertificateOpeningSessionsInALoopEvictsOnlyItsOwn(@TempDir Path dir) throws Exception {
    try (CollectorConsole c = new CollectorConsole(dir)) {
      HttpClient alice = c.browser("alice", Role.OPERATOR);
      String[] operator = c.login(alice);
      HttpClient bob = c.browser("bob", Role.VIEWER);
      String[] first = c.login(bob);
      c.repeat(Sessions.MAX, () -> {
        c.login(bob);
        return null;
      });
      String[] last = c.login(bob);
      HttpResponse<String> stillIn = c.status(alice, operator);
      assertThat(stillIn.statusCode()).as("the operator's session survived: %s", stillIn.body()).isEqualTo(200);
      assertThat(c.status(bob, last).statusCode()).as("the viewer's newest session works").isEqualTo(200);
      HttpResponse<String> evicted = c.status(bob, first);
      assertThat(evicted.statusCode()).as("the viewer's oldest session went").isEqualTo(403);
      assertThat(evicted.body()).contains("X-Lockstep-Csrf");
    }
  }

  /** A client that trusts any server: stands for anyone who can reach the console's port. */
  static final class TrustEverything implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) { }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) { }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  @Test
  void anApiCallNeedsThePagesTokenAndThisOriginAndReachesTheApiOnlyThen() throws Exception {
    String cookie = login();
    String csrf = csrf(cookie);
    HttpResponse<String> none = post(cookie, null, null);
    assertThat(none.statusCode()).isEqualTo(403);
    assertThat(none.body()).contains("X-Lockstep-Csrf");
    HttpResponse<String> wrong = post(cookie, csrf + "x", null);
    assertThat(wrong.statusCode()).isEqualTo(403);
    HttpResponse<String> foreign = post(cookie, csrf, "http://evil.example");
    assertThat(foreign.statusCode()).isEqualTo(403);
    assertThat(foreign.body()).contains("another origin");
    assertThat(statusCalls.get()).as("no refused request reached the API").isZero();

    HttpResponse<String> ok = post(cookie, csrf, "http://127.0.0.1:" + console.port());
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).contains("\"agents_connected\":3");
    assertThat(statusCalls.get()).isEqualTo(1);
  }

  @Test
  void aRequestNamingAnotherHostIsRefusedEvenWithTheLink() throws Exception {
    // a page elsewhere reaching 127.0.0.1 under its own name (DNS rebinding) names its own Host
    String url = console.loginUrl().orElseThrow();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), console.port())) {
      String path = url.substring(url.indexOf('/', "http://".length()));
      s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: rebound.example:" + console.port()
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 421");
    }
    assertThat(console.loginUrl()).as("the link is not spent by a refused request").isPresent();
  }

  @Test
  void theEvidenceExportHoldsVerifiedFilesAndRefusesOneThatFailsItsCheck() throws Exception {
    String cookie = login();
    HttpRequest get = HttpRequest.newBuilder(URI.create(base + "api/evidence?incident=INC-000001")).header("Cookie", cookie).build();
    HttpResponse<byte[]> good = http.send(get, HttpResponse.BodyHandlers.ofByteArray());
    assertThat(good.statusCode()).isEqualTo(200);
    assertThat(good.headers().firstValue("Content-Disposition").orElseThrow()).contains("incident-INC-000001.tgz");
    String tar = new String(gunzip(good.body()), StandardCharsets.ISO_8859_1);
    assertThat(tar).contains("incident-INC-000001/host-a/golden/run-1.primary.golden.json")
        .contains(new String(GOLDEN, StandardCharsets.ISO_8859_1)).contains("\"sha256\":\"sha256:" + sha256(GOLDEN) + "\"");

    byte[] tampered = GOLDEN.clone();
    tampered[3] ^= 1;
    served.set(tampered);
    HttpResponse<String> bad = http.send(get, HttpResponse.BodyHandlers.ofString());
    assertThat(bad.statusCode()).isEqualTo(502);
    assertThat(bad.body()).contains("DATA_LOSS").contains("failed its check");

    served.set(new byte[GOLDEN.length - 1]);
    HttpResponse<String> shortened = http.send(get, HttpResponse.BodyHandlers.ofString());
    assertThat(shortened.statusCode()).isEqualTo(502);
    assertThat(shortened.body()).contains("failed its check");
  }

  @Test
  void theAssetsAreSelfContainedAndWeighAtMost300KilobytesAndTheBrowserIsToldSo() throws Exception {
    // every page loads the same shell and scripts: their sum is a page's weight before data
    assertThat(console.assetBytes()).isPositive().isLessThanOrEqualTo(300 * 1024L);
    Pattern outside = Pattern.compile("(?i)(https?:)?//[a-z0-9.-]+\\.[a-z]{2,}|@import|src\\s*=\\s*[\"']?(https?:|//)");
    for (String name : Assets.FILES) {
      try (InputStream in = Assets.class.getResourceAsStream("web/" + name)) {
        String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        if (name.endsWith(".svg")) {
          // the SVG namespace is a name, not a request
          text = text.replace("http://www.w3.org/2000/svg", "");
        }
        Matcher m = outside.matcher(text);
        assertThat(m.find()).as("%s refers outside the jar: %s", name, m.find(0) ? m.group() : "").isFalse();
      }
    }
    String cookie = login();
    HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base)).header("Cookie", cookie).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
        .as("the browser itself refuses anything from elsewhere").contains("default-src 'none'")
        .contains("script-src 'self'").doesNotContain("http");
    for (String asset : List.of("console.js", "console.css")) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "assets/" + asset)).header("Cookie", cookie).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      String etag = r.headers().firstValue("ETag").orElseThrow();
      HttpResponse<String> again = http.send(HttpRequest.newBuilder(URI.create(base + "assets/" + asset)).header("Cookie", cookie)
          .header("If-None-Match", etag).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(again.statusCode()).as("a reload costs a 304").isEqualTo(304);
    }
  }

  static byte[] gunzip(byte[] gz) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      return in.readAllBytes();
    }
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
