package dev.lockstep.cli.client;

/** Where the collector's gRPC port is: {@code HOST:PORT}, {@code [IPv6]:PORT}. */
public record CollectorAddress(String host, int port) {

  public CollectorAddress {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("collector host is empty");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("collector port must be between 1 and 65535, got " + port);
    }
  }

  /**
   * Parses {@code HOST:PORT}; a bare host means port 7443.
   *
   * @throws IllegalArgumentException with a one-line reason naming the text
   */
  public static CollectorAddress parse(String text) {
    String t = text == null ? "" : text.trim();
    if (t.isEmpty()) {
      throw new IllegalArgumentException("expected HOST:PORT, got an empty value");
    }
    String host;
    String portText;
    if (t.startsWith("[")) {
      int close = t.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException("expected [IPv6]:PORT, got '" + t + "'");
      }
      host = t.substring(1, close);
      String rest = t.substring(close + 1);
      portText = rest.isEmpty() ? "7443" : rest.startsWith(":") ? rest.substring(1) : null;
      if (portText == null) {
        throw new IllegalArgumentException("expected [IPv6]:PORT, got '" + t + "'");
      }
    } else {
      int colon = t.lastIndexOf(':');
      if (colon < 0) {
        host = t;
        portText = "7443";
      } else if (t.indexOf(':') != colon) {
        throw new IllegalArgumentException("expected HOST:PORT (IPv6 as [ADDR]:PORT), got '" + t + "'");
      } else {
        host = t.substring(0, colon);
        portText = t.substring(colon + 1);
      }
    }
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected HOST:PORT with a numeric port, got '" + t + "'");
    }
    try {
      return new CollectorAddress(host, port);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage() + " in '" + t + "'");
    }
  }

  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
