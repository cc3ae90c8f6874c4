package dev.lockstep.console;

import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small pieces of HTTP the console's handlers share: answers, bodies, query strings, cookies. */
final class Http {
  private Http() { }

  /** Request bodies are Operator API requests: a few KiB at most. */
  static final int MAX_BODY_BYTES = 64 * 1024;

  /** The response headers every answer carries: nothing from elsewhere, no framing, no referrer. */
  static void hardened(HttpExchange ex) {
    var h = ex.getResponseHeaders();
    h.set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
        + " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    h.set("X-Content-Type-Options", "nosniff");
    h.set("Referrer-Policy", "no-referrer");
    h.set("X-Frame-Options", "DENY");
    h.set("Cross-Origin-Opener-Policy", "same-origin");
    h.set("Cross-Origin-Resource-Policy", "same-origin");
  }

  static void send(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", contentType);
    if (!ex.getResponseHeaders().containsKey("Cache-Control")) {
      ex.getResponseHeaders().set("Cache-Control", "no-store");
    }
    boolean head = "HEAD".equals(ex.getRequestMethod());
    ex.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
    if (!head && body.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  static void json(HttpExchange ex, int status, String json) throws IOException {
    send(ex, status, "application/json; charset=utf-8", json.getBytes(StandardCharsets.UTF_8));
  }

  /** {@code {"error": message, "code": code}} with the given status. */
  static void error(HttpExchange ex, int status, String code, String message) throws IOException {
    json(ex, status, "{\"error\":" + quote(message) + ",\"code\":" + quote(code) + "}");
  }

  static void html(HttpExchange ex, int status, String title, String paragraph) throws IOException {
    String page = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>" + escape(title)
        + "</title><h1>" + escape(title) + "</h1><p>" + escape(paragraph) + "</p></html>\n";
    send(ex, status, "text/html; charset=utf-8", page.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] body(HttpExchange ex) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream in = ex.getRequestBody()) {
      byte[] buf = new byte[8192];
      int n;
      while ((n = in.read(buf)) > 0) {
        if (out.size() + n > MAX_BODY_BYTES) {
          throw new BodyTooLarge();
        }
        out.write(buf, 0, n);
      }
    }
    return out.toByteArray();
  }

  static final class BodyTooLarge extends IOException {
    BodyTooLarge() {
      super("request body over " + MAX_BODY_BYTES + " bytes");
    }
  }

  static Map<String, String> query(HttpExchange ex) {
    Map<String, String> out = new LinkedHashMap<>();
    String raw = ex.getRequestURI().getRawQuery();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      try {
        out.putIfAbsent(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        // a malformed escape: the parameter is ignored, as if absent
      }
    }
    return out;
  }

  static String cookie(HttpExchange ex, String name) {
    for (String header : ex.getRequestHeaders().getOrDefault("Cookie", java.util.List.of())) {
      for (String part : header.split(";")) {
        String p = part.trim();
        if (p.startsWith(name + "=")) {
          return p.substring(name.length() + 1);
        }
      }
    }
    return null;
  }

  /** A JSON string literal. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c == '\u2028' || c == '\u2029') {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
