package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.CollectorConnection;
import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.console.Backend;
import dev.lockstep.console.ConsoleServer;
import dev.lockstep.proto.v1.StatusRequest;
import dev.lockstep.security.Identity;
import dev.lockstep.security.Tls;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lockstep console}: the web console on 127.0.0.1, talking to the collector with the
 * operator's own certificate (as {@code kubectl proxy} does), until Ctrl-C.
 */
@Command(
    name = "console",
    mixinStandardHelpOptions = true,
    header = "Serve the web console on 127.0.0.1 (a one-time link; your certificate talks to the collector).",
    description = {
      "Serves the Lockstep web console — Fleet, Incidents, an incident's golden diff side by side,"
          + " Runs, Stop, Audit, live from the collector's watch stream — on 127.0.0.1 at a random"
          + " port (--port to choose) and prints a URL with a one-time token: the first browser to"
          + " open it gets a session, the token is then spent, and the bare address is refused."
          + " Every call the page makes goes to the collector with this command's certificate"
          + " (--cert/--key, LOCKSTEP_CERT/LOCKSTEP_KEY), so the collector's roles and audit apply:"
          + " an operator certificate may stop, resume, acknowledge and resolve; a viewer"
          + " certificate gets a read-only console.",
      "",
      "--open starts a browser on the URL ($BROWSER, else xdg-open or open). Progress lines (log"
          + " ins, refusals) go to stdout. Ctrl-C (SIGINT/SIGTERM) ends live views and stops."
    },
    exitCodeList = {
      "130:Stopped by Ctrl-C (SIGINT), after closing cleanly; 143 for SIGTERM.",
      ManPage.EXIT_USAGE + " Also: --port is taken or out of range.",
      "3:The collector could not be reached at start."
    },
    footer = {
      "  lockstep console                       # prints http://127.0.0.1:PORT/?token=...",
      "  lockstep console --open --collector collector.example:7443",
      "  lockstep console --port 8088 --insecure   # a collector started with --insecure"
    })
final class ConsoleCommand extends OnlineCommand {
  @Option(names = "--open", description = "Start a browser on the one-time URL ($BROWSER, xdg-open or open).")
  boolean open;

  @Option(names = "--port", paramLabel = "N", defaultValue = "0",
      description = "Port on 127.0.0.1 (default 0: a free one).")
  int port;

  @Override
  int run(Session session) throws Exception {
    if (port < 0 || port > 65535) {
      throw new CommandFailure(ExitCode.USAGE, "--port must be between 0 and 65535, got " + port);
    }
    CollectorConnection connection = session.connection();
    // fail now, in one line, rather than in the browser: the collector must answer this identity
    session.operator().getStatus(StatusRequest.getDefaultInstance());
    Identity me = identity();
    Backend backend = new Backend() {
      @Override
      public io.grpc.Channel channel(dev.lockstep.security.Caller caller) {
        return connection.channel();
      }

      @Override
      public String explain(Status status) {
        return Tls.explain(status, connection.address().toString(), !connection.tls());
      }
    };
    PrintWriter out = session.out();
    ConsoleServer console;
    try {
      console = ConsoleServer.local(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), backend, me,
          connection.address().toString(), connection.callTimeout(), Clock.systemUTC(), line -> {
            synchronized (out) {
              out.println("[console] " + line);
              out.flush();
            }
          });
    } catch (IOException e) {
      throw new CommandFailure(ExitCode.USAGE, "cannot listen on 127.0.0.1:" + port + ": " + e.getMessage());
    }
    String url = console.loginUrl().orElseThrow();
    synchronized (out) {
      out.println("lockstep console: collector " + connection.address() + " as " + me.describe()
          + (me.isAnonymousInsecure() || me.role() == dev.lockstep.security.Role.OPERATOR ? "" : " (read only)"));
      out.println("  open " + url);
      out.println("  (one-time link: the first browser to open it gets the session; Ctrl-C stops the console)");
      out.flush();
    }
    if (open) {
      String why = openBrowser(url);
      if (why != null) {
        session.err().println("lockstep: warning: could not start a browser (" + why + "); open the URL above");
        session.err().flush();
      }
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      console.close();
      synchronized (out) {
        out.println("[console] stopped");
        out.flush();
      }
      stopped.countDown();
    }, "lockstep-console-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    stopped.await();
    return ExitCode.OK;
  }

  /** Who the collector will see: the CN/OU of --cert, or anonymous with --insecure. */
  private Identity identity() throws IOException {
    if (options.cert == null) {
      return Identity.anonymousInsecure();
    }
    try (InputStream in = Files.newInputStream(options.cert)) {
      X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      List<String> problems = new ArrayList<>();
      return Identity.fromCertificate(cert, problems).orElseThrow(() ->
          new CommandFailure(ExitCode.USAGE, "--cert " + options.cert + ": " + problems.get(0)));
    } catch (CertificateException e) {
      throw new CommandFailure(ExitCode.USAGE, "--cert " + options.cert + ": not a PEM certificate: " + e.getMessage());
    }
  }

  /** Starts a browser on {@code url}; returns why not, or null. */
  static String openBrowser(String url) {
    List<String> command = new ArrayList<>();
    String browser = System.getenv("BROWSER");
    if (browser != null && !browser.isBlank()) {
      command.add(browser.split(":")[0].trim());
    } else if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("mac")) {
      command.add("open");
    } else {
      command.add("xdg-open");
    }
    command.add(url);
    try {
      new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return null;
    } catch (IOException e) {
      return command.get(0) + ": " + e.getMessage();
    }
  }

}
