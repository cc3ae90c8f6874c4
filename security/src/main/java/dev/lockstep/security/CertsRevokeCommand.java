package dev.lockstep.security;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lockstep certs revoke --dir DIR NAME...}: puts the names' current certificates on the
 * directory's CRL ({@code DIR/crl.pem}). A collector whose {@code tls.crl} is that file refuses
 * them at the next reload (within a minute) and audits every refused attempt.
 */
@Command(name = "revoke", mixinStandardHelpOptions = true,
    description = {"Revoke certificates: add DIR/NAME.pem to DIR/crl.pem, signed by the CA in DIR."
        + " Copy crl.pem to the collector's tls.crl; it is re-read every minute.",
        "",
        "Example:",
        "  lockstep certs revoke --dir /etc/lockstep worker-07"})
public final class CertsRevokeCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--dir", required = true, paramLabel = "DIR",
      description = "Directory with ca.pem, ca-key.pem and NAME.pem (from lockstep certs init)")
  Path dir;

  @Parameters(arity = "1..*", paramLabel = "NAME", description = "Names to revoke (file DIR/NAME.pem)")
  List<String> names;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      for (CertsDirectory.Revoked r : CertsDirectory.revoke(dir, names, Clock.systemUTC())) {
        out.printf("revoked      %s (serial %s, since %s) in %s%n", r.name(), r.serial().toString(16),
            r.at(), dir.resolve(CertsDirectory.CRL_FILE));
      }
      out.flush();
      return 0;
    } catch (SecuritySetupException e) {
      err.println("lockstep certs revoke: " + e.getMessage());
      err.flush();
      return 1;
    }
  }
}
