package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.golden.DiffReport;
import dev.lockstep.proto.v1.DiffRequest;
import dev.lockstep.proto.v1.DiffResponse;

/**
 * The online half of {@code lockstep diff}: asks the collector for the golden diff report of an
 * incident or run and prints it exactly as the offline diff prints a report (table or JSON).
 */
final class DiffSource {
  private DiffSource() {}

  static DiffResponse fetch(Session session, DiffRequest request) {
    return session.operator().diff(request);
  }

  /** Prints the report; exit 0 on match, 1 on mismatch. */
  static int print(Session session, DiffResponse response, boolean verbose) {
    DiffReport report = DiffReport.fromJson(response.getReportJson());
    if (session.json()) {
      session.out().println(report.toJson());
    } else {
      session.out().print(withNewline(report.renderTable(verbose)));
      if (!response.getFromDocuments()) {
        session.out().println("(from inline hashes only: the golden documents were not captured)");
      }
    }
    return report.match() ? ExitCode.OK : ExitCode.CONDITION_NOT_MET;
  }

  /** The verbose table of an incident's diff, for diff_analysis.txt. */
  static String renderIncident(Session session, String incidentId) {
    DiffResponse response = fetch(session, DiffRequest.newBuilder().setIncidentId(incidentId).build());
    String text = withNewline(DiffReport.fromJson(response.getReportJson()).renderTable(true));
    return response.getFromDocuments() ? text : text + "(from inline hashes only: the golden documents were not captured)\n";
  }

  private static String withNewline(String s) {
    return s.endsWith("\n") ? s : s + "\n";
  }
}
