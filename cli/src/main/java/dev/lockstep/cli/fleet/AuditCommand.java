package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.proto.v1.AuditEntry;
import dev.lockstep.proto.v1.AuditList;
import dev.lockstep.proto.v1.ListAuditRequest;
import java.time.Clock;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lockstep audit}: who did what to the fleet. */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    header = "Show the audit log: operator actions and refused attempts.",
    description = {
      "Every call that changes the fleet (stop, resume, ack, resolve) and every refused attempt"
          + " (wrong role, an agent claiming another id, a certificate from an unknown CA) is"
          + " audited by the collector with who (certificate CN), role, target, remote address and"
          + " result (OK, DENIED, ERROR). Shows the most recent entries, optionally only those"
          + " within --since.",
      "",
      "With -o json prints the AuditList message."
    },
    footer = {"  lockstep audit --since 24h", "  lockstep audit -o json | jq -r '.entries[].who'"})
final class AuditCommand extends OnlineCommand {
  @Option(names = "--since", paramLabel = "DURATION", converter = DurationConverter.class, description = "Only entries within this long ago, e.g. 1h.")
  Duration since;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most this many entries (default ${DEFAULT-VALUE}).")
  int limit;

  Clock clock = Clock.systemUTC();

  @Override
  int run(Session session) {
    ListAuditRequest.Builder request = ListAuditRequest.newBuilder().setLimit(limit);
    if (since != null) {
      request.setSince(Texts.timestamp(clock.instant().minus(since)));
    }
    AuditList list = session.operator().listAudit(request.build());
    if (session.json()) {
      session.printJson(list);
      return ExitCode.OK;
    }
    if (list.getEntriesCount() == 0) {
      session.out().println("no audit entries");
      return ExitCode.OK;
    }
    Table t = new Table("AT", "WHO", "ROLE", "ACTION", "TARGET", "FROM", "RESULT", "DETAIL");
    for (AuditEntry e : list.getEntriesList()) {
      t.row(
          Texts.time(e.getAt()),
          Texts.orDash(e.getWho()),
          Texts.orDash(e.getRole()),
          e.getAction(),
          Texts.orDash(e.getTarget()),
          Texts.orDash(e.getRemoteAddress()),
          e.getResult(),
          Texts.orDash(e.getDetail()));
    }
    t.print(session.out());
    return ExitCode.OK;
  }
}
