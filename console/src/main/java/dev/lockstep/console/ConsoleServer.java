package dev.lockstep.console;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.lockstep.security.AuditSink;
import dev.lockstep.security.Caller;
import dev.lockstep.security.Identity;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * The web console on the JDK's HTTP(S) server: the pages from the jar, the Operator API's unary
 * calls as JSON ({@code POST /api/rpc/<Method>}), its Watch stream as server-sent events
 * ({@code GET /api/watch}), an incident's evidence as one archive ({@code GET /api/evidence}) and
 * who is at the browser ({@code GET /api/session}). Two ways in, one UI:
 * {@link #local} ({@code lockstep console}: loopback, a one-time link, the operator's own
 * certificate) and {@link #https} (the collector: the browser's client certificate).
 *
 * <p>Invariant: every API call is made as the person the way in established — never as anyone a
 * request names — so the Operator API's roles and audit apply to the console unchanged. Requests
 * that change something carry the session's token and come from this origin. Owns its server and
 * executors; {@link #close()} ends live streams and stops them.
 */
public final class ConsoleServer implements AutoCloseable {
  /** Live event streams at once; more are answered 503. */
  static final int MAX_STREAMS = 32;
  /** Threads serving requests (each idle TLS connection that sent no request yet holds one). */
  static final int REQUEST_THREADS = 48;

  private final HttpServer server;
  private final ThreadPoolExecutor requests;
  private final ThreadPoolExecutor streams;
  private final Access access;
  private final Sessions sessions;
  private final Api api;
  private final EventStream events;
  private final EvidenceArchive evidence;
  private final Assets assets;
  private final Stats stats = new Stats();
  private final Consumer<String> progress;
  private final String collector;
  private final boolean collectorMode;
  private volatile boolean closing;

  /** What the console has done, for metrics. Thread-safe. */
  public static final class Stats {
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong apiFailures = new AtomicLong();
    private final AtomicInteger streams = new AtomicInteger();

    /** Requests answered. */
    public long requests() {
      return requests.get();
    }

    /** Requests refused before any API call: no session, a spent link, no client certificate, no token. */
    public long refused() {
      return refused.get();
    }

    /** API calls that ended with an error status (refusals by role included). */
    public long apiFailures() {
      return apiFailures.get();
    }

    /** Event streams open now. */
    public int streams() {
      return streams.get();
    }

    void apiFailed() {
      apiFailures.incrementAndGet();
    }
  }

  private ConsoleServer(HttpServer server, Access access, Sessions sessions, Backend backend,
      Duration callTimeout, Clock clock, String collector, boolean collectorMode, Consumer<String> progress) {
    this.server = server;
    this.access = access;
    this.sessions = sessions;
    this.collector = collector;
    this.collectorMode = collectorMode;
    this.progress = progress;
    this.api = new Api(backend, callTimeout, stats);
    this.events = new EventStream(backend);
    this.evidence = new EvidenceArchive(backend, clock, collector);
    this.assets = new Assets();
    // The JDK's HTTPS server does the TLS handshake and then waits for the request line on one of
    // these threads: every connection that finished its handshake and sent nothing yet (a browser's
    // preconnect, a test proxy's spare, anyone who can reach the port: the handshake needs no
    // certificate) holds one. With 4, four such connections locked every operator out of the
    // console. Threads are made on demand and end after 30 s idle.
    this.requests = new ThreadPoolExecutor(REQUEST_THREADS, REQUEST_THREADS, 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(500), named("lockstep-console-http"));
    this.requests.allowCoreThreadTimeOut(true);
    this.streams = new ThreadPoolExecutor(0, MAX_STREAMS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
        named("lockstep-console-watch"));
    server.setExecutor(requests);
    server.createContext("/", this::handle);
  }

  /**
   * {@code lockstep console}: serves on {@code bind} (loopback) over plain HTTP; the first request
   * with {@link #loginUrl()}'s one-time token gets a session, everyone else is refused. Every API
   * call goes through {@code backend} as {@code operator} (the identity of the certificate the
   * channel presents, shown on the page; the collector decides what it may do).
   */
  public static ConsoleServer local(InetSocketAddress bind, Backend backend, Identity operator,
      String collector, Duration callTimeout, Clock clock, Consumer<String> progress) throws IOException {
    Sessions sessions = new Sessions(clock);
    TokenAccess access = new TokenAccess(sessions, operator, progress);
    HttpServer server = HttpServer.create(bind, 50);
    ConsoleServer console = new ConsoleServer(server, access, sessions, backend, callTimeout, clock, collector,
        false, progress);
    server.start();
    access.port(server.getAddress().getPort());
    return console;
  }

  /**
   * The collector's console: HTTPS on {@code bind} with {@code tls} (the collector's certificate and
   * the fleet's trust); the browser's client certificate (CN = person, OU = role) is who calls, on
   * every request. Requests without a usable certificate, or with one whose role may not use the
   * Operator API (agent, collector), are refused, open no session and are recorded in
   * {@code refusals}.
   */
  public static ConsoleServer https(InetSocketAddress bind, SSLContext tls, Backend backend,
      String collector, Duration callTimeout, AuditSink refusals, Clock clock, Consumer<String> progress)
      throws IOException {
    Sessions sessions = new Sessions(clock);
    HttpsServer server = HttpsServer.create(bind, 50);
    server.setHttpsConfigurator(new HttpsConfigurator(tls) {
      @Override
      public void configure(HttpsParameters params) {
        SSLParameters p = tls.getDefaultSSLParameters();
        // asked for, not demanded: a browser without one gets a page saying what it needs
        p.setWantClientAuth(true);
        p.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        params.setSSLParameters(p);
      }
    });
    ConsoleServer console = new ConsoleServer(server, new CertificateAccess(sessions, refusals, clock), sessions,
        backend, callTimeout, clock, collector, true, progress);
    server.start();
    return console;
  }

  /** The bound port. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** The console's address ({@code http://127.0.0.1:PORT/} or {@code https://HOST:PORT/}). */
  public URI url() {
    InetSocketAddress a = server.getAddress();
    String host = a.getAddress().isAnyLocalAddress() ? "localhost" : a.getAddress().getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return URI.create((collectorMode ? "https" : "http") + "://" + host + ":" + a.getPort() + "/");
  }

  /** {@link #local}: the URL with the one-time token (empty once it was used); {@link #https}: {@link #url()}. */
  public Optional<String> loginUrl() {
    if (access instanceof TokenAccess t) {
      String token = t.token();
      return token == null ? Optional.empty() : Optional.of(url() + "?token=" + token);
    }
    return Optional.of(url().toString());
  }

  /** Total bytes of the pages' assets (HTML, CSS, scripts, icon): a page load before data. */
  public long assetBytes() {
    return assets.totalBytes();
  }

  public Stats stats() {
    return stats;
  }

  private void handle(HttpExchange ex) throws IOException {
    boolean handedOff = false;
    try {
      stats.requests.incrementAndGet();
      Http.hardened(ex);
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      Optional<Session> admitted = access.admit(ex);
      if (admitted.isEmpty()) {
        stats.refused.incrementAndGet();
        return;
      }
      Session session = admitted.get();
      Caller caller = new Caller(session.identity(), CertificateAccess.address(ex.getRemoteAddress())
          + (collectorMode ? " via console" : ""));
      if (path.startsWith("/api/rpc/")) {
        if (!method.equals("POST")) {
          ex.getResponseHeaders().set("Allow", "POST");
          Http.error(ex, 405, "METHOD_NOT_ALLOWED", "API calls are POSTs with the request as JSON");
          return;
        }
        if (!sameOrigin(ex, session)) {
          stats.refused.incrementAndGet();
          return;
        }
        api.call(ex, caller, path.substring("/api/rpc/".length()));
        return;
      }
      if (!method.equals("GET") && !method.equals("HEAD")) {
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        Http.error(ex, 405, "METHOD_NOT_ALLOWED", method + " " + path + " is not served");
        return;
      }
      switch (path) {
        case "/", "/index.html" -> assets.serve(ex, "index.html");
        case "/api/session" -> Http.json(ex, 200, sessionJson(session));
        case "/api/watch" -> handedOff = stream(ex, caller);
        case "/api/evidence" -> evidence.export(ex, caller, Http.query(ex).get("incident"));
        default -> {
          if (!(path.startsWith("/assets/") && assets.serve(ex, path.substring("/assets/".length())))) {
            Http.error(ex, 404, "NOT_FOUND", "nothing at " + path);
          }
        }
      }
    } catch (Http.BodyTooLarge e) {
      Http.error(ex, 413, "RESOURCE_EXHAUSTED", e.getMessage());
    } catch (IOException e) {
      // the browser went away mid-answer: nothing to tell it
    } catch (RuntimeException e) {
      progress.accept("console request " + ex.getRequestURI().getPath() + " failed: " + e);
      try {
        Http.error(ex, 500, "INTERNAL", "the console failed: " + e.getMessage());
      } catch (IOException | RuntimeException ignored) {
        // headers were sent already
      }
    } finally {
      if (!handedOff) {
        ex.close();
      }
    }
  }

  /**
   * A change must come from this console's own page: the session's token in
   * {@code X-Lockstep-Csrf} (which another site cannot read or set), JSON, and, when the browser
   * names an Origin, this one.
   */
  private boolean sameOrigin(HttpExchange ex, Session session) throws IOException {
    String token = ex.getRequestHeaders().getFirst("X-Lockstep-Csrf");
    String type = ex.getRequestHeaders().getFirst("Content-Type");
    String origin = ex.getRequestHeaders().getFirst("Origin");
    String host = ex.getRequestHeaders().getFirst("Host");
    String why = null;
    if (token == null || !java.security.MessageDigest.isEqual(token.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        session.csrf().getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
      why = "missing or wrong X-Lockstep-Csrf token (reload the page)";
    } else if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
      why = "API calls send Content-Type: application/json";
    } else if (origin != null && host != null && !origin.equals((collectorMode ? "https://" : "http://") + host)) {
      why = "request from another origin (" + origin + ")";
    }
    if (why == null) {
      return true;
    }
    Http.error(ex, 403, "PERMISSION_DENIED", why);
    return false;
  }

  private boolean stream(HttpExchange ex, Caller caller) throws IOException {
    try {
      streams.execute(() -> {
        stats.streams.incrementAndGet();
        try {
          events.run(ex, caller, () -> closing);
        } catch (IOException | RuntimeException e) {
          // the browser went away; its EventSource reconnects if it is still there
        } finally {
          stats.streams.decrementAndGet();
          ex.close();
        }
      });
      return true;
    } catch (RejectedExecutionException e) {
      Http.error(ex, 503, "RESOURCE_EXHAUSTED", MAX_STREAMS + " live views are open already");
      return false;
    }
  }

  private String sessionJson(Session s) {
    Identity id = s.identity();
    return "{\"who\":" + Http.quote(id.name()) + ",\"role\":" + Http.quote(id.roleLabel())
        + ",\"may_act\":" + s.mayAct() + ",\"csrf\":" + Http.quote(s.csrf())
        + ",\"mode\":" + Http.quote(collectorMode ? "collector" : "cli")
        + ",\"collector\":" + Http.quote(collector)
        + ",\"rpc\":[" + String.join(",", Api.UNARY.keySet().stream().sorted().map(Http::quote).toList()) + "]}";
  }

  private static java.util.concurrent.ThreadFactory named(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() {
    closing = true;
    streams.shutdownNow();
    server.stop(0);
    requests.shutdown();
    try {
      if (!requests.awaitTermination(5, TimeUnit.SECONDS)) {
        requests.shutdownNow();
      }
      streams.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** How many sessions are live (for tests and progress lines). */
  int sessions() {
    return sessions.size();
  }

  static Map<String, ?> unaryCalls() {
    return Api.UNARY;
  }
}
