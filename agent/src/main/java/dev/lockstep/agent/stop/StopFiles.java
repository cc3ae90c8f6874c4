package dev.lockstep.agent.stop;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.lockstep.agent.internal.AtomicFiles;
import dev.lockstep.agent.internal.Json;
import dev.lockstep.agent.internal.ProtoTime;
import dev.lockstep.proto.lite.v1.StopAck;
import dev.lockstep.proto.lite.v1.StopMode;
import dev.lockstep.proto.lite.v1.StopOrder;
import dev.lockstep.proto.lite.v1.StopScope;
import dev.lockstep.proto.lite.v1.StopState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;

/**
 * The two files the stop rests on, written atomically (temp + fsync + rename + dir fsync): the
 * stop file that workloads and operators look at (present = STOPPED) and the agent's own state
 * file. Both carry the local sequence number of the enactment that wrote them.
 */
final class StopFiles {
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

  Path stateFile() {
    return stateFile;
  }

  /**
   * A stop file read at start-up: its state (null when unreadable), sequence, and whether this
   * agent wrote it (a readable file naming this agent's id).
   */
  record Found(StopState state, long localSeq, String problem, boolean ours) {}

  void writeStopFile(StopState s, long localSeq, boolean local) throws IOException {
    AtomicFiles.write(stopFile, Json.pretty(g -> {
      g.writeStartObject();
      stateFields(g, s);
      g.writeNumberField("local_seq", localSeq);
      g.writeBooleanField("failsafe", local);
      g.writeStringField("agent_id", agentId);
      g.writeStringField("written_at", clock.instant().toString());
      g.writeEndObject();
    }));
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
      Object n = Json.parse(Files.readAllBytes(stopFile));
      if (!(n instanceof Map)) throw new IOException("not a JSON object");
      return new Found(stateFrom(n), Json.number(n, "local_seq", 0), null,
          agentId.equals(Json.text(n, "agent_id", "")));
    } catch (IOException | RuntimeException e) {
      return new Found(null, 0, e.getMessage(), false);
    }
  }

  void writeState(EnactedStop e) throws IOException {
    AtomicFiles.write(stateFile, Json.pretty(g -> {
      g.writeStartObject();
      g.writeObjectFieldStart("state");
      stateFields(g, e.state());
      g.writeEndObject();
      g.writeBooleanField("done", e.done());
      g.writeBooleanField("local", e.local());
      g.writeNumberField("local_seq", e.localSeq());
      g.writeObjectFieldStart("ack");
      g.writeBooleanField("enacted", e.ack().getEnacted());
      g.writeBooleanField("verified", e.ack().getVerified());
      g.writeStringField("detail", e.ack().getDetail());
      g.writeStringField("enacted_at", ProtoTime.toInstant(e.ack().getEnactedAt()).toString());
      g.writeEndObject();
      g.writeEndObject();
    }));
  }

  /** The state file; null when absent; throws when unreadable. */
  EnactedStop readState() throws IOException {
    if (!Files.exists(stateFile)) return null;
    Object n = Json.parse(Files.readAllBytes(stateFile));
    if (!Json.has(n, "state")) throw new IOException(stateFile + ": no \"state\"");
    StopState s = stateFrom(Json.map(n, "state"));
    Map<String, Object> a = Json.map(n, "ack");
    StopAck ack = StopAck.newBuilder().setGeneration(s.getGeneration()).setMode(s.getMode())
        .setEnacted(Json.bool(a, "enacted")).setVerified(Json.bool(a, "verified"))
        .setDetail(Json.text(a, "detail", ""))
        .setEnactedAt(ProtoTime.of(Instant.parse(Json.text(a, "enacted_at", Instant.EPOCH.toString()))))
        .build();
    return new EnactedStop(s, ack, Json.bool(n, "done"), Json.bool(n, "local"), Json.number(n, "local_seq", 0));
  }

  /** The fields of a stop state, written into the object the generator is in. */
  static void stateFields(JsonGenerator g, StopState s) throws IOException {
    g.writeNumberField("generation", s.getGeneration());
    g.writeStringField("mode", s.getMode().name());
    g.writeStringField("reason", s.getReason());
    g.writeStringField("changed_by", s.getChangedBy());
    if (s.hasChangedAt()) g.writeStringField("changed_at", ProtoTime.toInstant(s.getChangedAt()).toString());
    g.writeArrayFieldStart("orders");
    for (StopOrder o : s.getOrdersList()) {
      g.writeStartObject();
      g.writeStringField("id", o.getId());
      g.writeObjectFieldStart("scope");
      switch (o.getScope().getTargetCase()) {
        case WORKFLOW -> g.writeStringField("workflow", o.getScope().getWorkflow());
        case AGENT_ID -> g.writeStringField("agent_id", o.getScope().getAgentId());
        default -> g.writeBooleanField("fleet", true);
      }
      g.writeEndObject();
      g.writeStringField("reason", o.getReason());
      g.writeStringField("incident_id", o.getIncidentId());
      g.writeStringField("issued_by", o.getIssuedBy());
      if (o.hasIssuedAt()) g.writeStringField("issued_at", ProtoTime.toInstant(o.getIssuedAt()).toString());
      if (!o.getAdoptedFrom().isEmpty()) g.writeStringField("adopted_from", o.getAdoptedFrom());
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeArrayFieldStart("released_order_ids");
    for (String id : s.getReleasedOrderIdsList()) g.writeString(id);
    g.writeEndArray();
  }

  static StopState stateFrom(Object n) {
    StopState.Builder b = StopState.newBuilder().setGeneration(Json.number(n, "generation", 0))
        .setMode(StopMode.valueOf(Json.text(n, "mode", "STOPPED")))
        .setReason(Json.text(n, "reason", "")).setChangedBy(Json.text(n, "changed_by", ""));
    if (Json.has(n, "changed_at")) {
      b.setChangedAt(ProtoTime.of(Instant.parse(Json.text(n, "changed_at", ""))));
    }
    for (Object on : Json.list(n, "orders")) {
      StopOrder.Builder o = StopOrder.newBuilder().setId(Json.text(on, "id", ""))
          .setReason(Json.text(on, "reason", "")).setIncidentId(Json.text(on, "incident_id", ""))
          .setIssuedBy(Json.text(on, "issued_by", "")).setAdoptedFrom(Json.text(on, "adopted_from", ""));
      Map<String, Object> sc = Json.map(on, "scope");
      if (sc.containsKey("workflow")) {
        o.setScope(StopScope.newBuilder().setWorkflow(Json.text(sc, "workflow", "")));
      } else if (sc.containsKey("agent_id")) {
        o.setScope(StopScope.newBuilder().setAgentId(Json.text(sc, "agent_id", "")));
      } else {
        o.setScope(StopScope.newBuilder().setFleet(true));
      }
      if (Json.has(on, "issued_at")) o.setIssuedAt(ProtoTime.of(Instant.parse(Json.text(on, "issued_at", ""))));
      b.addOrders(o);
    }
    for (Object r : Json.list(n, "released_order_ids")) b.addReleasedOrderIds(String.valueOf(r));
    return b.build();
  }
}
