package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.proto.v1.AgentInfo;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.WatchEvent;
import dev.lockstep.proto.v1.WatchRequest;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.util.Iterator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lockstep watch}: incidents, stop changes and agent connections as they happen. */
@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    header = "Stream incidents, stop and agent changes until Ctrl-C.",
    description = {
      "Prints one line per event as the collector sees it: an incident opened or changed, a new"
          + " stop state or new confirmations, an agent connecting or disconnecting. --current"
          + " first prints the open incidents and the stop state. Runs until Ctrl-C, until"
          + " --count events were printed, or until the collector goes away (exit 3).",
      "",
      "With -o json prints one WatchEvent message per line (JSON Lines)."
    },
    footer = {"  lockstep watch --current", "  lockstep watch -o json | jq -c .incident"})
final class WatchCommand extends OnlineCommand {
  @Option(names = "--current", description = "First print the current open incidents and stop state.")
  boolean current;

  @Option(names = "--count", paramLabel = "N", description = "Exit after N events.")
  Integer count;

  @Override
  int run(Session session) {
    Context.CancellableContext context = Context.current().withCancellation();
    Thread cancelOnExit = new Thread(() -> context.cancel(null), "lockstep-watch-cancel");
    Runtime.getRuntime().addShutdownHook(cancelOnExit);
    try {
      return context.call(() -> stream(session));
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.CANCELLED) {
        return ExitCode.OK;
      }
      throw e;
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      context.cancel(null);
      try {
        Runtime.getRuntime().removeShutdownHook(cancelOnExit);
      } catch (IllegalStateException shuttingDown) {
        // the JVM is exiting (Ctrl-C): the hook runs anyway
      }
    }
  }

  private int stream(Session session) {
    Iterator<WatchEvent> events =
        session.connection().operatorWithoutDeadline().watch(WatchRequest.newBuilder().setIncludeCurrent(current).build());
    PrintWriter out = session.out();
    int seen = 0;
    while ((count == null || seen < count) && events.hasNext()) {
      WatchEvent event = events.next();
      out.println(session.json() ? Session.Json.compact(event) : line(event));
      out.flush();
      seen++;
    }
    return ExitCode.OK;
  }

  static String line(WatchEvent e) {
    String at = Texts.time(e.getAt());
    switch (e.getEventCase()) {
      case INCIDENT: {
        Incident i = e.getIncident();
        return at + "  incident " + i.getId() + " " + i.getSeverity() + " " + i.getState() + " " + i.getKind()
            + (i.getCategory().isEmpty() ? "" : " " + i.getCategory())
            + (i.getWorkflow().isEmpty() ? "" : " " + i.getWorkflow())
            + " x" + i.getCount() + ": " + i.getTitle();
      }
      case STOP: {
        StopStatus s = e.getStop();
        return at + "  stop " + Texts.stopSummary(s) + " [" + StatusCommand.confirmations(s) + "]";
      }
      case AGENT: {
        AgentInfo a = e.getAgent();
        return at + "  agent " + a.getAgentId() + " " + a.getConnection()
            + (a.getRemoteAddress().isEmpty() ? "" : " from " + a.getRemoteAddress());
      }
      default:
        return at + "  (unknown event)";
    }
  }
}
