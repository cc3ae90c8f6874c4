package dev.lockstep.collector.console;

import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.console.Backend;
import dev.lockstep.console.ConsoleServer;
import dev.lockstep.security.AuditSink;
import dev.lockstep.security.ForwardedIdentity;
import dev.lockstep.security.RevocationList;
import dev.lockstep.security.SecuritySetupException;
import dev.lockstep.security.Tls;
import dev.lockstep.security.TlsFiles;
import io.grpc.BindableService;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;

/**
 * The web console served by the collector ({@code console:} in collector.yaml): HTTPS with the
 * collector's trust, and behind it the very Operator service the gRPC port serves, reached over an
 * in-process channel that carries the identity verified from the browser's client certificate
 * ({@link ForwardedIdentity}). So the console has no roles or audit of its own beyond the door (a
 * certificate whose role may not use the Operator API, an agent's or the collector's, is refused
 * there, audited, and opens no session): a viewer's forged action is refused and audited by the
 * Operator service like any other call. Owns the in-process
 * server and channel and the HTTPS server; {@link #close()} stops them.
 */
public final class ConsoleHost implements AutoCloseable {
  private final Server inProcess;
  private final ManagedChannel channel;
  private final ConsoleServer console;

  private ConsoleHost(Server inProcess, ManagedChannel channel, ConsoleServer console) {
    this.inProcess = inProcess;
    this.channel = channel;
    this.console = console;
  }

  /**
   * Starts the console for {@code operator} (the collector's Operator service instance).
   *
   * @throws IOException naming the console's address or certificate when it cannot start
   */
  public static ConsoleHost start(CollectorConfig config, BindableService operator, AuditSink audit,
      RevocationList crl, ScheduledExecutorService reloader, Clock clock, Consumer<String> progress)
      throws IOException {
    CollectorConfig.Console c = config.console();
    SSLContext tls;
    try {
      tls = Tls.httpsServerContext(new TlsFiles(config.tls().ca(),
              c.cert() != null ? c.cert() : config.tls().cert(), c.key() != null ? c.key() : config.tls().key()),
          crl, reloader, Duration.ofMinutes(1), audit, clock);
    } catch (SecuritySetupException e) {
      throw new IOException("console: " + e.getMessage(), e);
    }
    String name = "lockstep-console-" + InProcessServerBuilder.generateName();
    Server server = InProcessServerBuilder.forName(name)
        .addService(ServerInterceptors.intercept(operator, ForwardedIdentity.interceptor(audit, clock)))
        .build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    Backend backend = caller -> ClientInterceptors.intercept(channel,
        ForwardedIdentity.as(caller.identity(), caller.remoteAddress()));
    try {
      ConsoleServer console = ConsoleServer.https(new InetSocketAddress(c.host(), c.port()), tls, backend,
          config.listenHost() + ":" + config.listenPort(), Duration.ofSeconds(30), audit, clock,
          line -> progress.accept("console: " + line));
      return new ConsoleHost(server, channel, console);
    } catch (IOException | RuntimeException e) {
      channel.shutdownNow();
      server.shutdownNow();
      throw new IOException("console: cannot listen on " + c.host() + ":" + c.port() + ": " + e.getMessage(), e);
    }
  }

  public int port() {
    return console.port();
  }

  public String url() {
    return console.url().toString();
  }

  public ConsoleServer.Stats stats() {
    return console.stats();
  }

  @Override
  public void close() throws InterruptedException {
    console.close();
    channel.shutdownNow();
    inProcess.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    inProcess.awaitTermination(5, TimeUnit.SECONDS);
  }
}
