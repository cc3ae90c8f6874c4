package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentList;
import dev.lockstep.proto.v1.ListIncidentsRequest;
import dev.lockstep.proto.v1.Severity;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code lockstep incidents}: incidents, newest first as the collector orders them. */
@Command(
    name = "incidents",
    mixinStandardHelpOptions = true,
    header = "List incidents by severity, state and age.",
    description = {
      "Lists incidents with severity, state (OPEN, ACKNOWLEDGED, RESOLVED), kind, root-cause"
          + " category, workflow, how often the signature was seen and when last. Follows the"
          + " collector's pages up to --limit incidents.",
      "",
      "With -o json prints an IncidentList message holding every incident listed."
    },
    footer = {
      "  lockstep incidents --open",
      "  lockstep incidents --severity P0 --since 1h",
      "  lockstep incidents --open -o json | jq -r '.incidents[].id'"
    })
final class IncidentsCommand extends OnlineCommand {
  static final int PAGE_SIZE = 100;

  @Option(
      names = "--severity",
      paramLabel = "SEVERITY",
      converter = SeverityConverter.class,
      description = "Only this severity: P0, P1, P2, P3 or WARNING.")
  Severity severity;

  @Option(names = "--open", description = "Only incidents not resolved (open or acknowledged).")
  boolean open;

  @Option(
      names = "--since",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "Only incidents last seen within this long ago, e.g. 30m, 1h, 2d.")
  Duration since;

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "500",
      description = "At most this many incidents (default ${DEFAULT-VALUE}).")
  int limit;

  Clock clock = Clock.systemUTC();

  @Override
  int run(Session session) {
    ListIncidentsRequest.Builder request =
        ListIncidentsRequest.newBuilder().setOpenOnly(open).setPageSize(Math.min(PAGE_SIZE, Math.max(1, limit)));
    if (severity != null) {
      request.setSeverity(severity);
    }
    if (since != null) {
      request.setSince(Texts.timestamp(clock.instant().minus(since)));
    }
    List<Incident> all = Pages.collect(limit, token -> {
      IncidentList page = session.operator().listIncidents(request.setPageToken(token).build());
      return new Pages.Page<>(page.getIncidentsList(), page.getNextPageToken());
    });
    if (session.json()) {
      session.printJson(IncidentList.newBuilder().addAllIncidents(all));
      return ExitCode.OK;
    }
    if (all.isEmpty()) {
      session.out().println("no incidents" + (open ? " open" : ""));
      return ExitCode.OK;
    }
    Table t = new Table("ID", "SEV", "STATE", "KIND", "CATEGORY", "WORKFLOW", "COUNT", "LAST SEEN", "TITLE");
    for (Incident i : all) {
      t.row(
          i.getId(),
          i.getSeverity().name(),
          i.getState().name(),
          i.getKind().name(),
          Texts.orDash(i.getCategory()),
          Texts.orDash(i.getWorkflow()),
          i.getCount(),
          Texts.time(i.getLastSeen()),
          i.getTitle());
    }
    t.print(session.out());
    return ExitCode.OK;
  }

  static final class SeverityConverter implements ITypeConverter<Severity> {
    @Override
    public Severity convert(String value) {
      String v = value.trim().toUpperCase(Locale.ROOT);
      for (Severity s : Severity.values()) {
        if (s != Severity.SEVERITY_UNSPECIFIED && s != Severity.UNRECOGNIZED && s.name().equals(v)) {
          return s;
        }
      }
      throw new TypeConversionException("expected P0, P1, P2, P3 or WARNING, got '" + value + "'");
    }
  }
}
