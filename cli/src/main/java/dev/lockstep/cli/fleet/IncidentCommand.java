package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.proto.v1.Difference;
import dev.lockstep.proto.v1.EvidenceInfo;
import dev.lockstep.proto.v1.GetIncidentRequest;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentActionRequest;
import dev.lockstep.proto.v1.IncidentNote;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lockstep incident show|ack|resolve ID}. */
@Command(
    name = "incident",
    mixinStandardHelpOptions = true,
    header = "Show, acknowledge or resolve one incident.",
    synopsisHeading = ManPage.SYNOPSIS,
    descriptionHeading = ManPage.DESCRIPTION,
    optionListHeading = ManPage.OPTIONS,
    commandListHeading = ManPage.COMMANDS,
    footerHeading = ManPage.EXAMPLES,
    description = {
      "Incidents move open -> acknowledged -> resolved by operator action; every action carries"
          + " a note and is written to the collector's audit log."
    },
    footer = {
      "  lockstep incident show 7f3a2c",
      "  lockstep incident ack 7f3a2c --note \"looking at billing seed propagation\"",
      "  lockstep incident resolve 7f3a2c --note \"fixed in engine 2.4.1\""
    },
    subcommands = {IncidentCommand.Show.class, IncidentCommand.Ack.class, IncidentCommand.Resolve.class,
        IncidentCommand.Report.class})
final class IncidentCommand {

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      header = "Show an incident: differences, hosts, evidence.",
      description = {
        "Prints the incident's kind, severity, state, root-cause category and the classifier's"
            + " explanation, the first divergent step, every differing JSON path with both"
            + " values, the runs and hosts involved (and the host blamed by majority vote), the"
            + " stored evidence and the operators' notes.",
        "",
        "With -o json prints the Incident message."
      },
      footer = {"  lockstep incident show 7f3a2c", "  lockstep incident show 7f3a2c -o json | jq .differences"})
  static final class Show extends OnlineCommand {
    @Parameters(paramLabel = "ID", description = "Incident id (from `lockstep incidents`).")
    String id;

    @Override
    int run(Session session) {
      Incident incident = session.operator().getIncident(GetIncidentRequest.newBuilder().setId(id).build());
      if (session.json()) {
        session.printJson(incident);
      } else {
        render(incident, session.out());
      }
      return ExitCode.OK;
    }
  }

  @Command(
      name = "ack",
      mixinStandardHelpOptions = true,
      header = "Acknowledge an incident with a note.",
      description = {
        "Marks the incident ACKNOWLEDGED: someone is on it. The note is required and lands in the"
            + " incident's notes and the audit log.",
        "",
        "With -o json prints the updated Incident message."
      },
      footer = {"  lockstep incident ack 7f3a2c --note \"on it, checking seed propagation\""})
  static final class Ack extends OnlineCommand {
    @Parameters(paramLabel = "ID", description = "Incident id.")
    String id;

    @Option(names = "--note", required = true, paramLabel = "TEXT", description = "What you found or are doing.")
    String note;

    @Override
    int run(Session session) {
      requireNote(note);
      Incident incident =
          session.operator().ackIncident(IncidentActionRequest.newBuilder().setId(id).setNote(note).build());
      return printAction(session, incident, "acknowledged");
    }
  }

  @Command(
      name = "resolve",
      mixinStandardHelpOptions = true,
      header = "Resolve an incident with a note.",
      description = {
        "Marks the incident RESOLVED. Resolving does not resume a stopped fleet: run"
            + " `lockstep stop disable --all --order ORD-... --reason ...` for that once the fix is verified.",
        "",
        "With -o json prints the updated Incident message."
      },
      footer = {"  lockstep incident resolve 7f3a2c --note \"seed now propagated; 10 clean re-runs\""})
  static final class Resolve extends OnlineCommand {
    @Parameters(paramLabel = "ID", description = "Incident id.")
    String id;

    @Option(names = "--note", required = true, paramLabel = "TEXT", description = "Root cause and fix.")
    String note;

    @Override
    int run(Session session) {
      requireNote(note);
      Incident incident =
          session.operator().resolveIncident(IncidentActionRequest.newBuilder().setId(id).setNote(note).build());
      return printAction(session, incident, "resolved");
    }
  }

  @Command(
      name = "report",
      mixinStandardHelpOptions = true,
      header = "The post-incident report: timeline, times, root cause, evidence, checklist.",
      description = {
        "Builds the report the playbook's post-incident checklist asks for from what the collector"
            + " recorded: the timeline (detected, stop issued, each agent's confirmation, evidence"
            + " captured, acknowledged, resumed, resolved, with who and why, from the audit log),"
            + " time to detect (from the newest golden file of the first run to detection), to"
            + " stop, to confirm all and to resolve, the root-cause category and explanation, the"
            + " first divergent step and the top real differences (volatile ones counted, not"
            + " listed), hosts and blame, the evidence manifest (names, sizes, SHA-256),"
            + " remediation actions, operators' notes, and the checklist with the items Lockstep"
            + " can tick itself.",
        "",
        "-o markdown (the default here; table means the same) or -o json ({\"format\":"
            + " \"lockstep.incident-report/v1\", \"incident\", \"timeline\", \"times\","
            + " \"root_cause\", \"hosts\", \"runs\", \"stop\", \"evidence\", \"remediation\","
            + " \"notes\", \"checklist\", \"warnings\"}; times in RFC 3339 UTC, durations in ms,"
            + " null when not reached). `lockstep evidence export` writes the same report as"
            + " report.md."
      },
      footer = {
        "  lockstep incident report INC-000042",
        "  lockstep incident report INC-000042 --out /root/reports/INC-000042.md",
        "  lockstep incident report INC-000042 -o json | jq .times"
      })
  static final class Report extends OnlineCommand {
    @Parameters(paramLabel = "ID", description = "Incident id.")
    String id;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the report to FILE instead of standard output.")
    java.nio.file.Path out;

    java.time.Clock clock = java.time.Clock.systemUTC();

    @Override
    boolean printsMarkdown() {
      return true;
    }

    @Override
    int run(Session session) throws java.io.IOException {
      com.fasterxml.jackson.databind.node.ObjectNode report = IncidentReport.build(session, id, clock, null);
      String text = session.json()
          ? new com.fasterxml.jackson.databind.ObjectMapper()
              .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(report) + "\n"
          : IncidentReport.markdown(report);
      if (out == null) {
        session.out().print(text);
      } else {
        java.nio.file.Path parent = out.toAbsolutePath().getParent();
        java.nio.file.Files.createDirectories(parent);
        java.nio.file.Path tmp = java.nio.file.Files.createTempFile(parent, ".report-", ".tmp");
        java.nio.file.Files.writeString(tmp, text);
        java.nio.file.Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        session.out().println("report of incident " + id + " written to " + out);
      }
      return ExitCode.OK;
    }
  }

  static void requireNote(String note) {
    if (note == null || note.isBlank()) {
      throw new CommandFailure(ExitCode.USAGE, "--note must not be empty");
    }
  }

  static int printAction(Session session, Incident incident, String verb) {
    if (session.json()) {
      session.printJson(incident);
    } else {
      session.out().println("incident " + incident.getId() + " " + verb + " (state " + incident.getState() + ")");
    }
    return ExitCode.OK;
  }

  static void render(Incident i, PrintWriter out) {
    Table t = new Table("", "");
    t.row("incident", i.getId());
    t.row("title", i.getTitle());
    t.row("kind", i.getKind().name());
    t.row("severity", i.getSeverity().name());
    t.row("state", i.getState().name());
    if (!i.getCategory().isEmpty()) {
      t.row("category", i.getCategory());
    }
    if (!i.getExplanation().isEmpty()) {
      t.row("why", i.getExplanation());
    }
    t.row("workflow", Texts.orDash(i.getWorkflow()));
    t.row("first step", i.getFirstStepIndex() < 0 ? "-" : i.getFirstStepIndex() + " " + i.getFirstStepName());
    t.row("runs", i.getRunIdsCount() == 0 ? "-" : String.join(", ", i.getRunIdsList()));
    t.row("agents", i.getAgentIdsCount() == 0 ? "-" : String.join(", ", new java.util.TreeSet<>(i.getAgentIdsList())));
    if (i.getBlamedAgentIdsCount() > 0) {
      t.row("blamed agents", String.join(", ", i.getBlamedAgentIdsList()));
    }
    t.row("seen", i.getCount() + " times, first " + Texts.time(i.getFirstSeen()) + ", last " + Texts.time(i.getLastSeen()));
    if (!i.getStopOrderId().isEmpty()) {
      t.row("stop order", i.getStopOrderId());
    }
    t.row("signature", Texts.orDash(i.getSignature()));
    StatusCommand.printWithoutHeader(t, out);
    if (i.getDifferencesCount() > 0) {
      out.println();
      out.println("differences:");
      Table d = new Table("  PATH", "KIND", "A", "B", "VOLATILE");
      for (Difference diff : i.getDifferencesList()) {
        d.row("  " + diff.getPath(), diff.getKind(), Texts.orDash(diff.getA()), Texts.orDash(diff.getB()), diff.getVolatile() ? "yes" : "");
      }
      d.print(out);
    }
    out.println();
    if (i.getEvidenceCount() == 0) {
      out.println("evidence: none stored");
    } else {
      out.println("evidence:");
      Table e = new Table("  NAME", "KIND", "AGENT", "BYTES", "SHA256");
      java.util.List<EvidenceInfo> evidence = new java.util.ArrayList<>(i.getEvidenceList());
      evidence.sort(java.util.Comparator.comparing(EvidenceInfo::getAgentId).thenComparing(EvidenceInfo::getName));
      for (EvidenceInfo ev : evidence) {
        e.row("  " + ev.getName(), ev.getKind(), ev.getAgentId(), ev.getSizeBytes() + (ev.getTruncated() ? " (truncated)" : ""), ev.getSha256());
      }
      e.print(out);
    }
    if (i.getNotesCount() > 0) {
      out.println();
      out.println("notes:");
      Table n = new Table("  AT", "BY", "ACTION", "NOTE");
      for (IncidentNote note : i.getNotesList()) {
        n.row("  " + Texts.time(note.getAt()), Texts.orDash(note.getBy()), note.getAction(), note.getNote());
      }
      n.print(out);
    }
  }
}
