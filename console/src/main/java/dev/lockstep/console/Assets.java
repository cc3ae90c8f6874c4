package dev.lockstep.console;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The console's pages and assets, read from the jar once at start: nothing comes from anywhere
 * else (no CDN, no fonts, no scripts from outside). Answered with an ETag so a reload costs a 304.
 */
final class Assets {
  /** Every file the console serves, under {@code /assets/} (index.html also as {@code /}). */
  static final List<String> FILES = List.of("index.html", "console.css", "console.js", "api.js", "fleet.js",
      "incidents.js", "incident.js", "runs.js", "stop.js", "audit.js", "icon.svg");

  record Asset(String name, byte[] bytes, String type, String etag) { }

  private final Map<String, Asset> byName = new LinkedHashMap<>();

  Assets() {
    for (String name : FILES) {
      try (InputStream in = Assets.class.getResourceAsStream("web/" + name)) {
        if (in == null) {
          throw new IllegalStateException("console asset web/" + name + " is missing from the jar");
        }
        byte[] bytes = in.readAllBytes();
        String etag = "\"" + HexFormat.of().formatHex(EvidenceArchive.sha256().digest(bytes), 0, 12) + "\"";
        byName.put(name, new Asset(name, bytes, type(name), etag));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read console asset " + name, e);
      }
    }
  }

  /** Total bytes of every asset: what a first page load costs before data. */
  long totalBytes() {
    return byName.values().stream().mapToLong(a -> a.bytes().length).sum();
  }

  boolean serve(HttpExchange ex, String name) throws IOException {
    Asset a = byName.get(name);
    if (a == null) {
      return false;
    }
    ex.getResponseHeaders().set("ETag", a.etag());
    ex.getResponseHeaders().set("Cache-Control", "no-cache");
    if (a.etag().equals(ex.getRequestHeaders().getFirst("If-None-Match"))) {
      ex.sendResponseHeaders(304, -1);
      return true;
    }
    Http.send(ex, 200, a.type(), a.bytes());
    return true;
  }

  private static String type(String name) {
    if (name.endsWith(".html")) {
      return "text/html; charset=utf-8";
    }
    if (name.endsWith(".css")) {
      return "text/css; charset=utf-8";
    }
    if (name.endsWith(".js")) {
      return "text/javascript; charset=utf-8";
    }
    if (name.endsWith(".svg")) {
      return "image/svg+xml";
    }
    return "application/octet-stream";
  }
}
