package dev.lockstep.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code lockstep certs}: certificates for small fleets and the demo. */
@Command(
    name = "certs",
    description = {
      "Creates a CA and certificates for a small fleet (CN = identity, OU = role), renews and revokes them.",
      "",
      "Examples:",
      "  lockstep certs init --dir /etc/lockstep/certs --agents worker-1,worker-2 --operators alice --viewers bob",
      "  lockstep certs renew --dir /etc/lockstep/certs worker-1",
      "  lockstep certs revoke --dir /etc/lockstep/certs worker-2    # then copy crl.pem to the collector"
    })
final class CertsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return 2;
  }
}
