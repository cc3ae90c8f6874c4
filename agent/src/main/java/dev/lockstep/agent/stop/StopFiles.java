package dev.lockstep.agent.stop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.agent.internal.AtomicFiles;
import dev.lockstep.agent.internal.ProtoTime;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;

/**
 * The two files the stop rests on, written atomically (temp + fsync + rename + dir fsync): the
 * stop file that workloads and operators look at (present = STOPPED) and the agent's own state
 * file. Both carry the local sequence number of the enactment that wrote them.
 */
final class StopFiles {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path stopFile;
  private final Path stateFile;
  private final String agentId;
  private final Clock clock;

  StopFiles(Path stopFile, Path stateFile, String agentId, Clock clock) {
    this.stopFile = stopFile;
    this.stateFile = stateFile;
    this.agentId = agentId;
    this.clock = clock;
  }

  Path stopFile() {
    return stopFile;
  }

  /** A stop file read at start-up: its state (null when unreadable) and sequence. */
  record Found(StopState state, long localSeq, String problem) {}

  void writeStopFile(StopState s, long localSeq, boolean local) throws IOException {
    ObjectNode n = stateJson(s);
    n.put("local_seq", localSeq);
    n.put("failsafe", local);
    n.put("agent_id", agentId);
    n.put("written_at", clock.instant().toString());
    AtomicFiles.write(stopFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n));
  }

  boolean stopFileExists() {
    return Files.exists(stopFile);
  }

  void deleteStopFile() throws IOException {
    AtomicFiles.delete(stopFile);
  }

  /** The stop file, or null when there is none. */
  Found readStopFile() {
    if (!Files.exists(stopFile)) return null;
    try {
      JsonNode n = JSON.readTree(Files.readAllBytes(stopFile));
      if (n == null || !n.isObject()) throw new IOException("not a JSON object");
      return new Found(stateFrom(n), n.path("local_seq").asLong(0), null);
    } catch (IOException | RuntimeException e) {
      return new Found(null, 0, e.getMessage());
    }
  }

  void writeState(EnactedStop e) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.set("state", stateJson(e.state()));
    n.put("done", e.done());
    n.put("local", e.local());
    n.put("local_seq", e.localSeq());
    ObjectNode a = n.putObject("ack");
    a.put("enacted", e.ack().getEnacted());
    a.put("verified", e.ack().getVerified());
    a.put("detail", e.ack().getDetail());
    a.put("enacted_at", ProtoTime.toInstant(e.ack().getEnactedAt()).toString());
    AtomicFiles.write(stateFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n));
  }

  /** The state file; null when absent; throws when unreadable. */
  EnactedStop readState() throws IOException {
    if (!Files.exists(stateFile)) return null;
    JsonNode n = JSON.readTree(Files.readAllBytes(stateFile));
    if (n == null || !n.has("state")) throw new IOException(stateFile + ": no \"state\"");
    StopState s = stateFrom(n.path("state"));
    JsonNode a = n.path("ack");
    StopAck ack = StopAck.newBuilder().setGeneration(s.getGeneration()).setMode(s.getMode())
        .setEnacted(a.path("enacted").asBoolean()).setVerified(a.path("verified").asBoolean())
        .setDetail(a.path("detail").asText(""))
        .setEnactedAt(ProtoTime.of(Instant.parse(a.path("enacted_at").asText(Instant.EPOCH.toString()))))
        .build();
    return new EnactedStop(s, ack, n.path("done").asBoolean(), n.path("local").asBoolean(),
        n.path("local_seq").asLong(0));
  }

  static ObjectNode stateJson(StopState s) {
    ObjectNode n = JSON.createObjectNode();
    n.put("generation", s.getGeneration());
    n.put("mode", s.getMode().name());
    n.put("reason", s.getReason());
    n.put("changed_by", s.getChangedBy());
    if (s.hasChangedAt()) n.put("changed_at", ProtoTime.toInstant(s.getChangedAt()).toString());
    ArrayNode orders = n.putArray("orders");
    for (StopOrder o : s.getOrdersList()) {
      ObjectNode on = orders.addObject();
      on.put("id", o.getId());
      ObjectNode scope = on.putObject("scope");
      switch (o.getScope().getTargetCase()) {
        case WORKFLOW -> scope.put("workflow", o.getScope().getWorkflow());
        case AGENT_ID -> scope.put("agent_id", o.getScope().getAgentId());
        default -> scope.put("fleet", true);
      }
      on.put("reason", o.getReason());
      on.put("incident_id", o.getIncidentId());
      on.put("issued_by", o.getIssuedBy());
      if (o.hasIssuedAt()) on.put("issued_at", ProtoTime.toInstant(o.getIssuedAt()).toString());
      if (!o.getAdoptedFrom().isEmpty()) on.put("adopted_from", o.getAdoptedFrom());
    }
    ArrayNode released = n.putArray("released_order_ids");
    s.getReleasedOrderIdsList().forEach(released::add);
    return n;
  }

  static StopState stateFrom(JsonNode n) {
    StopState.Builder b = StopState.newBuilder().setGeneration(n.path("generation").asLong())
        .setMode(StopMode.valueOf(n.path("mode").asText("STOPPED")))
        .setReason(n.path("reason").asText("")).setChangedBy(n.path("changed_by").asText(""));
    if (n.hasNonNull("changed_at")) {
      b.setChangedAt(ProtoTime.of(Instant.parse(n.get("changed_at").asText())));
    }
    for (JsonNode on : n.path("orders")) {
      StopOrder.Builder o = StopOrder.newBuilder().setId(on.path("id").asText(""))
          .setReason(on.path("reason").asText("")).setIncidentId(on.path("incident_id").asText(""))
          .setIssuedBy(on.path("issued_by").asText("")).setAdoptedFrom(on.path("adopted_from").asText(""));
      JsonNode sc = on.path("scope");
      if (sc.has("workflow")) {
        o.setScope(StopScope.newBuilder().setWorkflow(sc.get("workflow").asText()));
      } else if (sc.has("agent_id")) {
        o.setScope(StopScope.newBuilder().setAgentId(sc.get("agent_id").asText()));
      } else {
        o.setScope(StopScope.newBuilder().setFleet(true));
      }
      if (on.hasNonNull("issued_at")) o.setIssuedAt(ProtoTime.of(Instant.parse(on.get("issued_at").asText())));
      b.addOrders(o);
    }
    for (JsonNode r : n.path("released_order_ids")) b.addReleasedOrderIds(r.asText());
    return b.build();
  }
}
