package dev.lockstep.security;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lockstep certs init --dir DIR --agents h1,h2 --operators alice --viewers bob}: the
 * picocli face of {@link CertsInit}. Add it as the {@code init} subcommand of a {@code certs}
 * command. Exit code 0 on success, 1 with a one-line message on stderr otherwise.
 */
@Command(name = "init", mixinStandardHelpOptions = true,
    description = "Create a CA and mTLS certificates (agents, operators, viewers, collector) as"
        + " PEM files. Reuses DIR/ca.pem and DIR/ca-key.pem if they exist.")
public final class CertsInitCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--dir", required = true, paramLabel = "DIR",
      description = "Directory for ca.pem, ca-key.pem, NAME.pem, NAME-key.pem")
  Path dir;

  @Option(names = "--agents", split = ",", paramLabel = "ID",
      description = "Agent ids (the agents' agent_id), comma separated")
  List<String> agents = new ArrayList<>();

  @Option(names = "--operators", split = ",", paramLabel = "NAME",
      description = "Operators (may stop, resume, acknowledge, resolve)")
  List<String> operators = new ArrayList<>();

  @Option(names = "--viewers", split = ",", paramLabel = "NAME",
      description = "Viewers (read only)")
  List<String> viewers = new ArrayList<>();

  @Option(names = "--collector-hosts", split = ",", paramLabel = "HOST",
      description = "Extra DNS names / IPs agents dial the collector by"
          + " (localhost, 127.0.0.1 and ::1 are always included)")
  List<String> collectorHosts = new ArrayList<>();

  @Option(names = "--validity-days", defaultValue = "365", paramLabel = "DAYS",
      description = "Validity of the issued certificates (default: ${DEFAULT-VALUE})")
  long validityDays;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (validityDays < 1) {
      err.println("lockstep certs init: --validity-days must be at least 1, got " + validityDays);
      err.flush();
      return 1;
    }
    try {
      CertsInit.Result result = CertsInit.run(dir, agents, operators, viewers, collectorHosts,
          Duration.ofDays(validityDays));
      result.describe().forEach(out::println);
      out.flush();
      return 0;
    } catch (SecuritySetupException e) {
      err.println("lockstep certs init: " + e.getMessage());
      err.flush();
      return 1;
    }
  }
}
