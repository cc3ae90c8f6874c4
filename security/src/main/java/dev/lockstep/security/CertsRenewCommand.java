package dev.lockstep.security;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lockstep certs renew --dir DIR NAME...}: a new certificate and key for each name (an
 * agent's host, an operator, {@code collector}) from the directory's CA, with the same CN, role
 * and host names. Running components pick the files up at their next reload. Exit 0, or 1 with
 * one line naming what was wrong.
 */
@Command(name = "renew", mixinStandardHelpOptions = true,
    description = {"Re-issue certificates (same name, role and host names; a new key) from the CA in"
        + " DIR. Components re-read their files every minute: no restart.",
        "",
        "Example:",
        "  lockstep certs renew --dir /etc/lockstep worker-01"})
public final class CertsRenewCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--dir", required = true, paramLabel = "DIR",
      description = "Directory with ca.pem, ca-key.pem and NAME.pem (from lockstep certs init)")
  Path dir;

  @Option(names = "--validity-days", defaultValue = "365", paramLabel = "DAYS",
      description = "Validity of the new certificates (default: ${DEFAULT-VALUE})")
  long validityDays;

  @Parameters(arity = "1..*", paramLabel = "NAME", description = "Names to renew (file DIR/NAME.pem)")
  List<String> names;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (validityDays < 1) {
      err.println("lockstep certs renew: --validity-days must be at least 1, got " + validityDays);
      err.flush();
      return 1;
    }
    try {
      for (String name : names) {
        CertsInit.Issued issued = CertsDirectory.renew(dir, name, Duration.ofDays(validityDays),
            Clock.systemUTC());
        out.printf("renewed      %s (key %s, CN=%s, OU=%s, valid until %s)%n", issued.cert(),
            issued.key(), issued.name(), issued.role().label(), issued.notAfter());
      }
      out.flush();
      return 0;
    } catch (SecuritySetupException e) {
      out.flush();
      err.println("lockstep certs renew: " + e.getMessage());
      err.flush();
      return 1;
    }
  }
}
