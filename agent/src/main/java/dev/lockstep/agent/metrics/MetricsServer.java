package dev.lockstep.agent.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The agent's /metrics endpoint: a plain HTTP/1.1 server on one thread that answers each request
 * with Connection: close (what a Prometheus scrape needs, nothing more). A request head larger
 * than 8 KiB or slower than 5 s is dropped. Owns its socket and thread; {@link #close} ends both.
 */
final class MetricsServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(MetricsServer.class.getName());
  private static final int MAX_HEAD = 8192;
  private static final int READ_TIMEOUT_MS = 5000;
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final ServerSocket socket;
  private final Supplier<String> body;
  private final Thread thread;

  MetricsServer(String bind, int port, Supplier<String> body) throws IOException {
    this.socket = new ServerSocket();
    this.socket.setReuseAddress(true);
    this.socket.bind(new InetSocketAddress(InetAddress.getByName(bind), port), 16);
    this.body = body;
    this.thread = new Thread(this::serve, "lockstep-metrics");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  int port() {
    return socket.getLocalPort();
  }

  private void serve() {
    while (!socket.isClosed()) {
      try (Socket s = socket.accept()) {
        s.setSoTimeout(READ_TIMEOUT_MS);
        answer(s);
      } catch (SocketException e) {
        if (socket.isClosed()) {
          return;
        }
      } catch (IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "metrics: request failed: " + e);
      }
    }
  }

  private void answer(Socket s) throws IOException {
    String requestLine = readHead(s);
    if (requestLine == null) {
      return;
    }
    String[] parts = requestLine.split(" ");
    OutputStream out = s.getOutputStream();
    if (parts.length < 2) {
      respond(out, "400 Bad Request", "text/plain", "bad request\n", true);
    } else if (!parts[0].equals("GET") && !parts[0].equals("HEAD")) {
      respond(out, "405 Method Not Allowed", "text/plain", "only GET\n", true);
    } else if (parts[1].equals("/metrics") || parts[1].startsWith("/metrics?")) {
      respond(out, "200 OK", CONTENT_TYPE, body.get(), parts[0].equals("GET"));
    } else {
      respond(out, "404 Not Found", "text/plain", "lockstep-agent serves /metrics\n", true);
    }
  }

  /**
   * Reads up to the blank line; returns the request line, or null when the head is too long, cut,
   * or not complete within {@link #READ_TIMEOUT_MS} in all (one connection at a time is served: a
   * client sending a byte every few seconds must not keep every scraper out for hours).
   */
  private static String readHead(Socket s) throws IOException {
    InputStream in = new java.io.BufferedInputStream(s.getInputStream(), 1024);
    long deadline = System.nanoTime() + READ_TIMEOUT_MS * 1_000_000L;
    byte[] head = new byte[MAX_HEAD];
    int n = 0;
    while (n < MAX_HEAD) {
      long left = (deadline - System.nanoTime()) / 1_000_000L;
      if (left <= 0) {
        return null;
      }
      s.setSoTimeout((int) left);
      int b = in.read();
      if (b < 0) {
        return null;
      }
      head[n++] = (byte) b;
      if (n >= 4 && head[n - 4] == '\r' && head[n - 3] == '\n' && head[n - 2] == '\r' && head[n - 1] == '\n') {
        String text = new String(head, 0, n, StandardCharsets.ISO_8859_1);
        return text.substring(0, text.indexOf('\r'));
      }
    }
    return null;
  }

  private static void respond(OutputStream out, String status, String type, String text, boolean withBody)
      throws IOException {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " + b.length
        + "\r\nConnection: close\r\n\r\n";
    out.write(head.getBytes(StandardCharsets.ISO_8859_1));
    if (withBody) {
      out.write(b);
    }
    out.flush();
  }

  @Override
  public void close() throws IOException {
    socket.close();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
