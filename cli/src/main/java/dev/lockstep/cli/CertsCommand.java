package dev.lockstep.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code lockstep certs}: certificates for small fleets and the demo. */
@Command(
    name = "certs",
    description = {
      "Creates a CA and certificates for a small fleet (CN = identity, OU = role).",
      "",
      "Example:",
      "  lockstep certs init --dir /etc/lockstep/certs --agents worker-1,worker-2 --operators alice --viewers bob"
    })
final class CertsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return 2;
  }
}
